"""``pytest-acl fuzz``: run a budget in watched workers, report, and replay one finding.

The parent builds the fixture models once (``OUT/bases``, or ``--models DIR``), runs the
inputs in a worker process (worker.py) and, when a worker dies — its watchdog ended a hung
input, or a fault killed it — records the input in flight as a ``hang`` or ``crash`` finding
and starts a new worker after it. At the end it writes ``OUT/summary.json`` and prints the
groups of findings, each with a one-line reproducer, then the summary line; the exit status
is 1 when there are findings.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from pytest_acl.fuzz import findings as fnd
from pytest_acl.fuzz.runner import Report
from pytest_acl.fuzz.worker import INFLIGHT, WATCHDOG

SHOWN_PER_GROUP = 1


def _bases(args: argparse.Namespace, out: Path) -> Path:
    from pytest_acl.fuzz.bases import build_bases, catalog_bases

    if args.models:
        directory = Path(args.models)
        catalog_bases(directory)  # a clear error now, not in the worker
        return directory
    directory = out / "bases"
    print(f"fuzz: building the fixture models into {directory}", flush=True)
    build_bases(directory)
    return directory


def _worker(args: argparse.Namespace, out: Path, bases: Path, start: int, stop: int,
            skip: list[int], report: Path) -> int:
    command = [sys.executable, "-m", "pytest_acl.fuzz.worker", "--seed", str(args.seed),
               "--start", str(start), "--stop", str(stop), "--out", str(out),
               "--bases", str(bases), "--report", str(report),
               "--call-limit", str(args.call_limit), "--hang-timeout", str(args.hang_timeout),
               "--memory-limit", str(args.memory_limit), "--keep", str(args.keep),
               *(arg for index in skip for arg in ("--skip", str(index)))]
    if args.targets:
        command += ["--targets", *args.targets]
    if args.cann:
        command += ["--cann", args.cann]
    return subprocess.call(command)


def _died(args: argparse.Namespace, out: Path, bases: Path,
          returncode: int) -> fnd.Finding | None:
    """The input a dead worker was running (made again from the seed and its index), as a
    hang or crash finding."""
    from pytest_acl.fuzz.bases import catalog_bases, sample_bases
    from pytest_acl.fuzz.runner import Fuzzer

    try:
        index = int((out / INFLIGHT).read_text())
    except (OSError, ValueError):
        return None
    if index < 0:  # between inputs: the harness's failure, not an input's
        return None
    with Fuzzer(catalog_bases(bases) + sample_bases(), args.seed, targets=args.targets,
                cann=args.cann) as fuzzer:
        item = fuzzer.make_input(index)
    try:
        stacks = (out / WATCHDOG).read_text(errors="replace")
    except OSError:
        stacks = ""
    hang = "Timeout" in stacks
    where = _stuck_at(stacks)
    if hang:
        what = f"the input passed the hang timeout ({args.hang_timeout:g} s)"
    elif returncode < 0:
        what = f"the worker was killed by signal {-returncode}"
    else:
        what = f"the worker exited with status {returncode}"
    first = stacks.strip().splitlines()[0] if stacks.strip() else ""
    return fnd.Finding("hang" if hang else "crash", f"{what}: {first}" if first else what,
                       seed=args.seed, index=index, base=item.base, steps=item.steps,
                       target=item.target, target_seed=item.target_seed, where=where,
                       traceback=stacks, data=item.data,
                       key=f"{item.target}: {re.sub(r' [(].*', '', what)}")


def _stuck_at(stacks: str) -> str:
    """The innermost project frame of the thread that was running the input (the one whose
    stack goes through the runner), from faulthandler's dump (which a moving thread can cut
    short); the innermost frame at all when the input was in the harness's own code."""
    threads = [b for b in re.split(r"\n(?=(?:Current thread|Thread) 0x)", stacks)
               if b.startswith(("Current thread", "Thread"))]
    # The runner's thread; if the dump was cut short, the oldest thread (listed last): main.
    running = [b for b in threads if "pytest_acl/fuzz/runner.py" in b] or threads[-1:] or [""]
    frames = re.findall(r'File "([^"]*pytest_acl/(?!fuzz/)[^"]*)", line (\d+)', running[0]) \
        or re.findall(r'File "([^"]*)", line (\d+)', running[0])  # stuck in the harness
    if not frames:
        return ""
    path, line = frames[0]
    at = path.rfind("pytest_acl/")
    return f"{path[at:] if at >= 0 else path}:{line}"


