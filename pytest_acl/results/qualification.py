"""Qualification: the bundle a complete ``--acl-level full`` run leaves, and
``pytest-acl verify``, which trusts nothing in it.

The bundle is the run directory with ``qualification.json``: the SHA-256 of each file of a
fixed set (``results.jsonl``, ``report.html`` and, when the run used one,
``expectations.toml``), and — with ``--acl-sign-key`` — ``qualification.sig``, an Ed25519
signature of ``qualification.json``.

``verify`` reads only those files, inside the bundle directory. What a run must contain comes
from the verifier's *own* suite: the same pytest-acl version and suite fingerprint,
collected at the run's level, gives the required tests; every one needs exactly one final
record with a known outcome, and no record may name a test the suite does not have; every
clause of the verifier's catalog must be exercised. Verdicts: CONFORMANT, NOT CONFORMANT (a
test failed), INCOMPLETE (the run did not finish: resume it) and INVALID (the bundle cannot
qualify: edited, forged, partial, another suite, quick level).

Hashes catch accidents; only a signature, checked with ``--key``, catches a forger.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_acl import __version__
from pytest_acl.results.records import FAILING, NOT_EXPOSED, NOT_RUN
from pytest_acl.results.runfile import RESULTS_FILE, RunFile, RunFileError, RunNotFound, read_run
from pytest_acl.results.signing import SIGNATURE_FILE
from pytest_acl.results.verdict import INCOMPLETE, run_verdict

BUNDLE_FILE = "qualification.json"
FORMAT = 2
REPORT_FILE = "report.html"
EXPECTATIONS_FILE = "expectations.toml"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundle_files(expectations_used: bool) -> set[str]:
    """The fixed set of files a bundle covers."""
    return {RESULTS_FILE, REPORT_FILE} | ({EXPECTATIONS_FILE} if expectations_used else set())


def write_bundle(run: Path, expectations: Path | None, sign_key: Path | None) -> Path:
    """Add the qualification record (and its signature) to a finished run directory."""
    used = expectations is not None and expectations.is_file()
    if used:
        shutil.copyfile(expectations, run / EXPECTATIONS_FILE)  # type: ignore[arg-type]
    record: dict[str, Any] = {
        "format": FORMAT, "expectations": EXPECTATIONS_FILE if used else None,
        "files": {name: sha256(run / name) for name in sorted(bundle_files(used))}}
    signature = None
    if sign_key is not None:
        from pytest_acl.results.signing import fingerprint, load_private

        record["key"] = fingerprint(load_private(sign_key).public_key())
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    path = run / BUNDLE_FILE
    path.write_text(text, encoding="utf-8")
    (run / SIGNATURE_FILE).unlink(missing_ok=True)
    if sign_key is not None:
        from pytest_acl.results.signing import sign

        signature, _ = sign(text.encode(), sign_key)
        (run / SIGNATURE_FILE).write_text(signature + "\n", encoding="utf-8")
    return path


@dataclass
class Verdict:
    verdict: str
    problems: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return 0 if self.verdict == "CONFORMANT" else 1


def _sample(names: list[str] | set[str], limit: int = 5) -> str:
    names = sorted(names)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit
                                       else "")


def _inside(run: Path, name: str) -> Path | None:
    """The bundle's file ``name`` if it is a regular file directly in the bundle directory
    (not a link, not elsewhere); None otherwise."""
    path = run / name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != run.resolve():
        return None
    return path


def check_files(run: Path, bundle: Any, key: Path | None) -> tuple[list[str], list[str]]:
    """(problems, notes) of the bundle record itself: its file set, hashes, signature."""
    problems: list[str] = []
    notes: list[str] = []
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        return [f"{BUNDLE_FILE} is not a format-{FORMAT} bundle record"], notes
    files = bundle.get("files")
    used = bundle.get("expectations")
    if used not in (None, EXPECTATIONS_FILE):
        problems.append(f"{BUNDLE_FILE} names {used!r} as its expectation file; a bundle's is "
                        f"{EXPECTATIONS_FILE}")
    expected = bundle_files(used is not None)
    if not isinstance(files, dict) or set(files) != expected:
        names = set(files) if isinstance(files, dict) else set()
        wrong = [f"missing {_sample(expected - names)}" if expected - names else "",
                 f"not part of a bundle {_sample(names - expected)}" if names - expected else ""]
        problems.append(f"{BUNDLE_FILE} must list exactly {_sample(expected)}: "
                        + "; ".join(filter(None, wrong)))
    for name in sorted(expected):
        path = _inside(run, name)
        digest = files.get(name) if isinstance(files, dict) else None
        if path is None:
            problems.append(f"{name} is missing, or not a regular file inside the bundle")
        elif not isinstance(digest, str) or sha256(path) != digest:
            problems.append(f"{name} was changed after the run (hash mismatch)")
    signature_path = _inside(run, SIGNATURE_FILE)
    if key is not None:
        from pytest_acl.results.signing import check

        if signature_path is None:
            problems.append(f"the bundle is unsigned (no {SIGNATURE_FILE}), but --key asks for "
                            "a signature")
        else:
            mismatch = check((run / BUNDLE_FILE).read_bytes(), signature_path.read_text(), key)
            if mismatch:
                problems.append(mismatch)
            else:
                notes.append(f"signature valid (key {str(bundle.get('key'))[:16]}…)")
    elif signature_path is not None:
        notes.append(f"signed (key {str(bundle.get('key'))[:16]}…), signature not checked: "
                     "give --key PUBKEY to check it")
    else:
        notes.append("unsigned: the hashes catch accidental changes, not a forger (sign with "
                     "--acl-sign-key, check with --key)")
    return problems, notes


def _sources(run: RunFile) -> list[dict[str, Any]]:
    return list(run.header.get("merged_from") or [run.header])


def check_sources(run: RunFile, own_hash: str | None) -> list[str]:
    """Each run in the bundle: level full, this pytest-acl and this suite; a merged bundle
    must be the N shards of one run, each exactly once."""
    problems = []
    for source in _sources(run):
        name = source.get("run_id", "?")
        if source.get("level") != "full":
            problems.append(f"run {name}: level {source.get('level')!r}; only level full "
                            "qualifies (quick runs are never valid for qualification)")
        if source.get("suite_version") != __version__:
            problems.append(f"run {name}: pytest-acl {source.get('suite_version')}, verified "
                            f"with {__version__}; verify with the version that ran it")
        if own_hash is None:
            problems.append("this pytest-acl has no conformance suite to verify against")
        elif source.get("suite_hash") != own_hash:
            problems.append(f"run {name}: ran another conformance suite (fingerprint "
                            f"{str(source.get('suite_hash'))[:12]}, this one {own_hash[:12]})")
    from pytest_acl.results.merge import shard_gaps

    problems += shard_gaps(_sources(run))[0]
    return problems


def check_consistency(run: RunFile, report_html: str) -> list[str]:
    """What a partial edit leaves behind: a header whose level disagrees with its options,
    a summary whose counts or verdict the records do not give, a report.html that is not
    the rendering of the results. (A forger who rewrites all of it is caught only by the
    signature.)"""
    from pytest_acl.clauses import load_clauses
    from pytest_acl.results.html import render
    from pytest_acl.suite import catalog_file

    problems = []
    for source in _sources(run):
        option = ((source.get("options") or {}).get("level") or {}).get("value")
        if option != source.get("level"):
            problems.append(f"run {source.get('run_id')}: the header says level "
                            f"{source.get('level')!r} but the run's options say {option!r}")
    summary = run.summary or {}
    final = run.final_records()
    interrupted = _interruption(run)
    verdict = run_verdict(run.collected, final, run.ended, interrupted)
    if not run.merged and (summary.get("counts") != verdict.counts
                           or summary.get("verdict") != verdict.verdict):
        problems.append(f"the summary (verdict {summary.get('verdict')}, counts "
                        f"{summary.get('counts')}) is not what the records give (verdict "
                        f"{verdict.verdict}, counts {verdict.counts})")
    catalog = catalog_file()
    clauses = load_clauses(catalog) if catalog is not None else {}
    if render(run.header, list(final.values()), clauses, verdict) != report_html:
        problems.append(f"{REPORT_FILE} is not the report of {RESULTS_FILE} (one of them was "
                        "edited)")
    return problems


def _interruption(run: RunFile) -> str | None:
    """What the run's verdict takes as its interruption (a merged run: missing shards)."""
    if run.merged:
        from pytest_acl.results.merge import missing_shards

        return missing_shards(_sources(run))
    return (run.summaries[-1].get("interrupted") if run.summaries else None)


