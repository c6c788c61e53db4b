"""The views of a parity run's records (results/parity.py): which records are binding
defects, how ids pair up across bindings, and that a verifier collects a parity run's ids."""

from __future__ import annotations

import pytest

from pytest_acl.results import parity, qualification
from pytest_acl.results.clause_status import BINDING_DEFECT, clause_statuses
from pytest_acl.results.matrix import render
from pytest_acl.results.verdict import run_verdict


def rec(nodeid: str, outcome: str, binding: str | None = None, **more) -> dict:
    return {"nodeid": nodeid, "outcome": outcome, "clauses": ["c.one", "c.two"], "axes": {},
            "message": "", **({"binding": binding} if binding else {}), **more}


@pytest.mark.parametrize(("nodeid", "binding", "unbound"), [
    ("s/t.py::test_a[sim]", "sim", "s/t.py::test_a"),
    ("s/t.py::test_a[mlp-file-capi]", "capi", "s/t.py::test_a[mlp-file]"),
    ("s/t.py::test_a[capi-sim]", "sim", "s/t.py::test_a[capi]"),  # only the last part
    ("s/t.py::test_plain", "sim", "s/t.py::test_plain"),
])
def test_unbound_nodeid(nodeid, binding, unbound):
    assert parity.unbound_nodeid(nodeid, binding) == unbound


@pytest.mark.parametrize(("sim", "capi", "defect"), [
    ("pass", "fail", "capi"), ("drift", "error", "capi"), ("crash", "pass", "sim"),
    ("timeout", "drift", "sim"),
    ("fail", "fail", None), ("pass", "pass", None), ("pass", "not_supported", None),
    ("pass", "skip", None), ("known_fail", "fail", None), ("fail", "device_lost", None),
])
def test_the_failing_side_of_a_pass_fail_pair_is_a_binding_defect(sim, capi, defect):
    records = [rec("t.py::x[sim]", sim, "sim"), rec("t.py::x[capi]", capi, "capi"),
               rec("t.py::y[sim]", "pass", "sim")]
    found = parity.with_binding_defects(records)
    assert [r["outcome"] == parity.BINDING_DEFECT for r in found[:2]] == \
        [defect == "sim", defect == "capi"]
    assert found[2] is records[2]
    for record in found:
        if record["outcome"] == parity.BINDING_DEFECT:
            assert record["binding_outcome"] == (sim if defect == "sim" else capi)
            assert record["parity"] == {"sim": sim, "capi": capi}
    assert parity.with_binding_defects(found) == found  # applying it again changes nothing
    assert [r["outcome"] for r in records] == [sim, capi, "pass"]  # the input is kept


def test_records_without_a_binding_are_never_defects():
    records = [rec("t.py::x", "pass"), rec("t.py::x", "fail")]
    assert parity.with_binding_defects(records) == records


def test_merged_hosts_pair_only_within_a_host():
    a = {"source": {"label": "a"}}
    b = {"source": {"label": "b"}}
    records = [rec("t.py::x[sim]", "pass", "sim", **a), rec("t.py::x[capi]", "fail", "capi", **b)]
    assert [r["outcome"] for r in parity.with_binding_defects(records)] == ["pass", "fail"]


def test_clause_status_verdict_and_matrix():
    records = [rec("t.py::x[sim]", "pass", "sim"),
               rec("t.py::x[capi]", "fail", "capi", error="AssertionError: c.one: wrong"),
               rec("t.py::z[sim]", "pass", "sim"), rec("t.py::z[capi]", "pass", "capi")]
    statuses = clause_statuses(records)
    assert statuses["c.one"].status == BINDING_DEFECT
    assert statuses["c.two"].status == "pass"  # the defect named c.one only
    verdict = run_verdict([r["nodeid"] for r in records],
                          {r["nodeid"]: r for r in records}, True)
    assert verdict.verdict == "FAIL"
    assert verdict.counts == {"binding_defect": 1, "pass": 3}
    assert verdict.reasons[1].startswith("1 binding defect(s)")
    lines = render(records)
    assert lines[0].split() == ["family", "variant", "binding", "pass", "binding_defect"]
    assert [line.split() for line in lines[2:4]] == [["t", "-", "sim", "2", "."],
                                                     ["t", "-", "capi", "1", "1"]]
    assert lines[-1] == ("  c.one: t.py::x[capi] [binding defect: passes through sim, fails "
                         "through capi (fail)]")


def test_verify_collects_a_parity_run_with_its_bindings(monkeypatch):
    from pytest_acl import suite

    asked = []
    monkeypatch.setattr(suite, "collect", lambda level, backends=None: asked.append(
        (level, backends)) or [])
    qualification._collector({"backend": "sim,capi"})("full")
    qualification._collector({"backend": "sim"})("full")
    assert asked == [("full", "sim,capi"), ("full", None)]


def test_shards_keep_the_bindings_of_a_test_together():
    from pytest_acl.results.shard import select

    tests = [f"t.py::test_{n}[{i}-{b}]" for b in ("sim", "capi") for n in "abc" for i in (1, 2)]
    together = lambda nodeid: parity.unbound_of(nodeid, ("sim", "capi"))  # noqa: E731
    shards = [select(tests, (k, 3), None, together) for k in (1, 2, 3)]
    assert set().union(*shards) == set(tests) and sum(map(len, shards)) == len(tests)
    for shard in shards:
        assert len(shard) == 4  # two tests, each through both bindings
        assert {together(n) for n in shard if n.endswith("-sim]")} == \
            {together(n) for n in shard if n.endswith("-capi]")}
    weights = dict.fromkeys(tests, 1.0) | {"t.py::test_a[1-sim]": 50.0,
                                           "t.py::test_a[1-capi]": 50.0}
    # a pair weighs what both its bindings do: the heaviest pair is alone in shard 1
    assert select(tests, (1, 3), weights, together) == {"t.py::test_a[1-sim]",
                                                         "t.py::test_a[1-capi]"}
