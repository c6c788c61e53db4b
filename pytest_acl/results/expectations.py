"""Known failures as data: ``--acl-expectations FILE`` (TOML).

Each ``[[expectation]]`` names tests (``match``: an fnmatch pattern on the node id) or a
``clause`` id, may be scoped by ``soc`` patterns and a ``cann`` version range
(``">=8.0,<9.0"``), and carries a ``reason``, a ``bug`` link and an ``expires`` date; ``kind``
is ``known_fail`` (default) or ``waived``. A matching test that fails is reported as that
kind; one that passes is an ``xpass`` (a stale entry). Entries that match nothing, expired
entries and xpasses are reported at the end, and fail the run with
``--acl-strict-expectations``. A malformed file is a usage error naming the line.
"""

from __future__ import annotations

import datetime
import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_acl.versions import in_range, valid_range

KINDS = ("known_fail", "waived")
REQUIRED = ("reason", "expires")
@dataclass
class Expectation:
    line: int
    reason: str
    expires: datetime.date
    match: str = ""
    clause: str = ""
    soc: tuple[str, ...] = ()
    cann: str = ""
    bug: str = ""
    kind: str = "known_fail"
    matched: list[str] = field(default_factory=list)

    def describe(self) -> str:
        target = self.match or f"clause {self.clause}"
        return f"line {self.line}: {target} ({self.reason})"

    def __repr__(self) -> str:  # short: ``matched`` grows with every test it matches
        return f"Expectation({self.describe()!r}, {len(self.matched)} matched)"

    def applies(self, nodeid: str, clauses: list[str], soc: str | None,
                cann: str | None) -> bool:
        if self.match and not fnmatch.fnmatchcase(nodeid, self.match):
            return False
        if self.clause and self.clause not in clauses:
            return False
        if self.soc and (soc is None or not any(fnmatch.fnmatchcase(soc, p) for p in self.soc)):
            return False
        return not self.cann or in_range(cann, self.cann)


def _entry_lines(text: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1)
            if line.strip().startswith("[[expectation]]")]


def load(path: Path) -> list[Expectation]:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise pytest.UsageError(f"--acl-expectations {path}: cannot read: {exc.strerror}") \
            from None
    except tomllib.TOMLDecodeError as exc:
        raise pytest.UsageError(f"--acl-expectations {path}: {exc}") from None
    lines = _entry_lines(text)
    entries = []
    for index, raw in enumerate(data.get("expectation", [])):
        line = lines[index] if index < len(lines) else 0
        where = f"--acl-expectations {path}, entry at line {line}"
        missing = [key for key in REQUIRED if key not in raw]
        if missing or not (raw.get("match") or raw.get("clause")):
            need = missing + ([] if raw.get("match") or raw.get("clause") else ["match or clause"])
            raise pytest.UsageError(f"{where}: missing {', '.join(need)}")
        unknown = set(raw) - {"match", "clause", "soc", "cann", "reason", "bug", "expires",
                              "kind"}
        if unknown:
            raise pytest.UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(raw["expires"], datetime.date):
            raise pytest.UsageError(f"{where}: expires must be a date such as 2027-01-31")
        if raw.get("kind", "known_fail") not in KINDS:
            raise pytest.UsageError(f"{where}: kind must be one of {', '.join(KINDS)}")
        cann = raw.get("cann", "")
        if cann and not (isinstance(cann, str) and valid_range(cann)):
            raise pytest.UsageError(f"{where}: cann {cann!r} is not a range such as "
                                    "\">=8.0,<9.0\"")
        soc = raw.get("soc", ())
        entries.append(Expectation(line, raw["reason"], raw["expires"], raw.get("match", ""),
                                   raw.get("clause", ""),
                                   tuple([soc] if isinstance(soc, str) else soc), cann,
                                   raw.get("bug", ""), raw.get("kind", "known_fail")))
    return entries


class ExpectationsPlugin:
    """Marks matching tests as expected failures and reports stale and expired entries."""

    def __init__(self, entries: list[Expectation], strict: bool, soc: str | None,
                 cann: str | None, today: datetime.date | None = None) -> None:
        self.entries = entries
        self.strict = strict
        self.soc, self.cann = soc, cann
        self.today = today or datetime.date.today()

    def active(self) -> list[Expectation]:
        return [e for e in self.entries if e.expires >= self.today]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        """Entries match canonical ids (``suites/test_x.py::...``), the same wherever the
        suite runs from."""
        from pytest_acl.markers import clause_ids
        from pytest_acl.state import get_state

        for item in items:
            clauses = clause_ids(item)
            for entry in self.active():
                if entry.applies(get_state(config).canonical(item.nodeid), clauses, self.soc,
                                 self.cann):
                    entry.matched.append(item.nodeid)
                    item.add_marker(pytest.mark.xfail(
                        reason=f"{entry.kind}: {entry.reason} {entry.bug}".strip(),
                        strict=self.strict))
                    item.user_properties.append(("acl.expectation", entry.kind))
                    break

    def problems(self, xpassed: list[str]) -> list[str]:
        found = [f"expired: {e.describe()} expired on {e.expires}"
                 for e in self.entries if e.expires < self.today]
        found += [f"matches nothing: {e.describe()}" for e in self.active() if not e.matched]
        found += [f"passes although expected to fail (remove its entry?): {nodeid}"
                  for nodeid in xpassed]
        return found

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        xpassed = [r.nodeid for r in terminalreporter.stats.get("xpassed", [])]
        problems = self.problems(xpassed)
        if problems:
            terminalreporter.section("acl expectations")
            for line in problems:
                terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.strict:
            return
        stale = [e for e in self.entries if e.expires < self.today or not e.matched]
        if stale and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
