"""The run's verdict — the one word every view shows (terminal, summary record, report.html,
verify) — computed in one place so they can never disagree.

- ``INCOMPLETE`` — the run did not finish (interrupted, killed: no summary), a collected
  test has no final record, or a test never ran because its device was lost. It says
  nothing about conformance; ``--acl-resume`` completes it.
- ``NO TESTS`` — the run selected no test.
- ``FAIL`` — every collected test has a final record and one of them is fail, error,
  crash, timeout or xpass, or — in a parity run — a binding defect (results/parity.py).
- ``PASS`` — every collected test has a final record and none of them fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_acl.results.records import FAILING, NOT_RUN

PASS, FAIL, INCOMPLETE, NO_TESTS = "PASS", "FAIL", "INCOMPLETE", "NO TESTS"


@dataclass(frozen=True)
class RunVerdict:
    verdict: str
    reasons: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.verdict + (" — " + "; ".join(self.reasons) if self.reasons else "")


def run_verdict(collected: Iterable[str] | None, records: dict[str, dict[str, Any]],
                ended: bool, interrupted: str | None = None) -> RunVerdict:
    """``collected``: the keys the run had to record (None: unknown, e.g. killed before
    collection ended); ``records``: final records by key; ``ended``: the last session
    wrote its summary; ``interrupted``: why the last session stopped early, if it did."""
    from pytest_acl.results.parity import BINDING_DEFECT, with_binding_defects

    counts = dict(sorted(Counter(r["outcome"] for r in with_binding_defects(records.values())
                                 ).items()))
    failing = sum(counts.get(o, 0) for o in FAILING)
    lost = sum(counts.get(o, 0) for o in NOT_RUN)
    missing = sorted(set(collected or ()) - records.keys())
    reasons = []
    if not ended:
        reasons.append("the run was killed or is still running: it has no summary")
    if interrupted:
        reasons.append(f"interrupted: {interrupted}")
    if collected is None and ended:
        reasons.append("the run never finished collecting")
    if missing:
        reasons.append(f"{len(missing)} of {len(set(collected or ()))} collected tests have "
                       "no final record")
    if lost:
        reasons.append(f"{lost} test(s) never ran: their device was lost")
    if reasons:
        if failing:
            reasons.append(f"{failing} failing so far")
        return RunVerdict(INCOMPLETE, reasons, counts, missing)
    if not records and not collected:
        return RunVerdict(NO_TESTS, ["the run selected no test"], counts)
    if failing:
        defects = counts.get(BINDING_DEFECT, 0)
        return RunVerdict(FAIL, [f"{failing} of {len(records)} tests failing"]
                          + ([f"{defects} binding defect(s): a test that passes through one "
                              "binding fails through another"] if defects else []), counts)
    drift = counts.get("drift", 0)
    return RunVerdict(PASS, [f"{drift} with behaviour drift"] if drift else [], counts)
