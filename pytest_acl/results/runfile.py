"""A run's ``results.jsonl`` in memory: header, sessions, collections, summaries and the
final record of each test — for the tools that need all of it (verify, resume); they read
it with the one checking reader (``reader.py``), which names file and line of anything
malformed.

A run file holds, in order: a ``header`` (the environment of the first session); for each
later session (``--acl-resume``) a ``session`` line; per session a ``collection`` line (the
tests it will run), one ``test`` record per test that ended, and a ``summary`` when the
session ended (a killed session has none). A merged run (``pytest-acl merge``) has one
header naming its sources and their summaries.

A test's *final* record is its last one: a ``device_lost`` record (the test never ran) is
superseded when a resumed session runs the test; any other second record is an error
(``reader.duplicate_error``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_acl.results.reader import (
    LINE_TYPES,
    RESULTS_FILE,
    FinalRecords,
    RunFileError,
    RunLines,
    RunNotFound,
    results_path,
)
from pytest_acl.results.records import record_key

__all__ = ["LINE_TYPES", "RESULTS_FILE", "RunFile", "RunFileError", "RunNotFound", "read_run",
           "results_path"]


@dataclass
class RunFile:
    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    collections: list[dict[str, Any]] = field(default_factory=list)
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    cut_short: str | None = None  # the last line, cut short by a kill, was dropped
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
        return dict(self.finals)


def read_run(path: Path, records: bool = True) -> RunFile:
    """A run directory's (or a ``results.jsonl`` file's) contents. Raises RunNotFound when
    there is no run there and RunFileError (file:line, what was expected) for a line that is
    not what pytest-acl writes; a last line cut short by a kill is only noted. With
    ``records=False`` every record is checked but none is kept (``finals`` stays empty)."""
    lines = RunLines(path)
    run = RunFile(lines.file)
    finals = FinalRecords(lines.file, keep=records)
    for line in lines:
        run.last_type = line.kind
        if line.kind == "header":
            run.header = line.data
            run.sessions.append(line.data)
        elif line.kind == "session":
            run.sessions.append(line.data)
        elif line.kind == "collection":
            run.collections.append(line.data)
        elif line.kind == "test":
            finals.add(record_key(line.data), line)
        else:
            run.summaries.append(line.data)
    run.finals = finals.records
    run.cut_short = lines.cut_short
    return run
