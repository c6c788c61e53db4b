"""Suite sensitivity: the quick conformance suite, run against each defect of the
simulator's registry one at a time, must fail for every one. Prints the kill table
(defect → first failing test). Observed-level clauses count (the runs use
--acl-strict-codes), and the table says which kills came through behaviour drift."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pytest_acl.sim.defects import DEFECTS, FATAL

# Whole-suite runs in subprocesses: more than the default per-test limit on a slow machine.
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parent.parent
# The process-ending and hanging defects are left out: the runner's tests use them.
KILLABLE = [defect for defect in DEFECTS if defect not in FATAL]


def run_suite(model_dir: Path, defect: str | None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_ACL_", "PYTEST_ADDOPTS"))}
    if defect:
        env["PYTEST_ACL_SIM_DEFECTS"] = defect
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-q", "-x", "-p", "no:cacheprovider",
         "--acl-model-dir", str(model_dir), "--acl-strict-codes",
         "-W", "ignore::pytest_acl.sim.sanitizer.HazardWarning"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return result.returncode, result.stdout


def first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" ", 1)[1].split(" - ", 1)[0]
    return "(none)"


def test_every_defect_is_killed_by_the_quick_suite(built_catalog, capsys):
    model_dir = built_catalog[0]
    clean_status, clean_output = run_suite(model_dir, None)
    assert clean_status == 0, "the suite must pass without defects:\n" + clean_output[-3000:]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(KILLABLE, pool.map(lambda d: run_suite(model_dir, d), KILLABLE)))
    rows = []
    for defect, (status, output) in results.items():
        how = "drift" if "behaviour drift" in output else "must"
        rows.append((defect, status != 0, first_failure(output), how))
    width = max(len(d) for d in KILLABLE)
    with capsys.disabled():
        print(f"\nkill table ({len(rows)} defects, quick suite, --acl-strict-codes)")
        for defect, killed, test, how in rows:
            print(f"  {defect:<{width}}  {'killed' if killed else 'SURVIVED'} by {test}"
                  + (f" [{how}]" if killed else ""))
    survivors = [defect for defect, killed, _, _ in rows if not killed]
    assert survivors == [], f"defects the suite does not catch: {survivors}"


@pytest.mark.parametrize("defect", ["model_ids_reused"])
def test_drift_alone_does_not_fail_without_strict_codes(built_catalog, defect):
    """Without --acl-strict-codes an observed-level mismatch is DRIFT, not a failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_ACL_")}
    env["PYTEST_ACL_SIM_DEFECTS"] = defect
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/test_lifecycle.py", "-q", "-p",
         "no:cacheprovider", "--acl-model-dir", str(built_catalog[0]), "-rA"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 drift" in result.stdout and "lifecycle.id_numbering" in result.stdout