def _records_by_test(run: RunFile) -> dict[str, list[dict[str, Any]]]:
    """The final records of each test, by its canonical id: one per merged run that has
    the test (within one run file the reader allows one)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in run.final_records().values():
        grouped[record["nodeid"]].append(record)
    return grouped


def _collector(header: dict[str, Any]) -> Callable[[str], list[str]]:
    """The installed suite's ids at a level — of a parity run (``backend`` ``sim,capi``)
    with each test once per binding, as that run collected them."""
    from pytest_acl import suite

    backends = str(header.get("backend") or "")
    return lambda level: suite.collect(level, backends=backends if "," in backends else None)


def verify(run: Path, key: Path | None = None,
           required: Callable[[str], list[str]] | None = None) -> Verdict:
    """The verdict on the bundle in ``run``. ``required(level)`` lists the canonical ids a
    run must have (default: collect the installed suite)."""
    from pytest_acl import suite

    if key is not None:
        from pytest_acl.results.signing import load_public

        load_public(key)  # an unusable key is the caller's error, whatever the bundle holds
    bundle_path = _inside(run, BUNDLE_FILE)
    if bundle_path is None:
        return _without_bundle(run)
    try:
        bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return Verdict("INVALID", [f"{BUNDLE_FILE} is not JSON"])
    problems, notes = check_files(run, bundle, key)
    if problems:
        return Verdict("INVALID", problems, notes=notes)
    try:
        contents = read_run(run / RESULTS_FILE)
    except RunFileError as exc:  # a line that is not a record, or a test recorded twice
        return Verdict("INVALID", [str(exc)], notes=notes)
    problems += [contents.cut_short] if contents.cut_short else []
    problems += check_sources(contents, suite.suite_hash())
    if not problems:
        problems += check_consistency(contents, (run / REPORT_FILE).read_text(
            encoding="utf-8", errors="replace"))
    if problems:
        return Verdict("INVALID", problems, notes=notes)
    level = "full"
    try:
        required_ids = set((required or _collector(contents.header))(level))
    except suite.SuiteUnavailable as exc:
        return Verdict("INVALID", [str(exc)], notes=notes)
    grouped = _records_by_test(contents)
    incomplete: list[str] = []
    unknown = set(grouped) - required_ids
    if unknown:
        problems.append(f"{len(unknown)} record(s) of tests this suite does not have: "
                        f"{_sample(unknown)}")
    final: dict[str, dict[str, Any]] = {}
    duplicates, lost = [], []
    for test, records in grouped.items():
        ran = [r for r in records if r["outcome"] not in NOT_RUN]
        if len(ran) > 1:  # the same test in two merged runs (a shard merged twice)
            duplicates.append(f"{test} ({len(ran)} final records)")
        if ran:
            final[test] = ran[-1]
        else:
            lost.append(test)
    if duplicates:
        problems.append(f"{len(duplicates)} test(s) with more than one final record: "
                        f"{_sample(duplicates)}")
    missing = required_ids - set(final) - set(lost)
    from pytest_acl.results.merge import shard_gaps

    absent = shard_gaps(_sources(contents))[1]
    if absent:
        incomplete.append(f"shard(s) {', '.join(absent)} were not merged in")
        missing = set()  # they are the missing shards' tests
    if not contents.ended:
        incomplete.append("the run has no summary: it was killed or is still running")
    if lost:
        incomplete.append(f"{len(lost)} test(s) never ran (device lost): {_sample(lost)}")
    if missing:
        problems.append(f"{len(missing)} of the {len(required_ids)} required tests have no "
                        f"record (deselected, another shard, or never run): {_sample(missing)}")
    clause_problems, clause_notes = _clause_problems(final)
    problems += clause_problems
    notes = notes + clause_notes
    unexplained = [t for t, r in final.items()
                   if r.get("outcome") in ("skip", "not_supported") and not r.get("message")]
    if unexplained:
        problems.append(f"{len(unexplained)} test(s) skipped without a reason: "
                        f"{_sample(unexplained)}")
    failures = sorted(t for t, r in final.items() if r.get("outcome") in FAILING)
    if problems:
        return Verdict("INVALID", problems, failures, notes)
    if incomplete:
        return Verdict(INCOMPLETE, incomplete, failures, notes)
    return Verdict("NOT CONFORMANT" if failures else "CONFORMANT", [], failures, notes)


def _clause_problems(final: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(problems, notes) of clause coverage: every clause of the catalog must be exercised,
    except one that declares what a binding needs to reach it (``reach``) and whose tests all
    skipped as not exposed by this run's binding — noted, with how to reach it."""
    from pytest_acl.clauses import load_clauses
    from pytest_acl.suite import catalog_file

    catalog = catalog_file()
    if catalog is None:
        return ["this pytest-acl has no clause catalog to verify against"], []
    exercised: set[str] = set()
    unexposed: set[str] = set()
    for record in final.values():
        for clause in record.get("clauses") or []:
            if record.get("outcome") not in ("skip", "not_supported"):
                exercised.add(clause)
            elif NOT_EXPOSED in str(record.get("message") or ""):
                unexposed.add(clause)
    clauses = load_clauses(catalog)
    unreached = sorted(c for c in set(clauses) - exercised
                       if clauses[c].reach and c in unexposed)
    missing = sorted(set(clauses) - exercised - set(unreached))
    problems = [f"{len(missing)} clause(s) never exercised: {_sample(missing, 10)}"] \
        if missing else []
    notes = []
    for reach in sorted({clauses[c].reach for c in unreached}):
        names = [c for c in unreached if clauses[c].reach == reach]
        notes.append(f"{len(names)} clause(s) not reachable through this run's binding(s), "
                     f"which do not expose {reach}: {_sample(names, 10)} (not tested; "
                     f"a binding that exposes it reaches them, e.g. --acl-backend capi)")
    return problems, notes


def _without_bundle(run: Path) -> Verdict:
    """A run directory without a bundle: INCOMPLETE if the run did not finish, else INVALID."""
    try:
        contents = read_run(run)
    except RunNotFound:
        what = f"no {BUNDLE_FILE} and no {RESULTS_FILE}: not a run directory" \
            if run.exists() else "no such file or directory"
        raise RunNotFound(f"{run}: {what}; expected the directory of a --acl-level full "
                          "run") from None
    except RunFileError as exc:
        return Verdict("INVALID", [str(exc), f"no {BUNDLE_FILE}"])
    verdict = run_verdict(contents.collected, contents.final_records(), contents.ended,
                          _interruption(contents))
    if verdict.verdict == INCOMPLETE:
        return Verdict(INCOMPLETE, verdict.reasons + [f"no {BUNDLE_FILE}: continue the run "
                                                      "with --acl-resume, it writes one"])
    return Verdict("INVALID", [f"{run}: no {BUNDLE_FILE} (only complete --acl-level full runs "
                               "write a qualification bundle)"])
