"""Reading a run's ``results.jsonl`` back, line by line, without trusting it.

A run file holds, in order: a ``header`` (the environment of the first session); for each
later session (``--acl-resume``) a ``session`` line; per session a ``collection`` line (the
tests it will run), one ``test`` record per test that ended, and a ``summary`` when the
session ended (a killed session has none). A merged run (``pytest-acl merge``) has one
header naming its sources and their summaries.

A test's *final* record is its last one: a ``device_lost`` record (the test never ran) is
superseded when a resumed session runs the test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_acl.results.records import record_key

RESULTS_FILE = "results.jsonl"
LINE_TYPES = ("header", "session", "collection", "test", "summary")


class RunNotFound(FileNotFoundError):
    pass


@dataclass
class RunFile:
    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    collections: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines that are not records
    last_type: str | None = None

    @property
    def merged(self) -> bool:
        return "merged_from" in self.header

    @property
    def collected(self) -> list[str] | None:
        """The run's tests: the first session's collection (later sessions collect only what
        is left); for a merged run, every source's."""
        if self.merged:
            sources = self.header.get("merged_collections")
            return None if sources is None or None in sources else \
                [nodeid for source in sources for nodeid in source]
        return list(self.collections[0]["tests"]) if self.collections else None

    @property
    def ended(self) -> bool:
        """The last session wrote its summary (a killed one did not)."""
        if self.merged:
            summaries = self.header.get("merged_summaries") or []
            return bool(summaries) and all(s is not None for s in summaries)
        return self.last_type == "summary"

    @property
    def summary(self) -> dict[str, Any] | None:
        if self.merged:
            summaries = self.header.get("merged_summaries") or []
            return summaries[-1] if summaries and self.ended else None
        return self.summaries[-1] if self.ended else None

    def final_records(self) -> dict[str, dict[str, Any]]:
        """The final record of each test, by ``record_key``."""
        final: dict[str, dict[str, Any]] = {}
        for record in self.records:
            final[record_key(record)] = record
        return final


def results_path(path: Path) -> Path:
    return path / RESULTS_FILE if path.is_dir() else path


def read_run(path: Path) -> RunFile:
    """A run directory's (or a ``results.jsonl`` file's) contents; lines that are not valid
    records are listed in ``problems`` with their line numbers, never raised."""
    file = results_path(path)
    if not file.is_file():
        raise RunNotFound(f"{path}: no {RESULTS_FILE} there")
    run = RunFile(file)
    with file.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError:
                ending = "" if raw.endswith(b"\n") else " (cut short: the process was killed "\
                    "while writing it)"
                run.problems.append(f"{file}:{number}: not a JSON record{ending}")
                continue
            kind = data.get("type") if isinstance(data, dict) else None
            if kind not in LINE_TYPES:
                run.problems.append(f"{file}:{number}: unknown line type {kind!r}")
                continue
            run.last_type = kind
            if kind == "header":
                run.header = data
                run.sessions.append(data)
            elif kind == "session":
                run.sessions.append(data)
            elif kind == "collection":
                run.collections.append(data)
            elif kind == "test":
                run.records.append(data)
            else:
                run.summaries.append(data)
    return run
