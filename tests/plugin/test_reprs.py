"""What shows in a failure report stays short: the catalog, its entries, acl_expect and
expectation entries are summarised, not dumped."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from pytest_acl.models.provider import ModelCatalog
from pytest_acl.oracles import Expect
from pytest_acl.results.expectations import Expectation


def test_catalog_and_entries(built_catalog):
    directory, manifest = built_catalog
    catalog = ModelCatalog(directory, manifest)
    assert len(repr(manifest)) > 1000  # what used to be printed
    assert repr(catalog).startswith(f"ModelCatalog({len(manifest['models'])} models, target")
    assert len(repr(catalog)) < 200 + len(str(directory))
    assert repr(catalog["mlp"]) == f"ModelEntry('mlp' in {str(directory)!r})"


def test_acl_expect_and_expectations():
    clauses = {f"c{i}": object() for i in range(80)}
    expect = Expect(SimpleNamespace(nodeid="suites/test_x.py::test_y"), clauses)  # type: ignore[arg-type]
    assert repr(expect) == "Expect('suites/test_x.py::test_y', 80 clauses)"
    entry = Expectation(3, "known bug", datetime.date(2030, 1, 1), match="*test_y*",
                        matched=[f"suites/test_{i}.py::t" for i in range(500)])
    assert repr(entry) == "Expectation('line 3: *test_y* (known bug)', 500 matched)"


def test_a_failed_comparison_of_codes_names_them(pytester):
    pytester.makepyfile("""
        def test_unload(acl, acl_device):
            assert acl.mdl.unload(4242) == 0

        def test_sizes(acl, acl_device):
            assert 3 == 4  # not codes: pytest's own message
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "E       assert 145003 (ACL_ERROR_GE_EXEC_MODEL_ID_INVALID) == 0 (ACL_SUCCESS)"])
    assert "(ACL_" not in "".join(line for line in result.stdout.lines if "3 == 4" in line)
