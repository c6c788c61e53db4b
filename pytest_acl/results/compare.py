"""Compare two runs: new failures, fixes, outcome changes, changed error codes, tests added
and removed, and timing changes beyond a robust threshold.

A run is a run directory or a ``results.jsonl`` file. A *regression* is a test that was
passing-like (pass, drift, known_fail, waived, skip, not_supported) and now fails (fail,
error, crash, timeout, xpass), or a test that disappeared. ``exit_status`` says whether the
comparison should fail CI: on regressions (default), on any change, or never.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_acl.results.records import FAILING
from pytest_acl.results.runfile import RunNotFound, read_run

__all__ = ["RunNotFound", "compare", "load_run", "markdown"]

# A load/execute/unload time change counts when it is beyond ×2, beyond 50 ms, and beyond
# three times the run's median relative change (so a machine that is uniformly slower, or
# noisy, does not flag every test).
TIME_FACTOR = 2.0
MIN_DELTA = 0.05


def load_run(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(header, final records by ``record_key``) of a run directory or JSONL file. A line
    that is not a record is an error naming the file and line, except a last line cut
    short by a kill (the run is then simply incomplete)."""
    run = read_run(path)
    for problem in run.problems:
        if "cut short" not in problem:
            raise ValueError(problem)
    return run.header, run.final_records()


@dataclass
class Comparison:
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    codes: list[dict[str, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    slower: list[dict[str, Any]] = field(default_factory=list)
    faster: list[dict[str, Any]] = field(default_factory=list)

    @property
    def regressions(self) -> int:
        return len(self.new_failures) + len(self.removed)

    @property
    def changes(self) -> int:
        """Outcome, code and test-set changes (time changes are reported, never counted)."""
        return (self.regressions + len(self.fixes) + len(self.changed) + len(self.codes)
                + len(self.added))

    def exit_status(self, fail_on: str) -> int:
        if fail_on == "never":
            return 0
        count = self.regressions if fail_on == "regressions" else self.changes
        return 1 if count else 0

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "new_failures", "fixes", "changed", "codes", "added", "removed", "slower",
            "faster")} | {"regressions": self.regressions, "changes": self.changes}


def _codes(record: dict[str, Any]) -> list[int]:
    return sorted({int(entry["code"]) if isinstance(entry, dict) else int(entry)
                   for entry in record.get("codes", [])})


def compare(base: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> Comparison:
    result = Comparison()
    ratios = []
    for nodeid in sorted(base.keys() & new.keys()):
        old, now = base[nodeid], new[nodeid]
        change = {"nodeid": nodeid, "base": old["outcome"], "new": now["outcome"],
                  "message": now.get("message", "")[:500]}
        if old["outcome"] != now["outcome"]:
            if now["outcome"] in FAILING and old["outcome"] not in FAILING:
                result.new_failures.append(change)
            elif old["outcome"] in FAILING and now["outcome"] not in FAILING:
                result.fixes.append(change)
            else:
                result.changed.append(change)
        if _codes(old) != _codes(now):
            result.codes.append({"nodeid": nodeid, "base": _codes(old), "new": _codes(now)})
        for step in sorted(old.get("timings", {}).keys() & now.get("timings", {}).keys()):
            before, after = old["timings"][step], now["timings"][step]
            if before > 0 and after > 0:
                ratios.append((f"{nodeid} ({step})", after / before, before, after))
    if ratios:
        limit = max(TIME_FACTOR, 1 + 3 * statistics.median(abs(r - 1) for _, r, _, _ in ratios))
        for nodeid, ratio, before, after in ratios:
            entry = {"nodeid": nodeid, "base": before, "new": after, "ratio": round(ratio, 3)}
            if ratio > limit and after - before > MIN_DELTA:
                result.slower.append(entry)
            elif ratio < 1 / limit and before - after > MIN_DELTA:
                result.faster.append(entry)
    result.added = sorted(new.keys() - base.keys())
    result.removed = sorted(base.keys() - new.keys())
    return result


def markdown(comparison: Comparison, base_name: str, new_name: str) -> str:
    lines = [f"## pytest-acl: {new_name} compared with {base_name}", "",
             f"**{comparison.regressions} regression(s)**, {len(comparison.fixes)} fix(es), "
             f"{len(comparison.changed)} other outcome change(s), {len(comparison.codes)} "
             f"changed error code(s), {len(comparison.added)} added, "
             f"{len(comparison.removed)} removed, {len(comparison.slower)} slower.", ""]

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
    table("Slower", comparison.slower, ("nodeid", "base", "new", "ratio"))
    for title, names in (("Added", comparison.added), ("Removed", comparison.removed)):
        if names:
            lines.extend([f"### {title}", ""] + [f"- `{name}`" for name in names] + [""])
    return "\n".join(lines)
