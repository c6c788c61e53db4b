"""The conformance matrix printed at the end of a run: API family × variant against outcome
counts, then each failing clause with its first failing test."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pytest_acl.results.clause_status import DRIFT, FAIL, checks_of

COLUMNS = ("pass", "fail", "error", "drift", "not_supported", "skip", "known_fail", "xpass")


def family_of(nodeid: str) -> str:
    """``suites/test_load_variants.py::…`` → ``load_variants``."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removesuffix(".py").removeprefix("test_")


def rows(records: list[dict[str, Any]]) -> list[tuple[str, str, Counter]]:
    table: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for record in records:
        variant = record.get("axes", {}).get("variant", "-")
        table[family_of(record["nodeid"]), str(variant)][record["outcome"]] += 1
    return [(family, variant, counts) for (family, variant), counts in sorted(table.items())]


def failing_clauses(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each clause that failed or drifted in its own checks (clause_status.py), with the
    first test where it did."""
    first: dict[str, str] = {}
    for record in records:
        for clause, status in checks_of(record).items():
            if status in (FAIL, DRIFT):
                first.setdefault(clause, f"{record['nodeid']} [{record['outcome']}]")
    return sorted(first.items())


def render(records: list[dict[str, Any]]) -> list[str]:
    table = rows(records)
    if not table:
        return []
    used = [c for c in COLUMNS if any(counts[c] for _, _, counts in table)] or ["pass"]
    width_f = max(len("family"), *(len(f) for f, _, _ in table))
    width_v = max(len("variant"), *(len(v) for _, v, _ in table))
    header = f"{'family':<{width_f}}  {'variant':<{width_v}}  " + "  ".join(
        f"{c:>{max(len(c), 5)}}" for c in used)
    lines = [header, "-" * len(header)]
    for family, variant, counts in table:
        lines.append(f"{family:<{width_f}}  {variant:<{width_v}}  " + "  ".join(
            f"{counts[c] or '.':>{max(len(c), 5)}}" for c in used))
    clauses = failing_clauses(records)
    if clauses:
        lines += ["", "failing clauses (first failing test):"]
        lines += [f"  {clause}: {test}" for clause, test in clauses]
    return lines
