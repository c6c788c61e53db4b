"""Each clause's status comes from its own checks: every status, a clause whose tests were
all skipped is never pass, and a must clause never drifts for a sibling observed clause."""

from __future__ import annotations

import pytest

from pytest_acl.results.clause_status import checks_of, clause_statuses
from pytest_acl.results.matrix import failing_clauses

MUST, OBSERVED = "demo.must", "demo.code"
DRIFTED = (f"behaviour drift:\n  {OBSERVED}: expected 145000 (ACL_ERROR_GE_PARAM_INVALID), "
           "saw 100000 (ACL_ERROR_INVALID_PARAM) — the code")
MUST_FAILED = ("    def test_x(acl_expect):\n>       acl_expect.refusal(0, 145000, ...)\n"
               f"E       AssertionError: {MUST}: the call was accepted (ACL_SUCCESS); it must "
               "be refused — a must clause\n\nsuites/test_x.py:5: AssertionError")


def record(outcome: str, *clauses: str, message: str = "", name: str = "t",
         **extra: object) -> dict:
    return {"nodeid": f"suites/test_x.py::{name}", "outcome": outcome, "message": message,
            "clauses": list(clauses), **extra}


def status(*records: dict, clause: str = MUST) -> str:
    return clause_statuses(records)[clause].status


@pytest.mark.parametrize(("outcome", "expected"), [
    ("pass", "pass"), ("fail", "fail"), ("error", "fail"), ("crash", "fail"),
    ("timeout", "fail"), ("known_fail", "known_fail"), ("waived", "waived"),
    ("skip", "not run"), ("device_lost", "not run"), ("not_supported", "not supported"),
    ("xpass", "pass"),
])
def test_one_tests_outcome_gives_its_clause_a_status(outcome, expected):
    assert status(record(outcome, MUST)) == expected


def test_a_clause_without_a_test_is_not_run():
    assert clause_statuses([], [MUST])[MUST].status == "not run"


def test_a_soc_gated_family_with_no_test_run_is_not_pass():
    gated = [record("not_supported", MUST, name=f"t{i}",
                  message="SoC Ascend310P3 does not match acl_soc") for i in range(3)]
    assert status(*gated) == "not supported"
    assert status(*gated, record("skip", MUST, name="other")) == "not run"
    assert status(*gated, record("pass", MUST, name="ran")) == "pass"


def test_a_must_clause_does_not_drift_for_its_sibling_observed_clause():
    drift = record("drift", MUST, OBSERVED, message=DRIFTED)
    assert checks_of(drift) == {MUST: "pass", OBSERVED: "drift"}
    statuses = clause_statuses([drift])
    assert (statuses[MUST].status, statuses[OBSERVED].status) == ("pass", "drift")
    assert failing_clauses([drift]) == [(OBSERVED, "suites/test_x.py::t [drift]")]


def test_a_failure_naming_its_clause_leaves_the_siblings_undecided():
    failed = record("fail", MUST, OBSERVED, message=MUST_FAILED)
    assert checks_of(failed) == {MUST: "fail", OBSERVED: "not reached"}
    statuses = clause_statuses([failed])
    assert (statuses[MUST].status, statuses[OBSERVED].status) == ("fail", "not run")
    assert statuses[OBSERVED].tests == {"not reached": 1}


def test_the_error_field_names_the_clause_when_the_message_tail_lost_it():
    failed = record("fail", MUST, OBSERVED, message="E   ...a long falsifying example...",
                  error=f"AssertionError: {MUST}: saw 0\nFailing test case: ...")
    assert checks_of(failed) == {MUST: "fail", OBSERVED: "not reached"}


def test_a_failure_naming_no_clause_fails_all_of_its_clauses():
    failed = record("fail", MUST, OBSERVED, message="E   assert 1 == 2")
    assert checks_of(failed) == {MUST: "fail", OBSERVED: "fail"}


def test_strict_codes_fail_only_the_drifted_clause():
    strict = record("fail", MUST, OBSERVED,
                  message=DRIFTED + "\n(--acl-strict-codes makes drift a failure)")
    assert checks_of(strict) == {MUST: "pass", OBSERVED: "fail"}


def test_a_strict_xpass_is_a_pass_of_its_clauses():
    assert checks_of(record("fail", MUST, message="[XPASS(strict)] known_fail: bug 12")) == \
        {MUST: "pass"}


def test_the_most_severe_decided_status_wins_in_order():
    order = ["fail", "drift", "known_fail", "waived", "pass"]
    outcomes = {"fail": ("fail", ""), "drift": ("drift", DRIFTED.replace(OBSERVED, MUST)),
                "known_fail": ("known_fail", ""), "waived": ("waived", ""),
                "pass": ("pass", "")}
    for index, expected in enumerate(order):
        records = [record(outcomes[s][0], MUST, message=outcomes[s][1], name=s)
                   for s in order[index:]] + [record("skip", MUST, name="skipped")]
        result = clause_statuses(records)[MUST]
        assert result.status == expected
        assert result.first[expected] == f"suites/test_x.py::{expected}"
