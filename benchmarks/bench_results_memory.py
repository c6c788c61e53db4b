"""Peak memory of ``pytest-acl compare`` on two 200 MB runs, against the file size.

Target (issue 15, results tools): the tools stream their runs, so comparing two 200 MB
``results.jsonl`` files takes at most 200 MB of peak RSS. Measured in one run: the peak RSS
of ``pytest-acl compare`` on the two large runs (a clean run, and the same tests with 1 % of
them failing — with a message, another code and a slower load), the peak RSS of the same
command on two small runs (the interpreter and its imports), and the size of a file.

The runs are written by child processes, in a temporary directory, from records shaped like
the suite's (node id, clauses, axes, codes, timings; a failing test's message).

Run: ``python benchmarks/bench_results_memory.py [MIB]`` (default 200).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("pytest-acl")
CLAUSES = ["load.outputs_match_reference", "load.descriptions_agree_across_load_paths",
           "lifecycle.unload_releases_memory", "context.load_execute_unload_same_context"]
VARIANTS = ("file", "mem", "file_with_mem", "mem_with_mem", "config_mem")


def record(index: int, broken: bool) -> dict:
    failing = broken and index % 100 == 7
    variant = VARIANTS[index % len(VARIANTS)]
    return {
        "type": "test", "outcome": "fail" if failing else "pass",
        "nodeid": f"suites/test_load_variants.py::test_variant_loads_runs_and_unloads["
                  f"default_context-async-{variant}-work_user-weight_system-model{index}]",
        "message": "AssertionError: outputs differ from the reference\n" + "  at frame\n" * 40
        if failing else "",
        "clauses": CLAUSES, "axes": {"context": "default_context", "model": f"model{index}",
                                     "ownership": "work_user-weight_system", "stream": "async",
                                     "variant": variant, "weight": "system", "work": "user"},
        "codes": [{"function": "acl.mdl.load_from_mem_with_mem", "code": 145000 + failing,
                   "name": "ACL_ERROR_GE_PARAM_INVALID"}] if index % 7 == 0 else [],
        "timings": {"load": 0.000355 * (400 if failing else 1), "execute": 0.000117,
                    "unload": 3.3e-05},
        "device": 1, "worker": "main", "duration": 0.005463}


def tests_for(size: int) -> int:
    """How many clean records (and their collection entries) make about ``size`` bytes."""
    count, total = 0, 0
    while total < size:
        total += len(json.dumps(record(count, False), sort_keys=True)) + 1
        total += len(json.dumps(record(count, False)["nodeid"])) + 2
        count += 1
    return count


def write_run(path: Path, count: int, broken: bool) -> None:
    """A complete run of ``count`` tests, written as it is made."""
    with path.open("w") as stream:
        stream.write(json.dumps({"type": "header", "run_id": path.stem, "level": "quick",
                                 "backend": "sim", "host": "bench"}) + "\n")
        stream.write(f'{{"count": {count}, "session": 1, "tests": [')
        stream.write(", ".join(json.dumps(record(index, broken)["nodeid"])
                               for index in range(count)))
        stream.write('], "type": "collection"}\n')
        for index in range(count):
            stream.write(json.dumps(record(index, broken), sort_keys=True) + "\n")
        stream.write(json.dumps({"type": "summary", "session": 1, "verdict": "PASS"}) + "\n")


def make(path: Path, count: int, broken: bool) -> None:
    """``write_run`` in a child process: Linux counts a child's peak RSS from its fork on,
    so this process must stay small for the measurements to be the command's own."""
    subprocess.run([sys.executable, __file__, "--write", str(path), str(count),
                    "broken" if broken else "clean"], check=True)


def peak_of(*args: str) -> tuple[int, int]:
    """(peak RSS in bytes, exit status) of ``pytest-acl ARGS``."""
    process = subprocess.Popen([str(SCRIPT), *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)  # ru_maxrss is in KiB


def main() -> int:
    if sys.argv[1:2] == ["--write"]:
        write_run(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "broken")
        return 0
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    limit = mib * 2**20
    count = tests_for(limit)
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        for name, tests, broken in (("base", count, False), ("new", count, True),
                                    ("small-base", 100, False), ("small-new", 100, True)):
            make(work / f"{name}.jsonl", tests, broken)
        size = (work / "base.jsonl").stat().st_size
        baseline, _ = peak_of("compare", str(work / "small-base.jsonl"),
                              str(work / "small-new.jsonl"))
        peak, status = peak_of("compare", str(work / "base.jsonl"), str(work / "new.jsonl"))
    assert status == 1, f"compare exited {status}; the new run has regressions (expected 1)"
    print(f"{count} tests, {size / 2**20:.0f} MiB per run; compare's peak RSS "
          f"{peak / 2**20:.0f} MiB = {peak / size:.2f}x one file (limit {limit / 2**20:.0f} "
          f"MiB); on two small runs {baseline / 2**20:.0f} MiB")
    return 0 if peak <= limit else 1


if __name__ == "__main__":
    raise SystemExit(main())
