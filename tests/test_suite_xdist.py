"""``pytest suites -n 2`` gives the same outcome for every test as a single process."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

# Whole-suite runs in subprocesses: more than the default per-test limit on a slow machine.
pytestmark = [pytest.mark.whole_suite, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent


def outcomes(model_dir: Path, report: Path, *extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_ACL_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
         "--acl-model-dir", str(model_dir), f"--junitxml={report}",
         "--acl-report-dir", str(report.parent / "reports"), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    found = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        kind = next((child.tag for child in case if child.tag in ("failure", "error",
                                                                  "skipped")), "passed")
        found[f"{case.get('classname')}::{case.get('name')}"] = kind
    return found


def test_two_workers_give_the_same_outcomes(built_catalog, tmp_path):
    single = outcomes(built_catalog[0], tmp_path / "single.xml")
    parallel = outcomes(built_catalog[0], tmp_path / "parallel.xml", "-n", "2",
                        "--acl-devices", "0,1")
    assert len(single) > 200
    assert parallel == single
