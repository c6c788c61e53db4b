"""Binding defects: in a parity run (``--acl-backend sim,capi``; pytest_acl/parity.py) each
test has a record per binding, and a test that passes through one binding and fails through
another shows a defect of the failing binding, not of the implementation underneath — the
same device answered both (issue 16, item 4).

Each record keeps the outcome its own test had (``fail``); the views of a run — verdict,
matrix, report.html, terminal — read the records through :func:`with_binding_defects`, which
makes the failing side of such a pair ``binding_defect`` (with ``binding_outcome``, what it
was, and ``parity``, each binding's outcome). It is a pure function of the records, so a
re-rendering (``verify``) agrees with the run, and applying it twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pytest_acl.results.records import record_key

BINDING_DEFECT = "binding_defect"
PASSED = {"pass", "drift"}  # its must checks held
BROKE = {"fail", "error", "crash", "timeout"}


def unbound_nodeid(nodeid: str, binding: str) -> str:
    """The test's id without its binding: ``t[mlp-capi]`` → ``t[mlp]``, ``t[sim]`` → ``t``."""
    if nodeid.endswith(f"[{binding}]"):
        return nodeid[: -len(binding) - 2]
    if nodeid.endswith(f"-{binding}]"):
        return nodeid[: -len(binding) - 2] + "]"
    return nodeid


def unbound_of(nodeid: str, names: Iterable[str]) -> str:
    """The id without whichever of the bindings ``names`` ends it (shards keep a test's
    bindings together by it)."""
    for name in names:
        unbound = unbound_nodeid(nodeid, name)
        if unbound != nodeid:
            return unbound
    return nodeid


def unbound_key(record: dict[str, Any]) -> str:
    """The key the bindings of one test share (host label kept in a merged run)."""
    key = record_key(record)
    binding = record.get("binding")
    return unbound_nodeid(key, binding) if isinstance(binding, str) else key


def bindings(records: Iterable[dict[str, Any]]) -> list[str]:
    """The bindings the records ran through, in order of first appearance (empty: not a
    parity run)."""
    found: dict[str, None] = {}
    for record in records:
        if isinstance(record.get("binding"), str):
            found[record["binding"]] = None
    return list(found)


def _own_outcome(record: dict[str, Any]) -> str:
    return str(record.get("binding_outcome") or record["outcome"])


def with_binding_defects(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records, each failing side of a pass/fail pair as a ``binding_defect``."""
    records = list(records)
    pairs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if isinstance(record.get("binding"), str):
            pairs[unbound_key(record)].append(record)
    changed: dict[int, dict[str, Any]] = {}
    for group in pairs.values():
        outcomes = {r["binding"]: _own_outcome(r) for r in group}
        if not (PASSED & set(outcomes.values()) and BROKE & set(outcomes.values())):
            continue
        for record in group:
            if _own_outcome(record) in BROKE:
                changed[id(record)] = record | {"outcome": BINDING_DEFECT,
                                                "binding_outcome": _own_outcome(record),
                                                "parity": outcomes}
    return [changed.get(id(record), record) for record in records]


def describe(record: dict[str, Any]) -> str:
    """``passes through sim, fails through capi (error)``, for a binding defect."""
    parity = record.get("parity") or {}
    passed = [b for b, o in parity.items() if o in PASSED]
    broke = [f"{b} ({o})" for b, o in parity.items() if o in BROKE]
    return f"passes through {', '.join(passed)}, fails through {', '.join(broke)}"
