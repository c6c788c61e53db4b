"""The clause catalog and the suite agree: every clause of suites/clauses.toml has a test,
every suite test names at least one clause, and no test names an unknown clause. Every
clause's source is one a reader can open: a key of suites/sources.toml (docs/sources.md)
or an https URL, and every source listed there is cited."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pytest_acl.clauses import CatalogError, Clause, citations, load_clauses, source_of
from pytest_acl.sources import SourcesError, load_sources, render_markdown

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


@pytest.fixture(scope="module")
def sources():
    return load_sources(ROOT / "suites" / "sources.toml")


def test_every_source_resolves_to_a_listed_source_or_an_https_url(catalog, sources):
    unresolved = {clause.id: [c.key for c in citations(clause, sources) if not c.known]
                  for clause in catalog.values()}
    assert {name: keys for name, keys in unresolved.items() if keys} == {}
    assert all(citations(clause, sources) for clause in catalog.values())


def test_every_listed_source_is_cited(catalog, sources):
    cited = {c.key for clause in catalog.values() for c in citations(clause, sources)}
    assert sorted(set(sources) - cited) == []


def test_no_source_names_a_path_outside_the_repository(catalog):
    for clause in catalog.values():
        for outside in ("seeds/", "reference/", "DESIGN.md", "shared/"):
            assert outside not in clause.source, (clause.id, clause.source)


def test_every_seed_page_is_a_source(catalog, sources):
    cited = {c.key for clause in catalog.values() for c in citations(clause, sources)}
    seeds = {key for key in sources if key.startswith("seed:")}
    assert seeds == {"seed:aclmdlBundleLoadModelWithMem", "seed:aclmdlLoadFromMem",
                     "seed:aclmdlLoadFromMemWithMem", "seed:acl.mdl.load_from_file_with_mem",
                     "seed:aclmdlQuerySizeFromMem"}
    assert seeds <= cited


def test_every_source_has_a_public_link_or_is_pytest_acls_own(sources):
    for source in sources.values():
        if source.key.startswith("pytest-acl:"):
            assert source.url is None and source.taken
        else:
            assert source.url is not None and source.url.startswith("https://"), source.key
        if source.key.startswith(("ge:", "runtime:")):
            repository, _, path = source.key.partition(":")
            assert source.url.startswith(f"https://github.com/hicann/{repository}/blob/")
            commit, _, linked = source.url.split("/blob/")[1].partition("/")
            assert len(commit) == 40 and linked == path, source.key


def test_docs_sources_md_is_the_shipped_table(sources):
    """docs/sources.md is written from suites/sources.toml (python -m pytest_acl.sources),
    which ships with the catalog so that an installed report can link the sources."""
    assert (ROOT / "docs" / "sources.md").read_text(encoding="utf-8") == render_markdown(sources)
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["pytest_acl.suites"]
    assert "sources.toml" in package_data and "clauses.toml" in package_data


def test_source_of_gives_a_title_and_link(catalog, sources):
    title, url = source_of(catalog["products.load_from_mem.a2_a3"], sources)
    assert title == "aclmdlLoadFromMem — AscendCL API reference (Chinese) — 产品支持情况"
    assert url == sources["seed:aclmdlLoadFromMem"].url
    own = Clause("x.y", "api", "pytest-acl:oracles (canaries)", "must", "t")
    assert source_of(own, sources) == (
        "pytest-acl oracles: checks derived from the contract — canaries", None)
    direct = Clause("x.y", "api", "https://example.org/page (§2); seed:aclmdlLoadFromMem",
                    "must", "t")
    assert source_of(direct, sources) == ("https://example.org/page — §2",
                                          "https://example.org/page")
    assert [c.key for c in citations(direct, sources)] == ["https://example.org/page",
                                                           "seed:aclmdlLoadFromMem"]
    unknown = Clause("x.y", "api", "seeds/001 (somewhere)", "must", "t")
    assert source_of(unknown, sources) == ("seeds/001 (somewhere)", None)
    assert [c.known for c in citations(unknown, sources)] == [False]


def test_source_of_uses_the_shipped_table_by_default(catalog, sources):
    clause = catalog["lifecycle.unload_twice_code"]
    assert source_of(clause) == source_of(clause, sources)
    assert source_of(clause)[1].startswith("https://github.com/hicann/ge/blob/")


@pytest.mark.parametrize(("body", "message"), [
    ('[[sources]]\nkey = "a:b"\n', "unknown table or key sources; entries are [[source]]"),
    ('[[source]]\nkey = "a:b"\ntitle = "t"\ntaken = "x"\n',
     "source #1 (a:b) lacks url (only pytest-acl's own checks have none)"),
    ('[[source]]\nkey = "a:b"\ntitle = "t"\ntaken = "x"\nurl = "http://x"\n',
     "url must be an https URL"),
    ('[[source]]\nkey = "a:b"\ntitle = "t"\ntaken = "x"\nurl = "https://x"\nnote = 1\n',
     "unknown key note"),
    ('[[source]]\nkey = "a:b"\ntitle = "t"\n', "lacks taken"),
])
def test_a_broken_sources_table_is_a_clear_error(tmp_path, body, message):
    bad = tmp_path / "sources.toml"
    bad.write_text(body)
    with pytest.raises(SourcesError, match=re.escape(message)):
        load_sources(bad)


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
