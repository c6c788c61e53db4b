"""Expectation files: matching by test and by clause, SoC and CANN scoping, stale and expired
entries, xpass, waivers, strict mode, and malformed files."""

from __future__ import annotations

import textwrap

import pytest

from pytest_acl.results.expectations import in_range

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")
TESTS = textwrap.dedent("""
    import pytest

    def test_broken():
        assert False, "still broken"

    @pytest.mark.acl_clause("demo.one")
    def test_broken_by_clause():
        assert False

    def test_fixed():
        pass

    def test_waived():
        assert False

    def test_other_soc():
        assert False
""")
CLAUSES = '[[clause]]\nid = "demo.one"\napi = "x"\nsource = "s"\nlevel = "must"\ntext = "t"\n'


def expectations(body: str) -> str:
    return textwrap.dedent(body)


ENTRIES = expectations("""
    [[expectation]]
    match = "test_demo.py::test_broken"
    reason = "bug 1"
    bug = "https://bugs.example/1"
    expires = 2999-01-01

    [[expectation]]
    clause = "demo.one"
    cann = ">=9.0,<10"
    reason = "bug 2"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_fixed"
    reason = "was broken"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_waived"
    kind = "waived"
    reason = "vendor waiver"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_other_soc"
    soc = ["Ascend310P*"]
    reason = "only on 310P"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_nothing_like_this"
    reason = "stale"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_broken"
    reason = "old entry"
    expires = 2000-01-01
""")


@pytest.fixture
def demo(pytester):
    pytester.makepyfile(test_demo=TESTS)
    pytester.makefile(".toml", clauses=CLAUSES)
    pytester.makefile(".toml", expect=ENTRIES)
    return pytester


def test_matching_scoping_and_reporting(demo):
    result = demo.runpytest(*INNER, "--acl-expectations", "expect.toml", "-rxX")
    result.assert_outcomes(xfailed=3, xpassed=1, failed=1)  # other_soc is out of scope
    result.stdout.fnmatch_lines_random([
        "*acl expectations*",
        "expired: line 35: test_demo.py::test_broken (old entry) expired on 2000-01-01",
        "matches nothing: line 30: test_demo.py::test_nothing_like_this (stale)",
        "matches nothing: line 24: test_demo.py::test_other_soc (only on 310P)",
        "passes although expected to fail (remove its entry?): test_demo.py::test_fixed",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # test_other_soc really fails


def test_records_say_known_fail_waived_and_xpass(demo):
    import json

    demo.runpytest(*INNER, "--acl-expectations", "expect.toml", "--acl-report-dir", "out")
    (run,) = list((demo.path / "out").iterdir())
    outcomes = {r["nodeid"].split("::")[1]: r["outcome"] for r in map(
        json.loads, (run / "results.jsonl").read_text().splitlines()) if r["type"] == "test"}
    assert outcomes == {"test_broken": "known_fail", "test_broken_by_clause": "known_fail",
                        "test_fixed": "xpass", "test_waived": "waived", "test_other_soc": "fail"}


def test_strict_mode_fails_on_stale_entries_and_xpass(demo):
    result = demo.runpytest(*INNER, "--acl-expectations", "expect.toml",
                            "--acl-strict-expectations", "-k", "not other_soc")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(xfailed=3, failed=1)  # strict xfail: the xpass is a failure


@pytest.mark.parametrize(("body", "message"), [
    ("[[expectation]]\nmatch = \"x\"\nexpires = 2999-01-01\n", "entry at line 1: missing reason"),
    ("[[expectation]]\nreason = \"r\"\nexpires = 2999-01-01\n", "missing match or clause"),
    ("[[expectation]]\nmatch = \"x\"\nreason = \"r\"\nexpires = 2999-01-01\n\n"
     "[[expectation]]\nmatch = \"y\"\nreason = \"r\"\nexpires = \"soon\"\n",
     "entry at line 6: expires must be a date"),
    ("[[expectation]]\nmatch = \"x\"\nreason = \"r\"\nexpires = 2999-01-01\nkind = \"maybe\"\n",
     "kind must be one of known_fail, waived"),
    ("[[expectation]]\nmatch = \"x\"\nreason = \"r\"\nexpires = 2999-01-01\ncann = \"9\"\n",
     "is not a range"),
    ("[[expectation]\nmatch = \"x\"\n", "at line 1"),
])
def test_malformed_files_are_usage_errors_naming_the_line(pytester, body, message):
    pytester.makepyfile("def test_x(): pass")
    pytester.makefile(".toml", bad=body)
    result = pytester.runpytest(*INNER, "--acl-expectations", "bad.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_version_ranges():
    assert in_range("9.0.0", ">=9.0,<10")
    assert not in_range("8.5.0", ">=9.0")
    assert in_range("8.0.RC2", ">=8.0,<9") and not in_range(None, ">=1")


def test_strict_mode_fails_a_green_run_with_stale_entries(pytester):
    pytester.makepyfile("def test_fine(): pass")
    pytester.makefile(".toml", expect=expectations("""
        [[expectation]]
        match = "test_*.py::test_gone"
        reason = "stale"
        expires = 2999-01-01
    """))
    relaxed = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml")
    assert relaxed.ret == pytest.ExitCode.OK
    relaxed.stdout.fnmatch_lines(["matches nothing: line 1: test_*.py::test_gone (stale)"])
    strict = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml",
                                "--acl-strict-expectations")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED


def test_the_cann_version_option_scopes_entries(pytester):
    pytester.makefile(".toml", clauses=CLAUSES, expect=expectations("""
        [[expectation]]
        match = "test_v.py::test_broken"
        cann = ">=8.0,<8.1"
        reason = "fixed in 8.1"
        expires = 2999-01-01
    """))
    pytester.makepyfile(test_v="def test_broken():\n    assert False\n")
    old = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml",
                             "--acl-cann-version", "8.0.RC3")
    old.assert_outcomes(xfailed=1)  # a known failure on 8.0.x
    assert old.ret == pytest.ExitCode.OK
    new = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml",
                             "--acl-cann-version", "8.1.RC1")
    assert new.ret == pytest.ExitCode.TESTS_FAILED
    new.assert_outcomes(failed=1)