def run_budget(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"pytest-acl fuzz: --out {out} is not a directory; give a directory for the "
              "findings (it is made if missing)", file=sys.stderr)
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
        bases = _bases(args, out)
    except (OSError, ValueError) as exc:
        print(f"pytest-acl fuzz: {exc}", file=sys.stderr)
        return 2
    total = Report(args.seed, args.start)
    began = time.perf_counter()
    start, stop = args.start, args.start + args.count
    skip: list[int] = []
    report_file = out / ".worker-report.json"
    while start < stop:
        report_file.unlink(missing_ok=True)
        (out / INFLIGHT).unlink(missing_ok=True)
        returncode = _worker(args, out, bases, start, stop, skip, report_file)
        done = start
        if report_file.is_file():
            values = json.loads(report_file.read_text())
            total.merge(Report.from_json(values))
            done = values["next"]
        if returncode == 0:
            break
        finding = _died(args, out, bases, returncode)
        if finding is None:
            print(f"pytest-acl fuzz: the worker failed (exit status {returncode}) outside "
                  "any input", file=sys.stderr)
            return 2
        total.add(finding, out, args.keep)
        total.inputs += 1
        total.per_target[finding.target] += 1
        print(f"fuzz: input {finding.index} {finding.kind}: {finding.message}; continuing "
              "after it", file=sys.stderr, flush=True)
        start, skip = done, [*skip, finding.index]
    total.seconds = time.perf_counter() - began
    report_file.unlink(missing_ok=True)
    summary = out / "summary.json"
    summary.write_text(json.dumps(total.as_json(), indent=2, default=str) + "\n")
    for group in fnd.order(total.groups):
        example = group.examples[0] if group.examples else None
        print(f"{group.count:6d}  {group.signature}")
        if example is not None:
            print(f"        e.g. input {example.index} ({example.target}, {example.base}: "
                  f"{'; '.join(example.steps)[:160]})")
            print(f"        {example.reproducer}")
    print(total.summary_line())
    print(f"fuzz: summary in {summary}" + (f", findings in {out / 'findings'}"
                                           if total.groups else ""))
    return 1 if total.groups else 0


def replay(args: argparse.Namespace) -> int:
    """Run a saved finding's input again (a fresh simulator); exit 1 if it still finds."""
    from pytest_acl.fuzz.runner import Fuzzer

    record = Path(args.replay)
    try:
        saved = fnd.load(record)
    except (OSError, ValueError, TypeError) as exc:
        print(f"pytest-acl fuzz: cannot replay {record}: {exc}", file=sys.stderr)
        return 2
    print(f"replay: input {saved.index} of seed {saved.seed}: {saved.target} on "
          f"{saved.base} ({'; '.join(saved.steps)})")
    print(f"recorded: {saved.signature}")
    faulthandler.dump_traceback_later(args.hang_timeout, exit=True)
    try:
        with Fuzzer([], saved.seed, cann=args.cann or saved.cann or None,
                    call_limit=args.call_limit, memory_limit=args.memory_limit << 20) as fuzzer:
            found = fuzzer.replay(saved)
    finally:
        faulthandler.cancel_dump_traceback_later()
    for finding in found:
        print(f"found: {finding.signature}\n  {finding.message}")
        if finding.traceback:
            print("  " + finding.traceback.rstrip().replace("\n", "\n  "))
    if not found:
        print("replay: no finding (fixed?)")
    elif any(f.signature == saved.signature for f in found):
        print("replay: reproduced")
    return 1 if found else 0


def main(args: argparse.Namespace) -> int:
    return replay(args) if args.replay else run_budget(args)
