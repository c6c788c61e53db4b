"""``pytest suites -n 2`` against the serial run, at the quick level, on the same machine in
the same run (the fixture catalog built once beforehand, so neither pays for it).

Target (issue: parallel that pays): serial wall time ÷ ``-n 2`` wall time ≥ 1.6 on 2 cores
(median of the rounds). Also printed: the CPU time each uses, so a regression in per-worker
start-up or per-test overhead shows up as the second number growing.

Baseline in the same run — what pytest-xdist itself gets from tests of this size: a generated
suite of as many tests as the conformance suite runs, each doing the same fixed amount of
pure-Python work, sized so its serial run takes as long as the conformance suite's. Nothing in
it is ours and it starts in a fraction of the suite's time, so its ratio is what ``-n 2`` can
give a suite of that many tests and that length on this machine; the conformance suite's ratio
is printed beside it.

Every run caches byte code in a temporary directory (``PYTHONPYCACHEPREFIX``), as a machine
that installed the package with pip does (pip compiles the wheel's modules, pytest caches
the test files it rewrites); with ``PYTHONDONTWRITEBYTECODE`` each of the three ``-n 2``
processes would compile every module again, which no CI machine pays on its second run.

Run: ``python benchmarks/bench_parallel_suite.py`` (exit status 1 when the target is missed).
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5
TARGET = 1.6
SYNTHETIC = '''import pytest


@pytest.mark.parametrize("index", range({count}))
def test_work(index):
    total = 0
    for step in range({steps}):
        total += step
    assert total == {expected}
'''


def environment(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(directory / "pycache")
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the run and its children, its output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
                            cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{result.stdout[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


def test_count(output: str) -> int:
    """Tests a run reported (passed and skipped): the size of the generated suite."""
    counts = {word: int(number) for number, word in
              re.findall(r"(\d+) (passed|skipped)", output.splitlines()[-1])}
    return counts.get("passed", 0) + counts.get("skipped", 0)


def steps_per_second() -> float:
    """How many loop steps of the generated test this machine does in a second."""
    steps, start = 2_000_000, time.perf_counter()
    total = 0
    for step in range(steps):
        total += step
    return steps / (time.perf_counter() - start)


def write_synthetic(directory: Path, count: int, steps: int) -> None:
    (directory / "test_synthetic.py").write_text(SYNTHETIC.format(
        count=count, steps=steps, expected=steps * (steps - 1) // 2))


def synthetic_suite(directory: Path, count: int, serial_wall: float, args: list[str],
                    env: dict[str, str]) -> int:
    """Write the generated suite with its loop sized so that its serial run takes as long as
    the conformance suite's (one measured correction after a first guess); its steps."""
    steps = max(int(serial_wall / count * steps_per_second()), 1)
    write_synthetic(directory, count, steps)
    run(args, directory, env)  # warm the caches
    fixed = run([*args, "--collect-only"], directory, env)[0]
    measured = run(args, directory, env)[0]
    steps = max(int(steps * (serial_wall - fixed) / max(measured - fixed, 0.1)), 1)
    write_synthetic(directory, count, steps)
    return steps


def median_pair(runs: list[tuple[float, float, str]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> int:
    from pytest_acl.models.build import build_catalog

    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        models, reports = directory / "models", directory / "reports"
        build_catalog(models, log=lambda line: None)
        env = environment(directory)
        suite = ["suites", "--acl-model-dir", str(models), "--acl-report-dir", str(reports)]
        output = run(suite, ROOT, env)[2]  # warm the caches
        count = test_count(output)
        baseline = directory / "synthetic"
        baseline.mkdir()
        plain = ["-p", "no:cacheprovider", "test_synthetic.py"]
        steps = synthetic_suite(baseline, count, run(suite, ROOT, env)[0], plain, env)
        serial, parallel, synthetic_serial, synthetic_parallel = [], [], [], []
        for _ in range(ROUNDS):  # interleaved: a machine that slows down slows all four
            serial.append(run(suite, ROOT, env))
            parallel.append(run([*suite, "-n", "2"], ROOT, env))
            synthetic_serial.append(run(plain, baseline, env))
            synthetic_parallel.append(run([*plain, "-n", "2"], baseline, env))
        collect_only = statistics.median(run([*suite, "--collect-only"], ROOT, env)[0]
                                         for _ in range(ROUNDS))
    serial_wall, serial_cpu = median_pair(serial)
    parallel_wall, parallel_cpu = median_pair(parallel)
    ratio = serial_wall / parallel_wall
    (base_serial, base_serial_cpu), (base_parallel, base_parallel_cpu) = \
        median_pair(synthetic_serial), median_pair(synthetic_parallel)
    ceiling = base_serial / base_parallel
    print(f"quick suite ({count} tests), median of {ROUNDS}: serial {serial_wall:.2f} s wall "
          f"({serial_cpu:.2f} s CPU; start-up and collection {collect_only:.2f} s), -n 2 "
          f"{parallel_wall:.2f} s wall ({parallel_cpu:.2f} s CPU) → {ratio:.2f}× "
          f"(target ≥ {TARGET}×)")
    print(f"pytest-xdist's own ratio for {count} tests of {steps:,} loop steps each, as long "
          f"serially as the suite: serial {base_serial:.2f} s wall ({base_serial_cpu:.2f} s "
          f"CPU), -n 2 {base_parallel:.2f} s wall ({base_parallel_cpu:.2f} s CPU) → "
          f"{ceiling:.2f}×; the suite gets {ratio / ceiling:.0%} of it")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
