"""The acl_* markers: registered and documented, argument checks at collection, and the skips
acl_requires / acl_soc decide from the backend in use (here the simulator; the pyacl stand-in
is in test_backends.py)."""

from __future__ import annotations

import pytest

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")


def test_markers_are_registered_and_documented(pytester):
    result = pytester.runpytest(*INNER, "--markers")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines_random([
        "@pytest.mark.acl_clause(*ids): the clause ids of suites/clauses.toml this test checks.",
        "@pytest.mark.acl_requires(*api_names): skip, naming what is missing, unless the "
        "backend module has every API, *",
        "@pytest.mark.acl_soc(*patterns): run only on SoCs matching one of the fnmatch "
        "patterns, *",
        "@pytest.mark.acl_leak_check: fail the test when device memory in use, live contexts "
        "or live streams differ after it from before it.",
    ])


def test_strict_markers_clean(pytester):
    """Every marker, at function, class and module level, passes --strict-markers.

    In a subprocess: pytest remembers marker names registered by any earlier session of the
    process (the outer one included), which would let an unregistered marker pass in process.
    """
    pytester.makepyfile("""
        import pytest

        pytestmark = [pytest.mark.acl_clause("rt.module_level"), pytest.mark.acl_leak_check]

        @pytest.mark.acl_clause("rt.malloc.size_zero", "rt.malloc")
        @pytest.mark.acl_requires("rt.malloc", "acl.rt.free")
        @pytest.mark.acl_soc("Ascend910B*")
        @pytest.mark.acl_leak_check
        def test_all(acl, acl_device):
            pass

        @pytest.mark.acl_clause("rt.class_level")
        @pytest.mark.acl_requires("init")
        class TestGroup:
            def test_in_class(self):
                pass
    """)
    result = pytester.runpytest_subprocess(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)


def test_unregistered_lookalike_is_still_caught(pytester):
    """--strict-markers stays meaningful: only the documented names are registered."""
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_clauses("rt.x")
        def test_typo():
            pass
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*'acl_clauses' not found in `markers` configuration option*"])


def test_clause_ids_are_readable_from_the_item(pytester):
    pytester.makeconftest("""
        from pytest_acl import markers

        def pytest_collection_modifyitems(items):
            for item in items:
                print("clauses", item.name, markers.clause_ids(item))
    """)
    pytester.makepyfile("""
        import pytest

        pytestmark = pytest.mark.acl_clause("mdl.load")

        @pytest.mark.acl_clause("mdl.load.from_file", "mdl.unload")
        def test_a():
            pass
    """)
    result = pytester.runpytest(*INNER, "-s")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["clauses test_a ['mdl.load.from_file', 'mdl.unload', 'mdl.load']"])


