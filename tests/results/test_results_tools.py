"""``compare``, ``merge`` and ``verify`` on what a vendor engineer hands them (issue 15): a
malformed run is exit status 2 with file:line and what was expected, never a traceback; a
test recorded twice is an error naming both lines (device_lost records excepted: a resumed
run supersedes them); a closed pipe is quiet; ``merge`` finds its clause catalog wherever
it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_acl.cli import main
from pytest_acl.results.reader import FinalRecords, RunFileError, RunLines
from pytest_acl.results.runfile import read_run

SCRIPT = Path(sys.executable).with_name("pytest-acl")
HEADER = {"type": "header", "run_id": "r1", "host": "npu-01", "devices": [0],
          "backend": "sim", "level": "quick"}


def test_record(nodeid: str, outcome: str = "pass", **extra) -> dict:
    return {"type": "test", "nodeid": nodeid, "outcome": outcome, "codes": [], **extra}


test_record.__test__ = False  # type: ignore[attr-defined]  (a helper, not a test)


def write(path: Path, *lines: object, raw: str = "") -> Path:
    """A run directory holding these lines (JSON-encoded; ``raw`` appended as it is)."""
    path.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line) + "\n" for line in lines) + raw
    (path / "results.jsonl").write_text(text)
    return path


def good_run(path: Path) -> Path:
    return write(path, HEADER, {"type": "collection", "session": 1, "tests": ["a", "b"]},
                 test_record("a"), test_record("b"),
                 {"type": "summary", "session": 1, "verdict": "PASS"})


# What a vendor engineer fed the tools, as line 2 of a run, and what the error must say.
MALFORMED = {
    "a list": ("[1, 2]", "a list where a line of the run belongs; expected a JSON object"),
    "a number": ("5", "the number 5 where a line of the run belongs; expected a JSON object"),
    "null": ("null", "null where a line of the run belongs; expected a JSON object"),
    "no nodeid": ('{"type": "test", "outcome": "pass"}',
                  "a test record without 'nodeid'; expected a string: the test's node id"),
    "no outcome": ('{"type": "test", "nodeid": "a"}',
                   "a test record without 'outcome'; expected an outcome, one of pass, fail"),
    "a list nodeid": ('{"type": "test", "nodeid": ["a"], "outcome": "pass"}',
                      "the test record's nodeid is a list; expected a string"),
    "bad JSON": ('{"type": "test", nodeid}', "not valid JSON"),
    "unknown outcome": ('{"type": "test", "nodeid": "a", "outcome": "passed_with_honours"}',
                        "outcome is the string 'passed_with_honours'; expected one of pass"),
    "codes not numbers": ('{"type": "test", "nodeid": "a", "outcome": "pass", "codes": ["x"]}',
                          "codes is a list; expected a list of aclError codes"),
    "an unknown line type": ('{"type": "mystery"}',
                             "line type the string 'mystery'; expected one of header"),
}


def malformed_run(path: Path, case: str) -> Path:
    line, _ = MALFORMED[case]
    return write(path, HEADER, raw=line + "\n" + json.dumps(test_record("b")) + "\n")


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.parametrize("tool", ["compare", "merge"])
def test_a_malformed_line_is_exit_2_naming_file_line_and_what_was_expected(
        tool, case, tmp_path, capsys):
    bad = malformed_run(tmp_path / "bad", case)
    good = good_run(tmp_path / "good")
    args = ["compare", str(good), str(bad)] if tool == "compare" else \
        ["merge", str(good), str(bad), "--out", str(tmp_path / "merged")]
    status, out, err = run_cli(capsys, *args)
    assert status == 2 and out == ""
    assert err.startswith(f"pytest-acl {tool}: {bad / 'results.jsonl'}:2: ")
    assert MALFORMED[case][1] in err and err.count("\n") == 1
    assert not (tmp_path / "merged" / "results.jsonl").exists()  # nothing half-merged


@pytest.mark.parametrize("case", ["a list nodeid", "no outcome", "null"])
def test_verify_calls_a_bundle_with_a_malformed_line_invalid_naming_the_line(
        case, tmp_path, capsys):
    from pytest_acl.results.qualification import write_bundle

    run = malformed_run(tmp_path / "run", case)
    (run / "report.html").write_text("<html></html>")
    write_bundle(run, None, None)  # the hashes agree: only the contents can tell
    status, out, _ = run_cli(capsys, "verify", str(run))
    assert status == 1 and out.startswith("verdict: INVALID")
    assert f"problem: {run / 'results.jsonl'}:2: {MALFORMED[case][1]}" in out


@pytest.mark.parametrize("tool", ["compare", "merge", "verify"])
def test_what_is_not_a_run_is_exit_2(tool, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for path, says in ((tmp_path / "nowhere", "no such file or directory"),
                       (empty, "a directory without results.jsonl" if tool != "verify" else
                        "no qualification.json and no results.jsonl: not a run directory")):
        args = {"compare": ["compare", str(path), str(path)],
                "merge": ["merge", str(path), "--out", str(tmp_path / "merged")],
                "verify": ["verify", str(path)]}[tool]
        status, out, err = run_cli(capsys, *args)
        assert status == 2 and out == "", (path, err)
        assert err.startswith(f"pytest-acl {tool}: {path}") and says in err
        assert "expected" in err and err.count("\n") == 1


def test_a_line_cut_short_by_a_kill_is_no_error(tmp_path, capsys):
    run = good_run(tmp_path / "run")
    with (run / "results.jsonl").open("a") as stream:
        stream.write('{"type": "test", "nodeid": "c", "outc')
    status, out, _ = run_cli(capsys, "compare", str(good_run(tmp_path / "base")), str(run))
    assert status == 0 and "0 added" in out
    assert "cut short" in (read_run(run).cut_short or "")


# -- one record per test -------------------------------------------------------------------


def test_two_records_of_one_test_are_an_error_naming_both_lines(tmp_path, capsys):
    run = write(tmp_path / "run", HEADER, test_record("a"), test_record("b"),
                test_record("a", "fail"))
    message = f"{run / 'results.jsonl'}:4: a second record of test a (the first is line 2)"
    for args in (["compare", str(run), str(run)],
                 ["merge", str(run), "--out", str(tmp_path / "merged")]):
        status, _, err = run_cli(capsys, *args)
        assert status == 2 and message in err and "only device_lost records" in err
    with pytest.raises(RunFileError, match=r":4: a second record of test a \(the first is "
                                           r"line 2\)"):
        read_run(run)


def test_device_lost_records_are_superseded_and_nothing_else_is(tmp_path):
    """A resumed session runs the tests its device lost: their device_lost records (any
    number) give way to the one record with a verdict; a record after that is an error."""
    run = write(tmp_path / "run", HEADER, test_record("a", "device_lost"),
                test_record("b"), {"type": "session", "session": 2},
                test_record("a", "device_lost"), {"type": "session", "session": 3},
                test_record("a", "fail"))
    final = read_run(run).final_records()
    assert final["a"]["outcome"] == "fail" and final["b"]["outcome"] == "pass"
    assert compare_cli(run, run) == 0
    late = write(tmp_path / "late", HEADER, test_record("a"), test_record("a", "device_lost"))
    with pytest.raises(RunFileError, match=":3: a second record of test a"):
        read_run(late)


def compare_cli(base: Path, new: Path, *extra: str) -> int:
    return main(["compare", str(base), str(new), "--fail-on", "changes", *extra])


def test_each_hosts_record_of_one_test_in_a_merged_run_is_its_own(tmp_path):
    """Records are keyed by host label in a merged run: the same test on two hosts is two
    tests, and a merged run merges again."""
    from pytest_acl.results.merge import merge

    one = good_run(tmp_path / "one")
    two = write(tmp_path / "two", dict(HEADER, host="npu-02", run_id="r2"),
                {"type": "collection", "session": 1, "tests": ["a", "b"]},
                test_record("a"), test_record("b"), {"type": "summary", "session": 1})
    header, count = merge([one, two], tmp_path / "merged")
    assert count == 4
    assert sorted(read_run(tmp_path / "merged").final_records()) == [
        "[npu-01] a", "[npu-01] b", "[npu-02] a", "[npu-02] b"]
    _, again = merge([tmp_path / "merged"], tmp_path / "merged")  # into its own directory
    assert again == 4 and len(read_run(tmp_path / "merged").final_records()) == 4


def test_final_records_keeps_lines_only_when_asked(tmp_path):
    run = good_run(tmp_path / "run")
    lines = RunLines(run)
    finals = FinalRecords(lines.file, keep=False)
    for line in lines:
        if line.kind == "test":
            finals.add(line.data["nodeid"], line)
    assert finals.records == {}
    assert read_run(run, records=False).final_records() == {}


def test_reading_resumes_at_a_line_it_gave(tmp_path):
    """compare reads the new run's header and collection first, then its records from the
    first one on (so the run's one large line is not read while the base run is held)."""
    run = good_run(tmp_path / "run")
    lines = list(RunLines(run))
    first = next(line for line in lines if line.kind == "test")
    assert list(RunLines(run, first)) == [line for line in lines if line.number >= first.number]


# -- output and catalog --------------------------------------------------------------------


def test_a_closed_pipe_is_quiet_and_keeps_the_exit_status(tmp_path):
    """``pytest-acl compare A B | head -1``: its reader is gone before it writes (here
    always: the pipe's read end is closed before the command starts). No BrokenPipeError, and
    the status is the comparison's."""
    base = write(tmp_path / "base", HEADER, test_record("kept"))
    new = write(tmp_path / "new", HEADER, test_record("kept", "fail"),
                *(test_record(f"suites/test_added.py::test_{i}") for i in range(3000)))
    for command in (["compare", str(base), str(new)], ["verify", str(base)]):
        read, written = os.pipe()
        os.close(read)
        try:
            result = subprocess.run([str(SCRIPT), *command], stdout=written,
                                    stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(written)
        assert result.stderr == ""
        assert result.returncode == 1  # a regression; INVALID: as without the pipe


def test_merge_outside_the_repository_finds_the_clause_catalog(tmp_path):
    """Run from another directory, merge reads the clauses of the installed suite (from its
    package, not from ./suites), so the report's clause table is filled."""
    from pytest_acl.clauses import load_clauses
    from pytest_acl.suite import catalog_file

    clause = next(iter(load_clauses(catalog_file())))
    run = good_run(tmp_path / "run")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([str(SCRIPT), "merge", str(run), "--out", "merged"],
                            cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    assert clause in (elsewhere / "merged" / "report.html").read_text()  # no record names it


def test_merge_says_what_is_wrong_with_its_catalog(tmp_path, capsys, monkeypatch):
    run = good_run(tmp_path / "run")
    status, _, err = run_cli(capsys, "merge", str(run), "--out", str(tmp_path / "m"),
                             "--clauses", str(tmp_path / "missing.toml"))
    assert status == 2 and "--clauses" in err and "no such file" in err
    (tmp_path / "bad.toml").write_text("[[clause]]\nid = 'x'\n")
    status, _, err = run_cli(capsys, "merge", str(run), "--out", str(tmp_path / "m"),
                             "--clauses", str(tmp_path / "bad.toml"))
    assert status == 2 and "not a clause catalog" in err and "lacks" in err
    monkeypatch.setattr("pytest_acl.suite.catalog_file", lambda: None)
    status, _, err = run_cli(capsys, "merge", str(run), "--out", str(tmp_path / "m"))
    assert status == 0 and "report.html has no clause table" in err


def test_merge_out_that_is_a_file_is_exit_2(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for out in (tmp_path / "file", tmp_path / "file" / "merged"):
        status, _, err = run_cli(capsys, "merge", str(good_run(tmp_path / "run")), "--out",
                                 str(out))
        assert status == 2 and f"{tmp_path / 'file'} is a file, not a directory; give a " \
            "directory for the merged run" in err
