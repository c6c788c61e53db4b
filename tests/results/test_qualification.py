"""Qualification bundles and ``pytest-acl verify``: a complete full run of the real suite is
CONFORMANT; every forgery and every kind of incompleteness is not; a signed bundle fails its
signature after any edit; verify reads nothing outside the bundle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_acl.results.qualification import BUNDLE_FILE, sha256, write_bundle

# Whole-suite runs in subprocesses: more than the default per-test limit on a slow machine.
pytestmark = [pytest.mark.whole_suite, pytest.mark.timeout(900)]

SCRIPT = Path(sys.executable).with_name("pytest-acl")


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


def verdict_of(run: Path, *extra: str) -> str:
    result = cli("verify", str(run), *extra)
    first = result.stdout.splitlines()[0] if result.stdout else result.stderr
    assert (result.returncode == 0) == (first == "verdict: CONFORMANT"), result.stdout
    return result.stdout


@pytest.fixture
def bundle(full_run, tmp_path) -> Path:
    """A private copy of the complete full run's bundle, to edit."""
    copy = tmp_path / "bundle"
    shutil.copytree(full_run.directory, copy)
    return copy


def lines_of(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]


def write_lines(run: Path, lines: list[dict]) -> None:
    (run / "results.jsonl").write_text("".join(json.dumps(line, sort_keys=True) + "\n"
                                               for line in lines))


