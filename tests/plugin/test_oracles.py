"""acl_expect's checks by clause level: refusals at must level, codes at observed level,
codes that differ between CANN releases, open questions recorded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_acl.clauses import Clause
from pytest_acl.oracles import DRIFTS, Expect
from pytest_acl.versions import ByRelease

CLAUSES = {
    "x.refused": Clause("x.refused", "api", "src", "must", "Bad calls are refused."),
    "x.code": Clause("x.code", "api", "src", "observed", "The refusal is 100000."),
}


@pytest.fixture
def expect(monkeypatch):
    """An Expect on a stand-in item whose session says CANN 9.0.0."""
    item = SimpleNamespace(stash=pytest.Stash(), user_properties=[], config=object())
    state = SimpleNamespace(cann_version=lambda: ("9.0.0", "test"))
    monkeypatch.setattr("pytest_acl.state.get_state", lambda config: state)
    return Expect(item, CLAUSES)  # type: ignore[arg-type]


def drifts(expect):
    return expect.item.stash.get(DRIFTS, [])


def test_an_accepted_call_that_must_be_refused_fails(expect):
    with pytest.raises(AssertionError, match="x.refused: the call was accepted"):
        expect.refusal(0, 100000, "x.refused", "x.code")


def test_a_refusal_with_another_code_is_drift_not_failure(expect):
    expect.refusal(145000, 100000, "x.refused", "x.code")
    assert drifts(expect) == ["x.code: expected 100000 (ACL_ERROR_INVALID_PARAM), saw 145000 "
                              "(ACL_ERROR_GE_PARAM_INVALID) — The refusal is 100000."]
    expect.refusal(100000, 100000, "x.refused", "x.code")
    assert len(drifts(expect)) == 1


def test_a_code_by_release_is_the_sessions_release(expect):
    by_release = ByRelease({"<9.1": 145002, ">=9.1": 145006})
    expect.code(145002, by_release, "x.code")
    assert not drifts(expect)
    expect.code(145006, by_release, "x.code")  # the 9.1 code on a 9.0 session
    assert "expected 145002" in drifts(expect)[0]


def test_with_an_unknown_release_any_listed_code_is_taken(expect, monkeypatch):
    state = SimpleNamespace(cann_version=lambda: (None, "unknown"))
    monkeypatch.setattr("pytest_acl.state.get_state", lambda config: state)
    by_release = ByRelease({"<9.1": 145002, ">=9.1": 145006})
    expect.code(145006, by_release, "x.code")
    assert not drifts(expect)
    expect.code(100000, by_release, "x.code")
    assert "CANN version unknown" in drifts(expect)[0]


def test_an_unknown_clause_is_an_error(expect):
    with pytest.raises(AssertionError, match="unknown clause 'x.typo'"):
        expect.refusal(1, 1, "x.typo", "x.code")


def test_open_questions_are_recorded_never_asserted(expect):
    expect.record("cross_context_execute", 107004)
    expect.record("cross_context_unload", 0)
    assert expect.item.user_properties == [
        ("acl.observed", {"cross_context_execute": 107004, "cross_context_unload": 0})]
    assert not drifts(expect)


def test_by_release_refuses_what_is_not_a_range():
    with pytest.raises(ValueError, match="not version ranges"):
        ByRelease({"9.1": 1})
    assert ByRelease({">=9.0,<9.1": 7}).for_version("9.0.0") == 7
    assert ByRelease({">=9.0,<9.1": 7}).for_version("9.1.0") is None


def test_distinct_inputs_differ_and_keep_their_dtype():
    import numpy as np

    from pytest_acl.oracles import distinct_inputs

    sets = distinct_inputs({"x": np.ones((2, 3), np.float16)}, 3)
    assert [float(s["x"][0, 0]) for s in sets] == [1.0, 2.0, 3.0]
    assert all(s["x"].dtype == np.float16 for s in sets)