@pytest.mark.parametrize(("mark", "message"), [
    ("acl_clause()", "expected acl_clause(*ids) with at least one clause id *, "
                     "got args=() kwargs={}"),
    ("acl_clause(ids='rt.x')", "expected acl_clause(*ids) with at least one clause id *, "
                               "got args=() kwargs={'ids': 'rt.x'}"),
    ("acl_clause('Rt.Malloc')", "acl_clause: 'Rt.Malloc' is not a valid clause id *"),
    ("acl_clause('rt..malloc')", "acl_clause: 'rt..malloc' is not a valid clause id *"),
    ("acl_clause(3)", "acl_clause: 3 is not a valid clause id *"),
    ("acl_requires()", "expected acl_requires(*api_names) with at least one API name *"),
    ("acl_requires('rt.malloc()')", "acl_requires: 'rt.malloc()' is not a valid API name *"),
    ("acl_requires(('rt.malloc',))", "acl_requires: ('rt.malloc',) is not a valid API name *"),
    ("acl_soc()", "expected acl_soc(*patterns) with at least one SoC pattern *"),
    ("acl_soc(910)", "acl_soc: 910 is not a valid SoC pattern *"),
    ("acl_leak_check(True)", "acl_leak_check takes no arguments"),
    ("acl_leak_check(strict=True)", "acl_leak_check takes no arguments"),
])
def test_bad_marker_arguments_are_usage_errors(pytester, mark, message):
    pytester.makepyfile(f"""
        import pytest

        def test_fine():
            pass

        @pytest.mark.{mark}
        def test_bad():
            pass
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: test_bad_marker_arguments_are_usage_errors.py"
                                 f"::test_bad: {message}"])
    assert "passed" not in result.stdout.str()


def test_acl_requires_runs_when_the_backend_has_every_api(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_requires("rt.malloc")
        @pytest.mark.acl_requires("acl.rt.free", "mdl.create_dataset", "init")
        def test_present():
            pass
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)


def test_acl_requires_skips_naming_what_is_missing(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_requires("rt.malloc", "mdl.load_with_telepathy", "acl.mdl.unload_all")
        def test_missing(acl_runtime):
            raise AssertionError("must not run")

        @pytest.mark.acl_requires("rt")  # a submodule is not an API
        def test_not_callable():
            raise AssertionError("must not run")

        @pytest.mark.acl_requires("rt.malloc.nothing_here")
        def test_too_deep():
            raise AssertionError("must not run")

        @pytest.mark.acl_requires("mdl.load_with_telepathy")
        class TestOnClass:
            def test_one(self):
                raise AssertionError("must not run")
    """)
    result = pytester.runpytest(*INNER, "-rs")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines_random([
        "SKIPPED [[]1[]] *: not exposed by this backend (sim): acl.mdl.load_with_telepathy, "
        "acl.mdl.unload_all",
        "SKIPPED [[]1[]] *: not exposed by this backend (sim): acl.rt",
        "SKIPPED [[]1[]] *: not exposed by this backend (sim): acl.rt.malloc.nothing_here",
        "SKIPPED [[]1[]] *: not exposed by this backend (sim): acl.mdl.load_with_telepathy",
    ])


def test_acl_requires_follows_the_module_in_use(pytester):
    """The decision looks at the module, not a list: an API removed from the simulator's
    module (as a conftest might do to mimic an older pyACL) makes the test skip."""
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(autouse=True, scope="session")
        def _older_pyacl(acl):
            saved = acl.rt.memset
            del acl.rt.memset
            yield
            acl.rt.memset = saved
    """)
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_requires("rt.memset")
        def test_memset():
            raise AssertionError("must not run")

        @pytest.mark.acl_requires("rt.memcpy")
        def test_memcpy():
            pass
    """)
    result = pytester.runpytest(*INNER, "-rs")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*not exposed by this backend (sim): acl.rt.memset"])


def test_acl_soc(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_soc("Ascend910B*")
        def test_family(acl_backend):
            assert acl_backend.soc_name() == "Ascend910B1"

        @pytest.mark.acl_soc("Ascend310P*", "Ascend910B1")
        def test_any_pattern():
            pass

        @pytest.mark.acl_soc("Ascend310P*", "Ascend910")
        def test_other():
            raise AssertionError("must not run")

        @pytest.mark.acl_soc("ascend910b*")
        def test_case_sensitive():
            raise AssertionError("must not run")
    """)
    result = pytester.runpytest(*INNER, "-rs")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines_random([
        "SKIPPED [[]1[]] *: SoC Ascend910B1 does not match acl_soc('Ascend310P*', 'Ascend910')",
        "SKIPPED [[]1[]] *: SoC Ascend910B1 does not match acl_soc('ascend910b*')",
    ])


def test_markers_with_no_acl_fixtures_leave_the_runtime_alone(pytester):
    """acl_requires and acl_clause need no runtime; a test without them costs nothing."""
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_clause("rt.x")
        @pytest.mark.acl_requires("rt.malloc")
        def test_a(acl):
            assert acl.__simulator__.runtime.init_count == 0

        def test_b():
            pass
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
