"""The conformance matrix printed at the end of a run: API family × variant against outcome
counts, then each failing clause with its first failing test. In a parity run each row is
split by binding, side by side, and binding defects (results/parity.py) are listed apart."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pytest_acl.results.clause_status import BINDING_DEFECT, DRIFT, FAIL, checks_of
from pytest_acl.results.parity import bindings, describe, with_binding_defects

COLUMNS = ("pass", "fail", "binding_defect", "error", "drift", "not_supported", "skip",
           "known_fail", "xpass")


def family_of(nodeid: str) -> str:
    """``suites/test_load_variants.py::…`` → ``load_variants``."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removesuffix(".py").removeprefix("test_")


def rows(records: list[dict[str, Any]]) -> list[tuple[str, str, Counter]]:
    """(family, variant, outcome counts); in a parity run the variant is followed by the
    binding (``from_mem sim``), each binding's row next to the other's."""
    table: dict[tuple[str, str, int, str], Counter] = defaultdict(Counter)
    order = {binding: index for index, binding in enumerate(bindings(records))}
    for record in records:
        variant = str(record.get("axes", {}).get("variant", "-"))
        binding = record.get("binding")
        where = (order[binding], f" {binding}") if isinstance(binding, str) else (-1, "")
        table[family_of(record["nodeid"]), variant, *where][record["outcome"]] += 1
    return [(family, variant + binding, counts)
            for (family, variant, _, binding), counts in sorted(table.items())]


def failing_clauses(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each clause that failed, drifted or — in a parity run — failed through one binding
    only (clause_status.py), with the first test where it did."""
    first: dict[str, str] = {}
    for record in records:
        for clause, status in checks_of(record).items():
            if status == BINDING_DEFECT:
                first.setdefault(clause, f"{record['nodeid']} [binding defect: "
                                         f"{describe(record)}]")
            elif status in (FAIL, DRIFT):
                first.setdefault(clause, f"{record['nodeid']} [{record['outcome']}]")
    return sorted(first.items())


def render(records: list[dict[str, Any]]) -> list[str]:
    records = with_binding_defects(records)
    table = rows(records)
    if not table:
        return []
    used = [c for c in COLUMNS if any(counts[c] for _, _, counts in table)] or ["pass"]
    width_f = max(len("family"), *(len(f) for f, _, _ in table))
    width_v = max(len("variant"), *(len(v) for _, v, _ in table))
    title = "variant binding" if bindings(records) else "variant"
    width_v = max(width_v, len(title))
    header = f"{'family':<{width_f}}  {title:<{width_v}}  " + "  ".join(
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
