"""Compare two runs: new failures, fixes, outcome changes, changed error codes, tests added
and removed, and timing changes beyond a robust threshold.

A run is a run directory or a ``results.jsonl`` file. A *regression* is a test that was
passing-like (pass, drift, known_fail, waived, skip, not_supported) and now fails (fail,
error, crash, timeout, xpass), or a test that disappeared. ``exit_status`` says whether the
comparison should fail CI: on regressions (default), on any change, or never.

Both runs are streamed through the checking reader (``reader.py``: a malformed line is an
error naming file and line), and little is kept per test: the base run as columns (a row
per test: its outcome, its sets of codes and its step times), the new run as a line number
per test. Only what changed is kept in full (benchmarks/bench_results_memory.py).

**Codes.** A test's codes are compared as the set of distinct aclErrors it saw. Codes seen
while hypothesis ran a generated example are marked ``generated`` in the record: at level
quick the examples are random, so two runs of one build see different ones. Those count as
changes only when both runs are at level full (derandomized: the same examples every run);
otherwise their differences are listed as ``generated_codes`` and never counted.
"""

from __future__ import annotations

import statistics
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_acl.results.calls import TIMED
from pytest_acl.results.reader import (
    Line,
    RunFileError,
    RunLines,
    RunNotFound,
    duplicate_error,
    signed_line,
)
from pytest_acl.results.records import FAILING, NOT_RUN, OUTCOMES, record_key
from pytest_acl.results.runfile import read_run

__all__ = ["RunFileError", "RunNotFound", "compare", "compare_runs", "load_run", "markdown"]

# A load/execute/unload time change counts when it is beyond ×2, beyond 50 ms, and beyond
# three times the run's median relative change (so a machine that is uniformly slower, or
# noisy, does not flag every test).
TIME_FACTOR = 2.0
MIN_DELTA = 0.05
MESSAGE_LIMIT = 500
_ABSENT = (float("nan"),) * len(TIMED)


