"""The installed plugin stays dormant in sessions that do not want it — no backend, no header
line, no report directory, nothing per test — and wakes for an --acl-* option, an acl_* ini
setting, the conformance suite, or a collected test that uses an ACL fixture or marker
(then at collection, with every test of the session recorded, serially and under xdist)."""

from __future__ import annotations

import json

import pytest

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
UNRELATED = """
import sys

def test_unrelated():
    loaded = [name for name in sys.modules
              if name.startswith(("pytest_acl.sim", "pytest_acl.results", "pytest_acl.backends",
                                  "pytest_acl.models", "pytest_acl.om", "numpy"))]
    assert loaded == []

def test_another():
    pass
"""
ACL_TEST = """
def test_plain():
    pass

def test_uses_acl(acl, acl_device):
    assert acl.rt.get_device() == (acl_device, 0)
"""


def acl_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if line.startswith("acl")]


def run_records(pytester: pytest.Pytester) -> list[dict]:
    (run,) = list((pytester.path / "reports").iterdir())
    return [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("extra", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_an_unrelated_session_sees_nothing_of_the_plugin(pytester, monkeypatch, extra):
    monkeypatch.setenv("PYTEST_ACL_DEVICES", "0,1")  # the environment alone wakes nothing
    pytester.makepyfile(test_unrelated=UNRELATED)
    result = pytester.runpytest_subprocess(*INNER, *extra)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
    assert acl_lines(result) == []
    assert not (pytester.path / "reports").exists()


@pytest.mark.parametrize(("how", "line"), [
    (("--acl-level", "quick"), "acl: level quick (from command line)*"),
    (("-o", "acl_level=full"), "acl: level full (from -o acl_level)*"),
])
def test_an_option_or_ini_setting_wakes_it_from_the_start(pytester, how, line):
    pytester.makepyfile(test_unrelated=UNRELATED.replace("assert loaded == []", "pass"))
    result = pytester.runpytest_subprocess(*INNER, *how)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([line])
    assert "woke up" not in result.stdout.str()
    assert [r["outcome"] for r in run_records(pytester) if r["type"] == "test"] == \
        ["pass", "pass"]


@pytest.mark.parametrize("extra", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_an_acl_test_wakes_it_at_collection_and_every_test_is_recorded(pytester, extra):
    pytester.makepyfile(test_acl=ACL_TEST)
    result = pytester.runpytest_subprocess(*INNER, *extra)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: woke up: *", "acl: backend sim*", "acl verdict: PASS"])
    lines = run_records(pytester)
    assert lines[0]["type"] == "header"
    assert sorted(r["nodeid"] for r in lines if r["type"] == "test") == [
        "test_acl.py::test_plain", "test_acl.py::test_uses_acl"]
    assert lines[-1]["verdict"] == "PASS"


def test_a_marker_wakes_it_and_a_project_fixture_named_acl_does_not(pytester):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture
        def acl():
            return "the project's own"
    """)
    pytester.makepyfile(test_own="def test_own(acl):\n    assert acl == \"the project's own\"\n")
    result = pytester.runpytest_subprocess(*INNER)
    assert result.ret == pytest.ExitCode.OK and acl_lines(result) == []
    pytester.makepyfile(test_marked="""
        import pytest

        @pytest.mark.acl_clause("demo.clause")
        def test_marked():
            pass
    """)
    result = pytester.runpytest_subprocess(*INNER, "test_marked.py")
    result.stdout.fnmatch_lines(["acl: woke up: test_marked.py::test_marked uses an ACL "
                                 "fixture or marker"])
