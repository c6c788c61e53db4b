"""Result records: one JSON line per test, streamed by the controller, with the outcome
taxonomy, clauses, axes, device and worker; a header and a summary; a killed run keeps what
finished."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pytest_acl.results.records import base_nodeid
from pytest_acl.sim.releases import DEFAULT_RELEASE

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")
CLAUSES = textwrap.dedent("""
    [[clause]]
    id = "demo.must"
    api = "x"
    source = "s"
    level = "must"
    text = "a must clause"

    [[clause]]
    id = "demo.observed"
    api = "x"
    source = "s"
    level = "observed"
    text = "an observed clause"
""")
TESTS = textwrap.dedent("""
    import pytest

    @pytest.mark.acl_clause("demo.must")
    def test_pass(acl, acl_device):
        assert acl.rt.get_device() == (acl_device, 0)

    @pytest.mark.acl_clause("demo.must")
    def test_fail():
        assert 1 == 2

    @pytest.mark.acl_requires("mdl.not_there")
    def test_not_supported():
        pass

    def test_skip():
        pytest.skip("for no reason")

    @pytest.fixture
    def broken():
        raise RuntimeError("setup broke")

    def test_error(broken):
        pass

    @pytest.mark.xfail(reason="known bug 123", strict=False)
    def test_known_fail():
        assert False

    @pytest.mark.xfail(reason="fixed meanwhile", strict=False)
    def test_xpass():
        pass

    @pytest.mark.acl_clause("demo.observed")
    def test_drift(acl_expect):
        acl_expect.code(100000, 145000, "demo.observed")

    @pytest.mark.parametrize("model", ["mlp", "conv"])
    @pytest.mark.parametrize("mode", ["sync"])
    def test_axes(model, mode):
        pass