def load_run(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(header, final records by ``record_key``) of a run directory or JSONL file, in
    memory (the CLI streams instead: :func:`compare_runs`)."""
    run = read_run(path)
    return run.header, run.final_records()


@dataclass
class Comparison:
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    codes: list[dict[str, Any]] = field(default_factory=list)
    generated_codes: list[dict[str, Any]] = field(default_factory=list)  # never counted
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    slower: list[dict[str, Any]] = field(default_factory=list)
    faster: list[dict[str, Any]] = field(default_factory=list)

    @property
    def regressions(self) -> int:
        return len(self.new_failures) + len(self.removed)

    @property
    def changes(self) -> int:
        """Outcome, code and test-set changes (time changes and codes of generated examples
        at level quick are reported, never counted)."""
        return (self.regressions + len(self.fixes) + len(self.changed) + len(self.codes)
                + len(self.added))

    def exit_status(self, fail_on: str) -> int:
        if fail_on == "never":
            return 0
        count = self.regressions if fail_on == "regressions" else self.changes
        return 1 if count else 0

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "new_failures", "fixes", "changed", "codes", "generated_codes", "added",
            "removed", "slower", "faster")} | {"regressions": self.regressions,
                                               "changes": self.changes}


def code_sets(record: dict[str, Any]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(distinct codes, distinct codes seen in generated examples) of a record, sorted."""
    stable: set[int] = set()
    generated: set[int] = set()
    for entry in record.get("codes") or ():
        if isinstance(entry, dict):
            (generated if entry.get("generated") else stable).add(int(entry["code"]))
        else:
            stable.add(int(entry))
    return tuple(sorted(stable)), tuple(sorted(generated))


class _BaseRun:
    """The base run's final records as columns, a row per test (small per test: a 200 MB
    run is hundreds of thousands of them)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.keys: list[str] = []
        self.rows: dict[str, int] = {}
        self.lines = array("q")  # the line of the row's final record (negative: device_lost)
        self.outcomes = bytearray()  # index in OUTCOMES
        self.codes: list[tuple[int, ...]] = []
        self.generated: list[tuple[int, ...]] = []
        self.times = array("d")  # one per TIMED step and row; NaN where there is none
        self._shared: dict[tuple[int, ...], tuple[int, ...]] = {}  # one tuple per code set

    def add(self, key: str, number: int, record: dict[str, Any]) -> None:
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = len(self.keys)
            self.keys.append(key)
            self.lines.append(0)
            self.outcomes.append(0)
            self.codes.append(())
            self.generated.append(())
            self.times.extend(_ABSENT)
        elif self.file is not None:
            error = duplicate_error(self.file, key, number, self.lines[row])
            if error is not None:
                raise error
        self.lines[row] = signed_line(number, record)
        self.outcomes[row] = OUTCOMES.index(record["outcome"])
        stable, generated = code_sets(record)
        self.codes[row] = self._shared.setdefault(stable, stable)
        self.generated[row] = self._shared.setdefault(generated, generated)
        timings = record.get("timings") or {}
        for step, name in enumerate(TIMED):
            self.times[row * len(TIMED) + step] = float(timings.get(name, "nan"))


class _Comparer:
    """The new run's records, compared with the base's as they come. A record that a later
    one supersedes (``device_lost``, then the resumed session's) takes back what it
    found."""

    def __init__(self, base: _BaseRun, file: Path | None) -> None:
        self.base, self.file = base, file
        self.seen = array("q", bytes(8 * len(base.keys)))  # line in the new run, per row
        self.added: dict[str, int] = {}
        self.outcomes: dict[int, tuple[str, dict[str, Any]]] = {}
        self.codes: dict[int, dict[str, Any]] = {}
        self.generated: dict[int, dict[str, Any]] = {}
        self.deviations = array("d")  # |ratio - 1| of every step timed in both runs
        self.candidates: list[tuple[int, int, float, float]] = []  # beyond ×2 and 50 ms

    def _duplicate(self, key: str, number: int, earlier: int) -> None:
        if self.file is not None:
            error = duplicate_error(self.file, key, number, earlier)
            if error is not None:
                raise error

    def add(self, key: str, number: int, record: dict[str, Any]) -> None:
        base = self.base
        row = base.rows.get(key)
        if row is None:
            self._duplicate(key, number, self.added.get(key, 0))
            self.added[key] = signed_line(number, record)
            return
        self._duplicate(key, number, self.seen[row])
        if self.seen[row]:  # the earlier record was device_lost: this one replaces it
            for found in (self.outcomes, self.codes, self.generated):
                found.pop(row, None)
        self.seen[row] = signed_line(number, record)
        old, now = OUTCOMES[base.outcomes[row]], record["outcome"]
        if old != now:
            kind = ("new_failures" if now in FAILING and old not in FAILING else
                    "fixes" if old in FAILING and now not in FAILING else "changed")
            self.outcomes[row] = (kind, {"nodeid": key, "base": old, "new": now,
                                         "message": str(record.get("message") or "")
                                         [:MESSAGE_LIMIT]})
        stable, generated = code_sets(record)
        if stable != base.codes[row]:
            self.codes[row] = {"nodeid": key, "base": list(base.codes[row]),
                               "new": list(stable)}
        if generated != base.generated[row]:
            self.generated[row] = {"nodeid": key, "base": list(base.generated[row]),
                                   "new": list(generated)}
        if now in NOT_RUN or old in NOT_RUN:
            return
        timings = record.get("timings") or {}
        for step, name in enumerate(TIMED):
            before, after = base.times[row * len(TIMED) + step], timings.get(name)
            if not (before > 0 and isinstance(after, int | float) and after > 0):
                continue
            ratio = after / before
            self.deviations.append(abs(ratio - 1))
            if (ratio > TIME_FACTOR and after - before > MIN_DELTA) or \
                    (ratio < 1 / TIME_FACTOR and before - after > MIN_DELTA):
                self.candidates.append((row, step, before, float(after)))

    def result(self, count_generated: bool) -> Comparison:
        result = Comparison()
        for row in sorted(self.outcomes, key=self.base.keys.__getitem__):
            kind, change = self.outcomes[row]
            getattr(result, kind).append(change)
        by_test = sorted(set(self.codes) | set(self.generated), key=self.base.keys.__getitem__)
        for row in by_test:
            if count_generated:  # both runs derandomized: every code is the build's
                old = set(self.base.codes[row]) | set(self.base.generated[row])
                now = set(self._new(row, "codes")) | set(self._new(row, "generated"))
                if old != now:
                    result.codes.append({"nodeid": self.base.keys[row], "base": sorted(old),
                                         "new": sorted(now)})
                continue
            if row in self.codes:
                result.codes.append(self.codes[row])
            if row in self.generated:
                result.generated_codes.append(self.generated[row])
        if self.deviations:
            limit = max(TIME_FACTOR, 1 + 3 * statistics.median(self.deviations))
            for row, step, before, after in sorted(self.candidates):
                ratio = after / before
                entry = {"nodeid": f"{self.base.keys[row]} ({TIMED[step]})", "base": before,
                         "new": after, "ratio": round(ratio, 3)}
                if ratio > limit and after - before > MIN_DELTA:
                    result.slower.append(entry)
                elif ratio < 1 / limit and before - after > MIN_DELTA:
                    result.faster.append(entry)
            result.slower.sort(key=lambda entry: entry["nodeid"])
            result.faster.sort(key=lambda entry: entry["nodeid"])
        result.added = sorted(self.added)
        result.removed = sorted(self.base.keys[row] for row, line in enumerate(self.seen)
                                if not line)
        return result

    def _new(self, row: int, which: str) -> list[int] | tuple[int, ...]:
        """The new run's codes (or generated codes) of a row: as the base's unless changed."""
        change = getattr(self, which).get(row)
        return change["new"] if change else getattr(self.base, which)[row]


def compare(base: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
            count_generated: bool = False) -> Comparison:
    """Compare final records by key (as :func:`load_run` gives them)."""
    table = _BaseRun(None)
    for number, (key, record) in enumerate(base.items(), 1):
        table.add(key, number, record)
    comparer = _Comparer(table, None)
    for number, (key, record) in enumerate(new.items(), 1):
        comparer.add(key, number, record)
    return comparer.result(count_generated)


def _stream(lines: RunLines, add: Any, level: str | None = None) -> str | None:
    """Feed each test record of a run to ``add``; return the run's level."""
    for line in lines:
        if line.kind == "test":
            add(record_key(line.data), line.number, line.data)
        elif line.kind == "header":
            level = line.data.get("level")
    return level


def _before_records(lines: RunLines) -> tuple[str | None, Line | None]:
    """(level, first test record) of a run: its header and first collection — the one
    large line of a run, every node id — are read here, before the base run is held."""
    level = None
    for line in lines:
        if line.kind == "test":
            return level, line
        if line.kind == "header":
            level = line.data.get("level")
    return level, None


def compare_runs(base_path: Path, new_path: Path) -> Comparison:
    """Compare two runs on disk, streaming both. Raises RunNotFound, or RunFileError naming
    the file and line of a malformed record."""
    base_lines, new_lines = RunLines(base_path), RunLines(new_path)
    new_level, first = _before_records(new_lines)
    table = _BaseRun(base_lines.file)
    base_level = _stream(base_lines, table.add)
    comparer = _Comparer(table, new_lines.file)
    if first is not None:
        new_level = _stream(RunLines(new_path, first), comparer.add, new_level)
    return comparer.result(base_level == new_level == "full")


def markdown(comparison: Comparison, base_name: str, new_name: str) -> str:
    lines = [f"## pytest-acl: {new_name} compared with {base_name}", "",
             f"**{comparison.regressions} regression(s)**, {len(comparison.fixes)} fix(es), "
             f"{len(comparison.changed)} other outcome change(s), {len(comparison.codes)} "
             f"changed error code(s), {len(comparison.added)} added, "
             f"{len(comparison.removed)} removed, {len(comparison.slower)} slower.", ""]
    if comparison.generated_codes:
        lines += [f"{len(comparison.generated_codes)} test(s) saw other codes in "
                  "hypothesis-generated examples: not counted, since at level quick each run "
                  "draws its own random examples (between two full runs they count).", ""]

    def table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
        if not rows:
            return
        lines.extend([f"### {title}", "", "| " + " | ".join(columns) + " |",
                      "|" + "---|" * len(columns)])
        for row in rows:
            lines.append("| " + " | ".join(f"`{row[c]}`" if c == "nodeid" else str(row[c])
                                           for c in columns) + " |")
        lines.append("")

    table("New failures", comparison.new_failures, ("nodeid", "base", "new"))
    table("Fixes", comparison.fixes, ("nodeid", "base", "new"))
    table("Other outcome changes", comparison.changed, ("nodeid", "base", "new"))
    table("Changed error codes", comparison.codes, ("nodeid", "base", "new"))
    table("Codes seen in generated examples (not counted)", comparison.generated_codes,
          ("nodeid", "base", "new"))
    table("Slower", comparison.slower, ("nodeid", "base", "new", "ratio"))
    for title, names in (("Added", comparison.added), ("Removed", comparison.removed)):
        if names:
            lines.extend([f"### {title}", ""] + [f"- `{name}`" for name in names] + [""])
    return "\n".join(lines)
