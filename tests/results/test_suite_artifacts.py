"""A simulator run of the suite leaves every artifact: JSONL, terminal matrix, report.html,
allure results and JUnit XML."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_suite_run_writes_every_view(built_catalog, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_ACL_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/test_config.py", "suites/test_lifecycle.py",
         "-p", "no:cacheprovider", "--acl-model-dir", str(built_catalog[0]),
         "--acl-report-dir", str(tmp_path / "reports"), "--alluredir", str(tmp_path / "allure"),
         "--junitxml", str(tmp_path / "junit.xml")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "acl conformance matrix" in result.stdout
    matrix = result.stdout.split("acl conformance matrix", 1)[1]
    assert any(line.split()[:2] == ["config", "-"] for line in matrix.splitlines())
    assert any(line.split()[:2] == ["lifecycle", "-"] for line in matrix.splitlines())
    passed = int(re.search(r"(\d+) passed", result.stdout.splitlines()[-1]).group(1))
    assert passed >= 15  # the two files' tests, however many they grow to
    (run,) = list((tmp_path / "reports").iterdir())
    lines = (run / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3 + passed  # header, collection, a record per test, summary
    assert "<table id='matrix'>" in (run / "report.html").read_text()
    assert len(list((tmp_path / "allure").glob("*-result.json"))) == passed
    assert (tmp_path / "allure" / "environment.properties").is_file()
    cases = list(ElementTree.parse(tmp_path / "junit.xml").getroot().iter("testcase"))
    assert len(cases) == passed
    assert all(any(p.get("name") == "acl.clauses" for p in case.iter("property"))
               for case in cases)