""")


def records(directory: Path) -> list[dict]:
    (run,) = list(directory.iterdir())
    return [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]


@pytest.fixture
def suite(pytester):
    pytester.makefile(".toml", clauses=CLAUSES)
    pytester.makepyfile(test_demo=TESTS)
    return pytester


def test_every_outcome_of_the_taxonomy(suite):
    result = suite.runpytest(*INNER, "--acl-report-dir", "out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = records(suite.path / "out")
    header, collection, summary = lines[0], lines[1], lines[-1]
    tests = [line for line in lines if line["type"] == "test"]
    assert header["type"] == "header" and header["backend"] == "sim"
    assert collection["type"] == "collection" and collection["count"] == 10 == len(tests)
    assert header["options"]["report-dir"]["source"] == "command line"
    outcomes = {r["nodeid"].split("::")[1]: r["outcome"] for r in tests}
    assert outcomes == {"test_pass": "pass", "test_fail": "fail",
                        "test_not_supported": "not_supported", "test_skip": "skip",
                        "test_error": "error", "test_known_fail": "known_fail",
                        "test_xpass": "xpass", "test_drift": "drift",
                        "test_axes[sync-mlp]": "pass", "test_axes[sync-conv]": "pass"}
    by_name = {r["nodeid"].split("::")[1]: r for r in tests}
    assert by_name["test_pass"]["clauses"] == ["demo.must"]
    assert by_name["test_pass"]["device"] == 1 and by_name["test_pass"]["worker"] == "main"
    assert by_name["test_axes[sync-conv]"]["axes"] == {"model": "conv", "mode": "sync"}
    assert "expected 145000" in by_name["test_drift"]["message"]
    assert "setup broke" in by_name["test_error"]["message"]
    assert by_name["test_fail"]["error"] == "assert 1 == 2"  # the exception, whole
    assert by_name["test_error"]["error"] == "RuntimeError: setup broke"
    assert "error" not in by_name["test_pass"] and "error" not in by_name["test_drift"]
    assert summary["type"] == "summary" and summary["exitstatus"] == 1
    assert summary["counts"]["pass"] == 3 and summary["counts"]["drift"] == 1
    assert summary["verdict"] == "FAIL" and summary["missing"] == 0


def test_under_xdist_only_the_controller_writes(suite):
    result = suite.runpytest_subprocess(*INNER, "-n", "2", "--acl-devices", "0,1",
                                        "--acl-report-dir", "out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = records(suite.path / "out")
    tests = [r for r in lines if r["type"] == "test"]
    assert len(tests) == 10 and {r["worker"] for r in tests} <= {"gw0", "gw1"}
    assert len({r["nodeid"] for r in tests}) == 10


def test_a_killed_run_keeps_a_valid_file_of_what_finished(pytester):
    pytester.makepyfile(test_kill="""
        import os, signal

        def test_one():
            pass

        def test_two():
            pass

        def test_three_kills_the_run():
            os.kill(os.getpid(), signal.SIGKILL)

        def test_four():
            pass
    """)
    pytester.runpytest_subprocess(*INNER, "-p", "no:randomly", "--acl-report-dir", "out")
    lines = records(pytester.path / "out")
    assert [line["type"] for line in lines] == ["header", "collection", "test", "test"]
    assert lines[1]["count"] == 4  # the run knows what it did not get to
    assert [r["nodeid"].split("::")[1] for r in lines[2:]] == ["test_one", "test_two"]


def test_xdist_group_suffixes_are_stripped():
    assert base_nodeid("suites/a.py::test_x[p1]@gpu") == "suites/a.py::test_x[p1]"
    assert base_nodeid("suites/a.py::test_y@grp") == "suites/a.py::test_y"
    assert base_nodeid("suites/a.py::test_z[a@b]") == "suites/a.py::test_z[a@b]"


def test_terminal_matrix_counts_outcomes_and_lists_failing_clauses(suite):
    result = suite.runpytest(*INNER, "--acl-report-dir", "out")
    result.stdout.fnmatch_lines([
        "family  variant   pass   fail  drift",
        "demo    -            1      1      1",
        "failing clauses (first failing test):",
        "  demo.must: test_demo.py::test_fail [[]fail[]]",
        "  demo.observed: test_demo.py::test_drift [[]drift[]]",
    ])


def test_junit_xml_carries_clauses_and_variant(pytester):
    import xml.etree.ElementTree as ElementTree

    pytester.makepyfile("""
        import pytest

        class V:
            name, family = "file_with_mem", "model"

        @pytest.mark.acl_clause("demo.clause")
        @pytest.mark.parametrize("variant", [V()], ids=["file_with_mem"])
        def test_x(variant):
            pass
    """)
    pytester.runpytest(*INNER, "--junitxml", "junit.xml")
    case = next(ElementTree.parse(pytester.path / "junit.xml").getroot().iter("testcase"))
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["acl.clauses"] == "demo.clause"
    assert props["acl.variant"] == "file_with_mem"
    assert json.loads(props["acl.axes"]) == {"variant": "file_with_mem"}


def test_summary_lists_the_fixture_model_hashes(pytester, built_catalog):
    directory, manifest = built_catalog
    pytester.makepyfile("def test_x(acl_models): assert acl_models['mlp'].path.is_file()")
    pytester.runpytest(*INNER, "--acl-model-dir", str(directory), "--acl-report-dir", "out")
    lines = records(pytester.path / "out")
    assert lines[0]["cann_version"] == DEFAULT_RELEASE  # the release the simulator follows
    assert lines[-1]["models"] == {n: e["sha256"] for n, e in manifest["models"].items()}


def test_sessions_in_the_same_second_never_share_a_run_directory(tmp_path, monkeypatch):
    from pytest_acl.results import writer

    monkeypatch.setattr(writer.time, "strftime", lambda *args: "20260101-000000")
    first, second, third = (writer.claim_run_directory(tmp_path / "reports") for _ in range(3))
    assert len({first, second, third}) == 3 and all(d.is_dir() for d in (first, second, third))
    assert second.name == first.name + "-2"


def test_two_in_process_runs_into_one_report_dir_keep_both_result_files(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    for _ in range(2):
        pytester.runpytest("-p", "no:cacheprovider", "--acl-report-dir", "reports")
    files = sorted((pytester.path / "reports").glob("*/results.jsonl"))
    assert len(files) == 2
    assert all(json.loads(f.read_text().splitlines()[2])["nodeid"] == "test_one.py::test_one"
               for f in files)
