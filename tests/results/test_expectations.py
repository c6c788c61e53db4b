"""Expectation files: matching by test and by clause, SoC and CANN scoping, stale and expired
entries, xpass, waivers, strict mode, and malformed files."""

from __future__ import annotations

import textwrap

import pytest

from pytest_acl.results.expectations import in_range, line_of, matches

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")
TESTS = textwrap.dedent("""
    import pytest

    def test_broken():
        assert False, "still broken"

    @pytest.mark.acl_clause("demo.one")
    def test_broken_by_clause():
        assert False

    def test_fixed():
        pass

    def test_waived():
        assert False

    def test_other_soc():
        assert False
""")
CLAUSES = '[[clause]]\nid = "demo.one"\napi = "x"\nsource = "s"\nlevel = "must"\ntext = "t"\n'


def expectations(body: str) -> str:
    return textwrap.dedent(body)


ENTRIES = expectations("""
    [[expectation]]
    match = "test_demo.py::test_broken"
    reason = "bug 1"
    bug = "https://bugs.example/1"
    expires = 2999-01-01

    [[expectation]]
    clause = "demo.one"
    cann = ">=9.0,<10"
    reason = "bug 2"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_fixed"
    reason = "was broken"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_waived"
    kind = "waived"
    reason = "vendor waiver"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_other_soc"
    soc = ["Ascend310P*"]
    reason = "only on 310P"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_nothing_like_this"
    reason = "stale"
    expires = 2999-01-01

    [[expectation]]
    match = "test_demo.py::test_broken"
    reason = "old entry"
    expires = 2000-01-01
""")


@pytest.fixture
def demo(pytester):
    pytester.makepyfile(test_demo=TESTS)
    pytester.makefile(".toml", clauses=CLAUSES)
    pytester.makefile(".toml", expect=ENTRIES)
    return pytester


