"""Qualification: the bundle a ``--acl-level full`` run leaves, and ``pytest-acl verify``.

The bundle is the run directory plus ``qualification.json``: the clause catalog used (and its
hash), the expectation file used (copied in, with its hash) and the SHA-256 of every file of
the run. ``verify`` checks it is complete and untouched — level full, every clause of the
catalog exercised, every skip with a reason, hashes matching — and gives a verdict:
CONFORMANT, NOT CONFORMANT (something failed) or INVALID (the bundle cannot qualify).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_acl.results.compare import load_run
from pytest_acl.results.records import FAILING

BUNDLE_FILE = "qualification.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_bundle(run: Path, clauses_file: Path | None, expectations: Path | None) -> Path:
    """Add the qualification record to a finished run directory."""
    record: dict[str, Any] = {"format": 1}
    if clauses_file is not None and clauses_file.is_file():
        shutil.copyfile(clauses_file, run / "clauses.toml")
    if expectations is not None and expectations.is_file():
        shutil.copyfile(expectations, run / "expectations.toml")
        record["expectations"] = "expectations.toml"
    record["files"] = {p.name: sha256(p) for p in sorted(run.iterdir())
                       if p.is_file() and p.name != BUNDLE_FILE}
    path = run / BUNDLE_FILE
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


@dataclass
class Verdict:
    verdict: str
    problems: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return 0 if self.verdict == "CONFORMANT" else 1


def verify(run: Path) -> Verdict:
    problems: list[str] = []
    bundle_path = run / BUNDLE_FILE
    if not bundle_path.is_file():
        return Verdict("INVALID", [f"{run}: no {BUNDLE_FILE} (only --acl-level full runs write "
                                   "a qualification bundle)"])
    bundle = json.loads(bundle_path.read_text())
    for name, digest in bundle.get("files", {}).items():
        file = run / name
        if not file.is_file():
            problems.append(f"{name} is missing")
        elif sha256(file) != digest:
            problems.append(f"{name} was changed after the run (hash mismatch)")
    header, tests = load_run(run)
    if header.get("level") != "full":
        problems.append(f"level {header.get('level')!r}: quick-mode results are never valid "
                        "for qualification")
    catalog = run / "clauses.toml"
    if catalog.is_file():
        from pytest_acl.clauses import load_clauses

        exercised = {c for r in tests.values() if r["outcome"] not in ("skip",)
                     for c in r.get("clauses", [])}
        missing = sorted(set(load_clauses(catalog)) - exercised)
        if missing:
            problems.append(f"{len(missing)} clause(s) never exercised: {', '.join(missing)}")
    else:
        problems.append("the bundle has no clauses.toml: completeness cannot be checked")
    unexplained = [key for key, r in tests.items()
                   if r["outcome"] in ("skip", "not_supported") and not r.get("message")]
    if unexplained:
        problems.append(f"{len(unexplained)} test(s) skipped without a reason")
    if not tests:
        problems.append("the run holds no test record")
    failures = sorted(key for key, r in tests.items() if r["outcome"] in FAILING)
    if problems:
        return Verdict("INVALID", problems, failures)
    return Verdict("NOT CONFORMANT" if failures else "CONFORMANT", [], failures)
