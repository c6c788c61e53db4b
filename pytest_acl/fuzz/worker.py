"""The process that runs a fuzz budget, under a watchdog.

A call that never returns, or a fault that kills the interpreter, cannot be judged from
inside: so ``pytest-acl fuzz`` runs the inputs here, in a child. Before each input the
worker writes the index in flight into ``.inflight`` (in place: the parent regenerates the
input from the seed and index) and re-arms faulthandler's watchdog — a C thread that needs
no GIL — which writes every thread's stack to ``.watchdog.txt`` and ends the process when
the input passes the hang timeout (fatal signals write there too). The parent
(command.py) turns that into a ``hang`` or ``crash`` finding and starts a new worker after
the input. The worker's report is written every ``FLUSH_EVERY`` inputs and at the end, so a
killed worker loses no counted finding.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import os
import sys
from pathlib import Path

from pytest_acl.fuzz.bases import catalog_bases, sample_bases
from pytest_acl.fuzz.runner import Fuzzer, FuzzInput, Report

FLUSH_EVERY = 250
PROGRESS_EVERY = 1000
INFLIGHT = ".inflight"  # the index of the input running
WATCHDOG = ".watchdog.txt"


def _write_json(path: Path, values: object) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(values, default=str))
    temporary.replace(path)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pytest_acl.fuzz.worker")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--start", type=int, required=True)
    parser.add_argument("--stop", type=int, required=True)
    parser.add_argument("--skip", type=int, action="append", default=[])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bases", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--targets", nargs="*")
    parser.add_argument("--cann")
    parser.add_argument("--call-limit", type=float, required=True)
    parser.add_argument("--hang-timeout", type=float, required=True)
    parser.add_argument("--memory-limit", type=int, required=True)
    parser.add_argument("--keep", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    out: Path = args.out
    bases = catalog_bases(args.bases) + sample_bases()
    watchdog = (out / WATCHDOG).open("w")
    faulthandler.enable(watchdog, all_threads=True)
    report = Report(args.seed, args.start)

    def flush(next_index: int) -> None:
        values = report.as_json()
        values["next"] = next_index
        _write_json(args.report, values)

    with Fuzzer(bases, args.seed, targets=args.targets or None, out=out, cann=args.cann,
                call_limit=args.call_limit, memory_limit=args.memory_limit << 20,
                keep=args.keep) as fuzzer:

        inflight = os.open(out / INFLIGHT, os.O_RDWR | os.O_CREAT, 0o644)

        def on_input(item: FuzzInput) -> None:
            os.pwrite(inflight, b"%20d\n" % item.index, 0)
            faulthandler.dump_traceback_later(args.hang_timeout, exit=True, file=watchdog)

        def on_done(item: FuzzInput) -> None:
            faulthandler.cancel_dump_traceback_later()  # the watchdog watches inputs only
            os.pwrite(inflight, b"%20d\n" % -1, 0)

        fuzzer.on_input, fuzzer.on_done = on_input, on_done
        index = args.start
        while index < args.stop:
            chunk_end = min(args.stop, index + FLUSH_EVERY)
            for run_start, run_stop in _ranges(index, chunk_end, set(args.skip)):
                fuzzer.run(run_stop - run_start, run_start, report)
            index = chunk_end
            flush(index)
            if index % PROGRESS_EVERY == 0 or index == args.stop:
                print(f"fuzz: input {index} of {args.stop}, {report.findings} findings so far",
                      file=sys.stderr, flush=True)
    faulthandler.disable()
    os.close(inflight)
    watchdog.close()
    with contextlib.suppress(OSError):
        (out / INFLIGHT).unlink()
        (out / WATCHDOG).unlink()
    return 0


def _ranges(start: int, stop: int, skip: set[int]) -> list[tuple[int, int]]:
    """[start, stop) without the skipped indexes, as runs of consecutive indexes."""
    runs, begin = [], start
    for index in sorted(i for i in skip if start <= i < stop):
        if begin < index:
            runs.append((begin, index))
        begin = index + 1
    if begin < stop:
        runs.append((begin, stop))
    return runs


if __name__ == "__main__":
    raise SystemExit(main())