def test_matching_scoping_and_reporting(demo):
    result = demo.runpytest(*INNER, "--acl-expectations", "expect.toml", "-rxX")
    result.assert_outcomes(xfailed=3, xpassed=1, failed=1)  # other_soc is out of scope
    result.stdout.fnmatch_lines_random([
        "*acl expectations*",
        "expired: line 35: test_demo.py::test_broken (old entry) expired on 2000-01-01",
        "matches nothing: line 30: test_demo.py::test_nothing_like_this (stale)",
        "matches nothing: line 24: test_demo.py::test_other_soc (only on 310P)",
        "passes although expected to fail (remove its entry?): test_demo.py::test_fixed",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # test_other_soc really fails


def test_records_say_known_fail_waived_and_xpass(demo):
    import json

    demo.runpytest(*INNER, "--acl-expectations", "expect.toml", "--acl-report-dir", "out")
    (run,) = list((demo.path / "out").iterdir())
    outcomes = {r["nodeid"].split("::")[1]: r["outcome"] for r in map(
        json.loads, (run / "results.jsonl").read_text().splitlines()) if r["type"] == "test"}
    assert outcomes == {"test_broken": "known_fail", "test_broken_by_clause": "known_fail",
                        "test_fixed": "xpass", "test_waived": "waived", "test_other_soc": "fail"}


def test_strict_mode_fails_on_stale_entries_and_xpass(demo):
    result = demo.runpytest(*INNER, "--acl-expectations", "expect.toml",
                            "--acl-strict-expectations", "-k", "not other_soc")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(xfailed=3, failed=1)  # strict xfail: the xpass is a failure


ENTRY = 'match = "x"\nreason = "r"\nexpires = 2999-01-01\n'


@pytest.mark.parametrize(("body", "message"), [
    # the cases of issue 15: each used to end in INTERNALERROR or to be ignored
    ("[expectation]\n" + ENTRY, "bad.toml:1: [expectation] is a single table; write each "
     "entry as [[expectation]] (double brackets: an array of tables)"),
    ("[[expectations]]\n" + ENTRY, "bad.toml:1: [[expectations]]: unknown table or key; an "
     "expectation file holds [[expectation]] tables only (did you mean [[expectation]]?)"),
    ("[[expectation]]\n" + ENTRY + "soc = 910\n", "bad.toml:5: [[expectation]] #1, key soc: "
     "must be a SoC name pattern or a list of them, as strings, such as soc = "
     "[\"Ascend910B*\"]; got the number 910"),
    ('[[expectation]]\nmatch = 5\nreason = "r"\nexpires = 2999-01-01\n',
     "bad.toml:2: [[expectation]] #1, key match: must be a node id, a node-id prefix or a "
     "glob, as a non-empty string"),
    ("[[expectation]]\n" + ENTRY + "\n[[expectation]]\nmatch = \"y\"\nreason = \"r\"\n"
     "expires = 2027-03-31T10:00:00\n", "bad.toml:9: [[expectation]] #2, key expires: must "
     "be a TOML date (no quotes, no time of day), such as expires = 2027-03-31; got the "
     "date-time 2027-03-31T10:00:00"),
    # more of the same kind
    ('[[expectation]]\nmatch = "x"\nreason = "r"\nexpires = "soon"\n',
     "bad.toml:4: [[expectation]] #1, key expires: must be a TOML date"),
    ("[[expectation]]\n" + ENTRY + "soc = [\"Ascend910B*\", 3]\n",
     "bad.toml:5: [[expectation]] #1, key soc: must be a SoC name pattern"),
    ('[[expectation]]\nmatch = "x"\nreasons = "r"\nexpires = 2999-01-01\n',
     "bad.toml:3: [[expectation]] #1, key reasons: unknown key (did you mean reason?); the "
     "keys are match, clause, soc, cann, reason, bug, expires, kind"),
    ('[[expectation]]\nmatch = "x"\nreason = ""\nexpires = 2999-01-01\n',
     "bad.toml:3: [[expectation]] #1, key reason: must be why the test is expected to fail"),
    ("[[expectation]]\n" + ENTRY + "kind = \"maybe\"\n",
     "bad.toml:5: [[expectation]] #1, key kind: must be one of known_fail, waived"),
    ("[[expectation]]\n" + ENTRY + "cann = \"9\"\n",
     "bad.toml:5: [[expectation]] #1, key cann: must be a CANN version range"),
    ("[[expectation]]\n" + ENTRY + "bug = 1234\n",
     "bad.toml:5: [[expectation]] #1, key bug: must be a link or bug id"),
    ('[[expectation]]\nmatch = "x"\nexpires = 2999-01-01\n',
     "bad.toml:1: [[expectation]] #1: missing reason"),
    ('[[expectation]]\nreason = "r"\nexpires = 2999-01-01\n',
     "bad.toml:1: [[expectation]] #1: missing match or clause"),
    ("expectation = [1]\n", "bad.toml:1: [[expectation]] #1: is the number 1, not a table"),
    ('expectation = "x"\n', "bad.toml:1: expectation is the string 'x'; write each entry as "
     "[[expectation]]"),
    ('match = "x"\n[[expectation]]\n' + ENTRY, "bad.toml:1: match = \"x\": unknown table or "
     "key; an expectation file holds [[expectation]] tables only"),
    ("[[expectation]\nmatch = \"x\"\n", "bad.toml:1: not valid TOML: "),
])
def test_malformed_files_are_usage_errors_naming_file_line_entry_and_key(pytester, body,
                                                                         message):
    pytester.makepyfile("def test_x(): pass")
    pytester.makefile(".toml", bad=body)
    result = pytester.runpytest(*INNER, "--acl-expectations", "bad.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: --acl-expectations {message}" in result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_unreadable_files_are_usage_errors(pytester):
    pytester.makepyfile("def test_x(): pass")
    (pytester.path / "latin1.toml").write_bytes(b'[[expectation]]\nreason = "\xe9"\n')
    result = pytester.runpytest(*INNER, "--acl-expectations", "latin1.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --acl-expectations latin1.toml: not UTF-8 text "
                                 "(byte 26); write the file as UTF-8 TOML"])
    missing = pytester.runpytest(*INNER, "--acl-expectations", "nowhere.toml")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["ERROR: --acl-expectations nowhere.toml: cannot read: "
                                  "No such file or directory"])


def test_line_of_finds_tables_and_keys():
    text = '# [[expectation]] in a comment\n[[expectation]]\nmatch = "a"\n\n[[expectation]]\n' \
           'reason = "r"\n"soc" = "x"\n[other]\nsoc = 1\n'
    assert line_of(text, "expectation") == 2
    assert line_of(text, "expectation", 1) == 5
    assert line_of(text, "expectation", 1, "soc") == 7  # not the [other] table's soc
    assert line_of(text, "expectation", 1, "match") == 5  # not written there: the table
    assert line_of(text, "other") == 8 and line_of(text, "missing") == 0


# The three forms of ``match``, with the README's examples.
MATCH_FORMS = [
    ("suites/test_user_memory.py::test_weights_live_in_the_user_buffer_and_stay_unchanged"
     "[file_with_mem-mlp]",
     ["suites/test_user_memory.py::test_weights_live_in_the_user_buffer_and_stay_unchanged"
      "[file_with_mem-mlp]"],
     ["suites/test_user_memory.py::test_weights_live_in_the_user_buffer_and_stay_unchanged"
      "[file_with_mem-conv]"]),
    ("suites/test_lifecycle.py::test_sync_execute_allocates_null_output_buffers",
     ["suites/test_lifecycle.py::test_sync_execute_allocates_null_output_buffers[mlp]",
      "suites/test_lifecycle.py::test_sync_execute_allocates_null_output_buffers[multi_io]"],
     ["suites/test_lifecycle.py::test_sync_execute_allocates_null_output_buffers_too",
      "suites/test_lifecycle.py::test_sync"]),
    ("suites/test_lifecycle.py",
     ["suites/test_lifecycle.py::test_ids_are_unique_count_up_and_are_not_reused"],
     ["suites/test_lifecycle.pyc::test_x", "suites/test_lifecycle_more.py::test_x"]),
    ("suites/test_lifecycle.py::test_a_load_short_of_device_memory_anywhere_fails_cleanly"
     "[half_the_weights-*]",
     ["suites/test_lifecycle.py::test_a_load_short_of_device_memory_anywhere_fails_cleanly"
      "[half_the_weights-mlp]",
      "suites/test_lifecycle.py::test_a_load_short_of_device_memory_anywhere_fails_cleanly"
      "[half_the_weights-conv]"],
     ["suites/test_lifecycle.py::test_a_load_short_of_device_memory_anywhere_fails_cleanly"
      "[all_but_a_little-mlp]"]),
    ("suites/test_*.py::test_x[?]", ["suites/test_a.py::test_x[1]"],
     ["suites/test_a.py::test_x[12]", "suites/test_a.py::test_x1"]),
]


@pytest.mark.parametrize(("pattern", "covered", "not_covered"), MATCH_FORMS)
def test_match_is_an_exact_id_a_prefix_or_a_glob_with_literal_brackets(pattern, covered,
                                                                       not_covered):
    assert all(matches(pattern, nodeid) for nodeid in covered)
    assert not any(matches(pattern, nodeid) for nodeid in not_covered)


def test_the_readme_documents_the_match_forms():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for pattern in (MATCH_FORMS[0][0], MATCH_FORMS[1][0], MATCH_FORMS[3][0]):
        assert f"| `{pattern}` |" in readme


def test_match_forms_in_a_run(pytester):
    pytester.makepyfile(test_p=textwrap.dedent("""
        import pytest

        @pytest.mark.parametrize("case", ["case-1", "case-2", "other"])
        def test_x(case):
            assert False

        @pytest.mark.parametrize("n", [1, 2])
        def test_y(n):
            assert False

        def test_yz():
            assert False
    """))
    pytester.makefile(".toml", expect=expectations("""
        [[expectation]]
        match = "test_p.py::test_x[case-*]"
        reason = "a glob; its brackets are literal"
        expires = 2999-01-01

        [[expectation]]
        match = "test_p.py::test_y"
        reason = "a prefix: every parametrization, not test_yz"
        expires = 2999-01-01

        [[expectation]]
        match = "test_p.py::test_x[other]"
        reason = "an exact id"
        expires = 2999-01-01
    """))
    result = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml", "-rxf")
    result.assert_outcomes(xfailed=5, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_p.py::test_yz*"])
    assert "matches nothing" not in result.stdout.str()


def test_version_ranges():
    assert in_range("9.0.0", ">=9.0,<10")
    assert not in_range("8.5.0", ">=9.0")
    assert in_range("8.0.RC2", ">=8.0,<9") and not in_range(None, ">=1")


def test_strict_mode_fails_a_green_run_with_stale_entries(pytester):
    pytester.makepyfile("def test_fine(): pass")
    pytester.makefile(".toml", expect=expectations("""
        [[expectation]]
        match = "test_*.py::test_gone"
        reason = "stale"
        expires = 2999-01-01
    """))
    relaxed = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml")
    assert relaxed.ret == pytest.ExitCode.OK
    relaxed.stdout.fnmatch_lines(["matches nothing: line 1: test_*.py::test_gone (stale)"])
    strict = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml",
                                "--acl-strict-expectations")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED


def test_the_cann_version_option_scopes_entries(pytester):
    pytester.makefile(".toml", clauses=CLAUSES, expect=expectations("""
        [[expectation]]
        match = "test_v.py::test_broken"
        cann = ">=8.0,<8.1"
        reason = "fixed in 8.1"
        expires = 2999-01-01
    """))
    pytester.makepyfile(test_v="def test_broken():\n    assert False\n")
    old = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml",
                             "--acl-cann-version", "8.0.RC3")
    old.assert_outcomes(xfailed=1)  # a known failure on 8.0.x
    assert old.ret == pytest.ExitCode.OK
    new = pytester.runpytest(*INNER, "--acl-expectations", "expect.toml",
                             "--acl-cann-version", "8.1.RC1")
    assert new.ret == pytest.ExitCode.TESTS_FAILED
    new.assert_outcomes(failed=1)
