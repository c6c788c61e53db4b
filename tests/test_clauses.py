"""The clause catalog and the suite agree: every clause of suites/clauses.toml has a test,
every suite test names at least one clause, and no test names an unknown clause."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_acl.clauses import CatalogError, load_clauses

ROOT = Path(__file__).resolve().parent.parent
COLLECT = """
import json, sys, pytest

class Collector:
    def pytest_collection_finish(self, session):
        found = {item.nodeid: sorted({arg for mark in item.iter_markers("acl_clause")
                                      for arg in mark.args}) for item in session.items}
        print("CLAUSES:" + json.dumps(found))

sys.exit(pytest.main(["suites", "--collect-only", "-q", "-p", "no:cacheprovider"],
                     plugins=[Collector()]))
"""


@pytest.fixture(scope="module")
def tests_and_clauses() -> dict[str, list[str]]:
    result = subprocess.run([sys.executable, "-c", COLLECT], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = next(text for text in result.stdout.splitlines() if text.startswith("CLAUSES:"))
    return json.loads(line.removeprefix("CLAUSES:"))


@pytest.fixture(scope="module")
def catalog():
    return load_clauses(ROOT / "suites" / "clauses.toml")


def test_every_clause_has_a_test(tests_and_clauses, catalog):
    covered = {clause for clauses in tests_and_clauses.values() for clause in clauses}
    assert sorted(set(catalog) - covered) == []


def test_every_test_names_only_known_clauses(tests_and_clauses, catalog):
    unknown = {node: sorted(set(clauses) - set(catalog))
               for node, clauses in tests_and_clauses.items() if set(clauses) - set(catalog)}
    assert unknown == {}


def test_every_suite_test_names_a_clause(tests_and_clauses):
    assert [node for node, clauses in tests_and_clauses.items() if not clauses] == []


def test_every_seed_page_is_a_source(catalog):
    sources = " ".join(clause.source for clause in catalog.values())
    for seed in ("seeds/000", "seeds/001", "seeds/002", "seeds/003", "seeds/004"):
        assert seed in sources, seed


def test_both_levels_are_used_and_the_sharing_conflict_is_recorded(catalog):
    assert {clause.level for clause in catalog.values()} == {"must", "observed"}
    largest = catalog["sharing.work_serial_models_share_largest"]
    assert "Conflict" in largest.notes and "total" in largest.notes


def test_a_broken_catalog_is_a_clear_error(tmp_path):
    bad = tmp_path / "clauses.toml"
    bad.write_text('[[clause]]\nid = "a"\napi = "x"\nsource = "s"\nlevel = "maybe"\ntext = "t"\n')
    with pytest.raises(CatalogError, match="level 'maybe' is not one of must, observed"):
        load_clauses(bad)
    bad.write_text('[[clause]]\nid = "a"\n')
    with pytest.raises(CatalogError, match="lacks api, source, level, text"):
        load_clauses(bad)
