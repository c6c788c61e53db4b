"""Binding parity (issue 16, item 4) in-process: ``--acl-backend sim,brokensim`` — the
simulator, and a test-only backend registered in the entry-point group that wraps it and
answers ``acl.rt.get_device_count`` with a wrong code — runs each ACL test through both
bindings; the clause that passes through sim and fails through brokensim, and only it, is a
binding defect in the records' views, the matrix, report.html and the verdict."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import pytest_acl.backends as backends

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")

BACKENDS = Path(__file__).resolve().parents[1] / "backends"  # brokensim_backend.py

TESTS = '''
import pytest

@pytest.mark.acl_clause("parity.device_count")
def test_device_count(acl, acl_device):
    count, ret = acl.rt.get_device_count()
    assert ret == 0, f"get_device_count returned {ret}"
    assert count == 2

@pytest.mark.acl_clause("parity.malloc")
@pytest.mark.parametrize("size", [64, 128])
def test_malloc(acl, acl_device, size):
    pointer, ret = acl.rt.malloc(size, 0)
    assert ret == 0 and acl.rt.free(pointer) == 0

def test_plain():
    pass
'''


@pytest.fixture
def brokensim(pytester, monkeypatch):
    """``brokensim`` installed next to ours, as a vendor's package would add it."""
    monkeypatch.syspath_prepend(str(BACKENDS))
    real = backends.installed()
    extra = EntryPoint("brokensim", "brokensim_backend:load", backends.GROUP)
    monkeypatch.setattr(backends, "installed", lambda: real | {"brokensim": extra})


def run(pytester, *args):
    reports = pytester.path / "reports"
    result = pytester.runpytest(*INNER, "-v", "--acl-report-dir", str(reports), *args)
    run_dir = next(reports.iterdir())
    lines = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    return result, lines, (run_dir / "report.html").read_text()


def test_each_test_runs_through_each_binding_and_a_defect_is_reported(pytester, brokensim):
    pytester.makepyfile(test_parity_run=TESTS)
    result, lines, page = run(pytester, "--acl-backend", "sim,brokensim")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines([
        "acl: bindings sim,brokensim (from command line): every test runs through each*",
        "acl:   sim: pytest-acl simulator*",
        "acl:   brokensim: the simulator with a broken get_device_count",
    ])
    # the binding ends the id; each binding's tests run together; a plain test runs once
    result.stdout.fnmatch_lines([
        "*::test_device_count[[]sim[]] PASSED*", "*::test_malloc[[]64-sim[]] PASSED*",
        "*::test_malloc[[]128-sim[]] PASSED*", "*::test_device_count[[]brokensim[]] FAILED*",
        "*::test_malloc[[]64-brokensim[]] PASSED*", "*::test_malloc[[]128-brokensim[]] PASSED*",
    ])
    records = {r["nodeid"]: r for r in lines if r["type"] == "test"}
    assert records["test_parity_run.py::test_plain"].get("binding") is None
    malloc = records["test_parity_run.py::test_malloc[64-brokensim]"]
    assert (malloc["binding"], malloc["axes"]) == ("brokensim", {"size": 64})
    broken = records["test_parity_run.py::test_device_count[brokensim]"]
    assert (broken["binding"], broken["outcome"]) == ("brokensim", "fail")  # as it ran
    summary = lines[-1]
    assert summary["verdict"] == "FAIL"
    assert summary["counts"] == {"binding_defect": 1, "pass": 6}
    assert any("1 binding defect(s)" in reason for reason in summary["reasons"])
    header = lines[0]
    assert header["backend"] == "sim,brokensim"
    # the terminal: a row per binding, the defect in its own column and in the clause list
    text = result.stdout.str()
    assert "binding_defect" in text
    result.stdout.fnmatch_lines([
        "family *variant binding*pass*binding_defect*",
        "parity_run  - sim  *  3  *  .",
        "parity_run  - brokensim  *  2  *  1",
        "  parity.device_count: test_parity_run.py::test_device_count[[]brokensim[]] "
        "[[]binding defect: passes through sim, fails through brokensim (fail)[]]",
        "acl verdict: FAIL — 1 of 7 tests failing; 1 binding defect(s)*",
    ])
    assert "parity.malloc:" not in text  # parity held for the other clause
    # report.html: each clause's status per binding, side by side
    assert "<th>through sim</th><th>through brokensim</th>" in page
    assert ("<tr data-clause='parity.device_count'><td><code>parity.device_count</code></td>"
            "<td class='status binding-defect'>binding defect</td>"
            "<td class='binding pass' data-binding='sim'>pass</td>"
            "<td class='binding binding-defect' data-binding='brokensim'>binding defect</td>"
            ) in page
    assert ("<td class='status pass'>pass</td><td class='binding pass' data-binding='sim'>"
            "pass</td><td class='binding pass' data-binding='brokensim'>pass</td>") in page
    assert "passes through sim, fails through brokensim (fail)" in page


