"""The run verdict every view shows: PASS only when every collected test has a final record
and none fails; a killed, interrupted or partly lost run is INCOMPLETE; no test, NO TESTS."""

from __future__ import annotations

import re

import pytest

from pytest_acl.results.runfile import RunFileError, read_run
from pytest_acl.results.verdict import run_verdict


def recs(**outcomes: str) -> dict[str, dict]:
    return {name: {"nodeid": name, "outcome": outcome} for name, outcome in outcomes.items()}


def test_pass_only_when_complete_and_nothing_fails():
    verdict = run_verdict(["a", "b"], recs(a="pass", b="drift"), True)
    assert verdict.verdict == "PASS" and verdict.reasons == ["1 with behaviour drift"]
    for failing in ("fail", "error", "crash", "timeout", "xpass"):
        assert run_verdict(["a", "b"], recs(a="pass", b=failing), True).verdict == "FAIL"
    for fine in ("skip", "not_supported", "known_fail", "waived"):
        assert run_verdict(["a"], recs(a=fine), True).verdict == "PASS"


def test_incomplete_wins_over_everything_else():
    killed = run_verdict(["a", "b"], recs(a="pass"), False)
    assert killed.verdict == "INCOMPLETE" and killed.missing == ["b"]
    assert "no summary" in killed.text and "1 of 2 collected tests have no final record" in \
        killed.text
    interrupted = run_verdict(["a"], recs(a="fail"), True, "KeyboardInterrupt")
    assert interrupted.verdict == "INCOMPLETE" and "1 failing so far" in interrupted.text
    lost = run_verdict(["a", "b"], recs(a="pass", b="device_lost"), True)
    assert lost.verdict == "INCOMPLETE" and "never ran: their device was lost" in lost.text
    never_collected = run_verdict(None, {}, True)
    assert never_collected.verdict == "INCOMPLETE"


def test_no_tests_is_its_own_verdict():
    assert run_verdict([], {}, True).verdict == "NO TESTS"


def test_reading_a_run_file_keeps_the_last_record_and_notes_a_cut_line(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"type": "header", "run_id": "r"}\n'
                    '{"type": "collection", "tests": ["a", "b"]}\n'
                    '{"type": "test", "nodeid": "a", "outcome": "device_lost"}\n'
                    '{"type": "test", "nodeid": "a", "outcome": "pass"}\n'
                    '{"type": "test", "nodeid": "b", "outc')
    run = read_run(tmp_path)
    assert run.collected == ["a", "b"] and not run.ended
    assert run.final_records()["a"]["outcome"] == "pass"
    assert run.cut_short == (f"{path}:5: the last line is cut short (the process was killed "
                             "while writing it)")


def test_a_bad_line_in_the_middle_is_an_error_naming_it(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"type": "header", "run_id": "r"}\nnot json\n'
                    '{"type": "test", "nodeid": "a", "outcome": "pass"}\n')
    with pytest.raises(RunFileError, match=rf"^{re.escape(str(path))}:2: not valid JSON"):
        read_run(tmp_path)
