"""Qualification bundles and ``pytest-acl verify``; ``pytest-acl merge`` over runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pytest_acl.results.compare import load_run


INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")
SCRIPT = Path(sys.executable).with_name("pytest-acl")
CATALOG = textwrap.dedent("""
    [[clause]]
    id = "demo.one"
    api = "x"
    source = "s"
    level = "must"
    text = "one"

    [[clause]]
    id = "demo.two"
    api = "x"
    source = "s"
    level = "must"
    text = "two"
""")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def run(pytester, body: str, *extra: str) -> Path:
    pytester.makefile(".toml", clauses=CATALOG)
    pytester.makepyfile(test_q=textwrap.dedent(body))
    out = pytester.path / f"out{len(list(pytester.path.glob('out*')))}"
    pytester.runpytest(*INNER, "--acl-report-dir", str(out), *extra)
    (directory,) = list(out.iterdir())
    return directory


COMPLETE = """
    import pytest

    @pytest.mark.acl_clause("demo.one")
    def test_one():
        pass

    @pytest.mark.acl_clause("demo.two")
    def test_two():
        pass
"""


def test_full_runs_write_a_bundle_that_verifies(pytester):
    directory = run(pytester, COMPLETE, "--acl-level", "full")
    bundle = json.loads((directory / "qualification.json").read_text())
    assert set(bundle["files"]) == {"results.jsonl", "report.html", "clauses.toml"}
    result = cli("verify", str(directory))
    assert result.returncode == 0 and result.stdout.startswith("verdict: CONFORMANT")


def test_quick_runs_are_never_valid(pytester):
    directory = run(pytester, COMPLETE)
    result = cli("verify", str(directory))
    assert result.returncode == 1 and "no qualification.json" in result.stdout


def test_an_incomplete_or_failing_or_edited_run(pytester):
    incomplete = run(pytester, COMPLETE.replace('"demo.two"', '"demo.one"'), "--acl-level", "full")
    result = cli("verify", str(incomplete))
    assert "verdict: INVALID" in result.stdout and "never exercised: demo.two" in result.stdout
    failing = run(pytester, COMPLETE.replace("pass\n\n    @pytest", "assert 0\n\n    @pytest", 1),
                  "--acl-level", "full")
    result = cli("verify", str(failing))
    assert result.returncode == 1 and "verdict: NOT CONFORMANT" in result.stdout
    assert "failed: test_q.py::test_one" in result.stdout
    edited = run(pytester, COMPLETE, "--acl-level", "full")
    with (edited / "results.jsonl").open("a") as stream:
        stream.write("\n")
    assert "hash mismatch" in cli("verify", str(edited)).stdout


def test_the_expectation_file_used_is_part_of_the_bundle(pytester):
    pytester.makefile(".toml", expect='[[expectation]]\nmatch = "x"\nreason = "r"\n'
                                      'expires = 2999-01-01\n')
    directory = run(pytester, COMPLETE, "--acl-level", "full", "--acl-expectations",
                    "expect.toml")
    bundle = json.loads((directory / "qualification.json").read_text())
    assert bundle["expectations"] == "expectations.toml" and "expectations.toml" in bundle["files"]


def test_merge_keeps_sources_and_hosts(pytester):
    first = run(pytester, COMPLETE)
    second = run(pytester, COMPLETE.replace("pass\n", "assert 0\n", 1))
    out = pytester.path / "merged"
    result = cli("merge", str(first), str(second), "--out", str(out), "--clauses",
                 str(pytester.path / "clauses.toml"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert lines[0]["type"] == "header" and len(lines[0]["merged_from"]) == 2
    assert {r["source"]["run_id"] for r in lines[1:]} == {first.name, second.name}
    assert len(lines) == 5 and (out / "report.html").is_file()
    assert len(load_run(out)[1]) == 4  # both hosts' records of each test are kept apart
    assert "FAIL" in (out / "report.html").read_text()


def test_verify_and_merge_report_unreadable_runs(tmp_path):
    assert cli("verify", str(tmp_path)).returncode == 1
    result = cli("merge", str(tmp_path), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "no results.jsonl" in result.stderr