def test_a_single_backend_run_has_no_binding(pytester, brokensim):
    pytester.makepyfile(test_parity_run=TESTS)
    result, lines, page = run(pytester, "--acl-backend", "brokensim")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["acl: backend brokensim (from command line): the simulator*",
                                 "*::test_device_count FAILED*", "*::test_malloc[[]64[]] PASSED*"])
    tests = [r for r in lines if r["type"] == "test"]
    assert all("binding" not in r for r in tests)
    assert lines[-1]["counts"] == {"fail": 1, "pass": 3}
    assert "through" not in page.split("id='clauses'")[1].split("</tr>")[0]
    assert "binding defect" not in result.stdout.str()


def test_both_bindings_failing_is_a_failure_not_a_binding_defect(pytester, brokensim):
    pytester.makepyfile(test_both="""
        import pytest

        @pytest.mark.acl_clause("parity.both")
        def test_both_fail(acl, acl_device):
            assert acl.rt.set_device(99) == 0
    """)
    result, lines, _ = run(pytester, "--acl-backend", "brokensim,sim")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*::test_both_fail[[]brokensim[]] FAILED*",
                                 "*::test_both_fail[[]sim[]] FAILED*"])
    assert lines[-1]["counts"] == {"fail": 2}


@pytest.mark.parametrize(("value", "message"), [
    ("sim,npu", "'npu' is not an installed backend; valid choices are sim, pyacl, capi, "
                "brokensim"),
    ("sim,brokensim,sim", "backend sim is listed twice; each binding runs once"),
])
def test_bad_lists_are_usage_errors(pytester, brokensim, value, message):
    pytester.makepyfile(test_parity_run=TESTS)
    result = pytester.runpytest(*INNER, "--acl-backend", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --acl-backend: invalid value {value!r} (from command "
                                 f"line): {message}"])


def test_shards_keep_a_tests_bindings_together_so_a_merge_sees_the_defect(pytester, brokensim):
    from pytest_acl.results.merge import merge
    from pytest_acl.results.parity import unbound_key, with_binding_defects
    from pytest_acl.results.runfile import read_run

    pytester.makepyfile(test_parity_run=TESTS)
    runs = []
    for k in (1, 2):
        reports = pytester.path / f"shard{k}"
        pytester.runpytest(*INNER, "--acl-report-dir", str(reports), "--acl-backend",
                           "sim,brokensim", "--acl-shard", f"{k}/2")
        runs.append(next(reports.iterdir()))
        records = [r for r in read_run(runs[-1] / "results.jsonl").final_records().values()
                   if r.get("binding")]
        bindings: dict[str, list[str]] = {}
        for record in records:
            bindings.setdefault(unbound_key(record), []).append(record["binding"])
        assert records and all(sorted(b) == ["brokensim", "sim"] for b in bindings.values())
    merge(runs, pytester.path / "merged")
    merged = read_run(pytester.path / "merged" / "results.jsonl").final_records().values()
    outcomes = sorted(r["outcome"] for r in with_binding_defects(merged))
    assert outcomes == ["binding_defect"] + ["pass"] * 6


def test_a_parity_run_set_only_by_the_environment_keeps_its_bindings(pytester, brokensim,
                                                                      monkeypatch):
    """No --acl-* option: the session wakes only when it collects an ACL test, after
    parametrization; PYTEST_ACL_BACKEND's bindings are read then all the same."""
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "sim,brokensim")
    pytester.makepyfile(test_parity_run=TESTS)
    result = pytester.runpytest(*INNER, "-v")
    result.stdout.fnmatch_lines(["*::test_device_count[[]sim[]] PASSED*",
                                 "*::test_device_count[[]brokensim[]] FAILED*"])
    result.assert_outcomes(passed=6, failed=1)
    assert "test_plain[" not in result.stdout.str()


def test_a_bad_backend_list_in_the_environment_is_a_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "sim,nosuch")
    pytester.makepyfile(test_parity_run=TESTS)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --acl-backend: invalid value 'sim,nosuch' (from env "
                                 "PYTEST_ACL_BACKEND): 'nosuch' is not an installed backend*"])
