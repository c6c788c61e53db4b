"""``pytest suites -n 2`` against the serial run, at the quick level, on the same machine in
the same run (the fixture catalog built once beforehand, so neither pays for it).

Target (issue: parallel that pays): serial wall time ÷ ``-n 2`` wall time ≥ 1.6 on 2 cores
(median of the rounds). Also printed: the CPU time each uses, so a regression in per-worker
start-up or per-test overhead shows up as the second number growing.

Run: ``python benchmarks/bench_parallel_suite.py`` (exit status 1 when the target is missed).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
TARGET = 1.6


def run(model_dir: Path, reports: Path, *extra: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the run and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly",
         "--acl-model-dir", str(model_dir), "--acl-report-dir", str(reports), *extra],
        cwd=ROOT, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"the suite failed:\n{result.stdout[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    from pytest_acl.models.build import build_catalog

    with tempfile.TemporaryDirectory() as directory:
        models, reports = Path(directory) / "models", Path(directory) / "reports"
        build_catalog(models, log=lambda line: None)
        run(models, reports)  # warm the caches
        serial, parallel = [], []
        for _ in range(ROUNDS):
            serial.append(run(models, reports))
            parallel.append(run(models, reports, "-n", "2"))
    ratio = statistics.median(w for w, _ in serial) / statistics.median(w for w, _ in parallel)
    print(f"quick suite, median of {ROUNDS}: serial {statistics.median(w for w, _ in serial):.2f}"
          f" s wall ({statistics.median(c for _, c in serial):.2f} s CPU), -n 2 "
          f"{statistics.median(w for w, _ in parallel):.2f} s wall "
          f"({statistics.median(c for _, c in parallel):.2f} s CPU) → {ratio:.2f}× "
          f"(target ≥ {TARGET}×)")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