def rehash(run: Path) -> None:
    """What a forger does after an edit: recompute the hashes in qualification.json."""
    record = json.loads((run / BUNDLE_FILE).read_text())
    record["files"] = {name: sha256(run / name) for name in record["files"]
                       if (run / name).is_file()}
    (run / BUNDLE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def test_a_complete_full_run_is_conformant_and_says_it_is_unsigned(full_run):
    assert {p.name for p in full_run.directory.iterdir()} == {
        "results.jsonl", "report.html", BUNDLE_FILE}
    output = verdict_of(full_run.directory)
    assert output.startswith("verdict: CONFORMANT")
    assert "unsigned" in output


def test_a_quick_run_writes_no_bundle_and_never_verifies(run_suite, tmp_path):
    run = run_suite(tmp_path / "quick", "-k", "test_ids_are_unique")
    assert not (run.directory / BUNDLE_FILE).exists()
    assert cli("verify", str(run.directory)).stdout.startswith("verdict: INVALID")


def test_a_full_run_with_deselected_tests_is_not_conformant(run_suite, suite_size, tmp_path):
    run = run_suite(tmp_path / "partial", "--acl-level", "full", "-k", "test_ids_are_unique")
    assert (run.directory / BUNDLE_FILE).is_file()  # complete for what it selected...
    output = verdict_of(run.directory)
    assert output.startswith("verdict: INVALID")  # ...but not the suite
    assert f"of the {suite_size} required tests have no record" in output


def make_failing(run: Path) -> None:
    """Turn the bundle into the one a run with a failing test writes (records, summary,
    report and hashes all agree)."""
    from pytest_acl.clauses import load_clauses
    from pytest_acl.results.html import render
    from pytest_acl.results.runfile import read_run
    from pytest_acl.results.verdict import run_verdict
    from pytest_acl.suite import catalog_file

    lines = lines_of(run)
    test = next(line for line in lines if line["type"] == "test")
    test["outcome"], test["message"] = "fail", "AssertionError: the card said no"
    write_lines(run, lines)
    contents = read_run(run)
    verdict = run_verdict(contents.collected, contents.final_records(), True)
    lines[-1].update(verdict=verdict.verdict, counts=verdict.counts, reasons=verdict.reasons)
    write_lines(run, lines)
    (run / "report.html").write_text(render(lines[0], list(read_run(run).final_records().values()),
                                            load_clauses(catalog_file()), verdict))
    rehash(run)


def _fail_edited_to_pass(run: Path) -> None:
    make_failing(run)
    assert cli("verify", str(run)).stdout.startswith("verdict: NOT CONFORMANT")
    lines = lines_of(run)
    next(line for line in lines if line["type"] == "test")["outcome"] = "pass"
    write_lines(run, lines)
    rehash(run)


def _record_outcome(run: Path, outcome: str) -> None:
    lines = lines_of(run)
    next(line for line in lines if line["type"] == "test")["outcome"] = outcome
    write_lines(run, lines)
    rehash(run)


def _duplicate_record(run: Path) -> None:
    lines = lines_of(run)
    test = next(line for line in lines if line["type"] == "test")
    write_lines(run, [*lines[:-1], test, lines[-1]])
    rehash(run)


def _drop_record(run: Path) -> None:
    lines = lines_of(run)
    lines.remove(next(line for line in lines if line["type"] == "test"))
    write_lines(run, lines)
    rehash(run)


def _foreign_record(run: Path) -> None:
    lines = lines_of(run)
    extra = dict(next(line for line in lines if line["type"] == "test"))
    extra["nodeid"] = "suites/test_made_up.py::test_that_always_passes"
    write_lines(run, [*lines[:-1], extra, lines[-1]])
    rehash(run)


def _results_dropped_from_files(run: Path) -> None:
    make_failing(run)
    record = json.loads((run / BUNDLE_FILE).read_text())
    del record["files"]["results.jsonl"]
    (run / BUNDLE_FILE).write_text(json.dumps(record))


def _empty_files(run: Path) -> None:
    (run / BUNDLE_FILE).write_text(json.dumps({"format": 2, "files": {},
                                               "expectations": None}))


def _quick_relabelled_full(run: Path) -> None:
    lines = lines_of(run)
    lines[0]["level"] = "quick"
    lines[0]["options"]["level"]["value"] = "quick"
    write_lines(run, lines)
    rehash(run)  # the run as a quick run would be, now relabelled:
    lines[0]["level"] = "full"
    write_lines(run, lines)
    rehash(run)


def _cut_short(run: Path) -> None:
    lines = lines_of(run)
    write_lines(run, lines[:-1])  # no summary: the run was killed
    rehash(run)


def _appended_line(run: Path) -> None:
    with (run / "results.jsonl").open("a") as stream:
        stream.write("\n")


def _report_edited(run: Path) -> None:
    make_failing(run)
    page = (run / "report.html").read_text()
    (run / "report.html").write_text(page.replace('id="verdict">FAIL<', 'id="verdict">PASS<'))
    rehash(run)


FORGERIES = {
    "fail edited to pass, hash recomputed": (_fail_edited_to_pass, "INVALID"),
    "unknown outcome": (lambda run: _record_outcome(run, "passed_with_honours"), "INVALID"),
    "duplicated record": (_duplicate_record, "INVALID"),
    "dropped record": (_drop_record, "INVALID"),
    "record of a test the suite lacks": (_foreign_record, "INVALID"),
    "results.jsonl dropped from files": (_results_dropped_from_files, "INVALID"),
    "empty files": (_empty_files, "INVALID"),
    "quick run relabelled full": (_quick_relabelled_full, "INVALID"),
    "killed run given a bundle": (_cut_short, "INVALID"),
    "edited after the run": (_appended_line, "INVALID"),
    "report.html edited": (_report_edited, "INVALID"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_no_forgery_or_incompleteness_is_conformant(bundle, forgery):
    edit, expected = FORGERIES[forgery]
    edit(bundle)
    output = verdict_of(bundle)
    assert output.startswith(f"verdict: {expected}"), output


def test_verify_reads_nothing_outside_the_bundle(bundle, tmp_path):
    """``files`` naming a path outside (here a FIFO, which would block a reader forever) or a
    results.jsonl that is a link to a file elsewhere: INVALID, and nothing outside is read."""
    fifo = tmp_path / "outside"
    os.mkfifo(fifo)
    record = json.loads((bundle / BUNDLE_FILE).read_text())
    record["files"]["../outside"] = "0" * 64
    (bundle / BUNDLE_FILE).write_text(json.dumps(record))
    output = verdict_of(bundle)  # a read of the FIFO would time this out
    assert output.startswith("verdict: INVALID") and "not part of a bundle ../outside" in output

    linked = tmp_path / "linked"
    shutil.copytree(bundle, linked)
    elsewhere = tmp_path / "results-elsewhere.jsonl"
    (linked / "results.jsonl").rename(elsewhere)
    (linked / "results.jsonl").symlink_to(elsewhere)
    rehash(linked)
    assert "not a regular file inside the bundle" in verdict_of(linked)


def test_a_signed_bundle_verifies_and_any_edit_breaks_its_signature(bundle, tmp_path):
    keys = tmp_path / "keys"
    assert cli("keygen", "--out", str(keys)).returncode == 0
    private, public = keys / "acl-sign.pem", keys / "acl-sign.pub.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    write_bundle(bundle, None, private)
    output = verdict_of(bundle, "--key", str(public))
    assert output.startswith("verdict: CONFORMANT") and "signature valid" in output
    assert "not checked" in verdict_of(bundle)  # signed, but no key given

    other = tmp_path / "other"
    cli("keygen", "--out", str(other))
    output = verdict_of(bundle, "--key", str(other / "acl-sign.pub.pem"))
    assert output.startswith("verdict: INVALID") and "signature does not match" in output

    lines = lines_of(bundle)
    next(line for line in lines if line["type"] == "test")["duration"] += 1.0
    write_lines(bundle, lines)
    rehash(bundle)  # the hashes agree again; only the signature can tell
    assert verdict_of(bundle).startswith("verdict: CONFORMANT")
    output = verdict_of(bundle, "--key", str(public))
    assert output.startswith("verdict: INVALID") and "signature does not match" in output


def test_an_unsigned_bundle_fails_when_a_key_is_given(bundle, tmp_path):
    cli("keygen", "--out", str(tmp_path))
    output = verdict_of(bundle, "--key", str(tmp_path / "acl-sign.pub.pem"))
    assert output.startswith("verdict: INVALID") and "unsigned" in output


def test_bad_keys_are_clear_errors(bundle, tmp_path):
    (tmp_path / "junk.pem").write_text("not a key")
    result = cli("verify", str(bundle), "--key", str(tmp_path / "junk.pem"))
    assert result.returncode == 2 and "not a PEM public key" in result.stderr
    assert cli("keygen", "--out", str(tmp_path)).returncode == 0
    result = cli("keygen", "--out", str(tmp_path))
    assert result.returncode == 2 and "never overwritten" in result.stderr


def test_verify_of_what_is_not_a_run(tmp_path):
    result = cli("verify", str(tmp_path))  # a usage error, not a verdict on a bundle
    assert result.returncode == 2 and "not a run directory" in result.stderr
