"""The installed plugin in a project that has nothing to do with ACL: 2,000 plain tests run
with pytest-acl installed and with it disabled (``-p no:acl``), interleaved, in the same
environment.

Targets (issue: a dormant plugin):
- wall time with the plugin ≤ 1.02× without it (median of the rounds);
- no ``acl:`` line in the output and no ``reports/`` directory in the project.

Run: ``python benchmarks/bench_dormant_plugin.py`` (exit status 1 when a target is missed).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 9
FILES, TESTS_PER_FILE = 40, 50
TARGET = 1.02


def make_project(root: Path) -> None:
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-q'\n")
    for number in range(FILES):
        body = "".join(f"def test_{number}_{i}():\n    assert {i} + 1 > {i}\n\n"
                       for i in range(TESTS_PER_FILE))
        (root / f"test_module_{number}.py").write_text(body)


def run(root: Path, *extra: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *extra],
                            cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the unrelated suite failed:\n{result.stdout[-2000:]}")
    return seconds, result.stdout


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        make_project(root)
        run(root)  # warm the file system and the byte-code caches
        run(root, "-p", "no:acl")
        plugin, without, outputs = [], [], []
        for _ in range(ROUNDS):
            seconds, output = run(root)
            plugin.append(seconds)
            outputs.append(output)
            without.append(run(root, "-p", "no:acl")[0])
        ratio = statistics.median(plugin) / statistics.median(without)
        header = [line for output in outputs for line in output.splitlines()
                  if line.startswith("acl")]
        reports = (root / "reports").exists()
    print(f"{FILES * TESTS_PER_FILE} unrelated tests, median of {ROUNDS}: "
          f"{statistics.median(plugin):.3f} s with pytest-acl, "
          f"{statistics.median(without):.3f} s with -p no:acl → {ratio:.3f}× (target ≤ "
          f"{TARGET}×); acl lines: {len(header)}; reports/ created: {reports}")
    return 0 if ratio <= TARGET and not header and not reports else 1


if __name__ == "__main__":
    raise SystemExit(main())
