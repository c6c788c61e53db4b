"""Each clause's status, from its own checks only — one place, for report.html and the
terminal's failing clauses.

A test names several clauses, but its outcome belongs to the checks that decided it. The
records say which: a DRIFT message lists each drifted clause (``drift.DriftReporting``: a
``behaviour drift:`` line per clause, ``  clause.id: expected …``), and a must clause that
does not hold fails with ``AssertionError: clause.id: …`` (``oracles.Expect._differs``; the
record's ``error``, or its message). So:

- a drift test: its drifted clauses drift, its other clauses pass (it ran to its end);
- a failing test whose failure names its clauses: those fail; its other clauses get no
  verdict from it (the test stopped before their checks); under ``--acl-strict-codes`` the
  drifted clauses fail and the others pass;
- a failing test that names none (a plain assertion, error, crash, timeout): all fail;
- an xpass (the expected failure did not happen): its checks held, so its clauses pass —
  the stale expectation is a failure of the run, listed with the failures;
- known_fail, waived: all its clauses; skip and device_lost: not run; not_supported: not
  supported;
- a binding defect (parity runs, results/parity.py): the clauses it failed through its
  binding are ``binding defect``.

A clause's status is the most severe of its tests' — fail, binding defect, drift,
known_fail, waived, pass —
and when none of its tests decided it: ``not supported`` if every one was not supported,
else ``not run``. A clause is never ``pass`` without a test that ran its check.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_acl.results.records import record_key

FAIL, DRIFT, KNOWN_FAIL, WAIVED, PASS = "fail", "drift", "known_fail", "waived", "pass"
BINDING_DEFECT = "binding defect"  # fails through one binding, passes through another
NOT_SUPPORTED, NOT_RUN = "not supported", "not run"
NOT_REACHED = "not reached"  # a test that stopped at another clause's failure (counts only)
STATUSES = (FAIL, BINDING_DEFECT, DRIFT, KNOWN_FAIL, WAIVED, PASS, NOT_SUPPORTED,
            NOT_RUN)  # most severe first
DECIDED = (FAIL, BINDING_DEFECT, DRIFT, KNOWN_FAIL, WAIVED, PASS)
DRIFT_HEADING = "behaviour drift:"
STRICT_XPASS = "[XPASS(strict)]"
_FAILED_CLAUSE = re.compile(r"AssertionError: ([\w.\-]+): ")
_DRIFT_LINE = re.compile(r"^\s+([\w.\-]+): ", re.MULTILINE)
_ALL_CLAUSES = {"pass": PASS, "xpass": PASS, "known_fail": KNOWN_FAIL, "waived": WAIVED,
                "skip": NOT_RUN, "device_lost": NOT_RUN, "not_supported": NOT_SUPPORTED}


def drifted_clauses(record: dict[str, Any]) -> list[str]:
    """The test's clauses its DRIFT message (or strict-codes failure) names."""
    message = str(record.get("message") or "")
    if not message.startswith(DRIFT_HEADING):
        return []
    named = set(_DRIFT_LINE.findall(message))
    return [clause for clause in record.get("clauses") or [] if clause in named]


def failed_clauses(record: dict[str, Any]) -> list[str]:
    """The test's clauses its failure names as not holding (none: it cannot be told)."""
    failure = f"{record.get('error') or ''}\n{record.get('message') or ''}"
    named = set(_FAILED_CLAUSE.findall(failure)) | set(drifted_clauses(record))
    return [clause for clause in record.get("clauses") or [] if clause in named]


def checks_of(record: dict[str, Any]) -> dict[str, str]:
    """What one test says of each of its clauses (``not reached``: nothing)."""
    if record["outcome"] == "binding_defect":  # the clauses it failed, through this binding
        own = checks_of(record | {"outcome": record.get("binding_outcome", "fail")})
        return {c: BINDING_DEFECT if s == FAIL else s for c, s in own.items()}
    clauses = list(record.get("clauses") or [])
    outcome = record["outcome"]
    message = str(record.get("message") or "")
    if outcome == "fail" and message.startswith(STRICT_XPASS):
        outcome = "xpass"
    if outcome in _ALL_CLAUSES:
        return dict.fromkeys(clauses, _ALL_CLAUSES[outcome])
    if outcome == "drift":
        drifted = drifted_clauses(record)
        return {c: DRIFT if c in drifted else PASS for c in clauses}
    named = failed_clauses(record) if outcome == "fail" else []
    if not named:
        return dict.fromkeys(clauses, FAIL)
    rest = PASS if message.startswith(DRIFT_HEADING) else NOT_REACHED
    return {c: FAIL if c in named else rest for c in clauses}


@dataclass
class ClauseStatus:
    status: str = NOT_RUN
    tests: Counter = field(default_factory=Counter)  # per-test statuses
    first: dict[str, str] = field(default_factory=dict)  # status → its first test

    def add(self, status: str, nodeid: str) -> None:
        self.tests[status] += 1
        self.first.setdefault(status, nodeid)
        decided = [s for s in DECIDED if self.tests[s]]
        if decided:
            self.status = decided[0]
        elif self.tests[NOT_SUPPORTED] == sum(self.tests.values()):
            self.status = NOT_SUPPORTED
        else:
            self.status = NOT_RUN


def clause_statuses(records: Iterable[dict[str, Any]],
                    clauses: Iterable[str] = ()) -> dict[str, ClauseStatus]:
    """Every clause of ``clauses`` (a catalog's ids, ``not run`` without a test) and of the
    records, with its status and its tests' statuses."""
    from pytest_acl.results.parity import with_binding_defects

    found = {clause: ClauseStatus() for clause in clauses}
    for record in with_binding_defects(records):
        for clause, status in checks_of(record).items():
            found.setdefault(clause, ClauseStatus()).add(status, record_key(record))
    return found
