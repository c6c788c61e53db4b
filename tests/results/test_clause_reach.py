"""verify's clause coverage: a clause that declares what a binding needs to reach it is
noted, not refused, when all its tests skipped as not exposed; any other unexercised clause
makes the run INVALID."""

from __future__ import annotations

from pathlib import Path

from pytest_acl.clauses import load_clauses
from pytest_acl.results.qualification import _clause_problems
from pytest_acl.results.records import NOT_EXPOSED
from pytest_acl.suite import catalog_file


def _catalog() -> dict:
    catalog = catalog_file()
    assert catalog is not None
    return load_clauses(Path(catalog))


def _records(skipped: set[str], message: str) -> dict[str, dict]:
    """One passing record per clause, except ``skipped``'s, which skip with ``message``."""
    return {f"t[{name}]": ({"outcome": "not_supported", "message": message, "clauses": [name]}
                           if name in skipped else {"outcome": "pass", "clauses": [name]})
            for name in _catalog()}


def test_the_catalog_declares_reach_for_the_c_only_and_bundle_family_clauses():
    reach = {name for name, clause in _catalog().items() if clause.reach}
    assert "null_out.query_size_code" in reach and "bundle.unknown_bundle_code" in reach
    assert "null_out.get_desc_code" not in reach  # pyACL passes a 0 desc: every binding


def test_every_clause_exercised_is_clean():
    assert _clause_problems(_records(set(), "")) == ([], [])


def test_an_unexposed_clause_with_reach_is_noted_not_refused():
    reach = {name for name, clause in _catalog().items() if clause.reach}
    problems, notes = _clause_problems(_records(reach, f"{NOT_EXPOSED} (sim): capi.aclrtMalloc"))
    assert problems == []
    assert notes and all("not reachable through this run's binding" in n for n in notes)
    assert "null_out.malloc_dev_ptr_code" in " ".join(notes)


def test_a_clause_without_reach_is_refused_even_when_not_exposed():
    problems, notes = _clause_problems(_records({"null_out.get_desc_code"},
                                                f"{NOT_EXPOSED} (sim): acl.mdl.get_desc"))
    assert len(problems) == 1 and "null_out.get_desc_code" in problems[0] and notes == []


def test_a_clause_with_reach_skipped_for_another_reason_is_refused():
    problems, _ = _clause_problems(_records({"null_out.query_size_code"}, "skipped by hand"))
    assert len(problems) == 1 and "null_out.query_size_code" in problems[0]
