"""Known failures as data: ``--acl-expectations FILE`` (TOML).

Each ``[[expectation]]`` names tests (``match``: an exact node id, a node-id prefix or a glob,
see :func:`matches`) or a ``clause`` id, may be scoped by ``soc`` patterns and a ``cann``
version range (``">=8.0,<9.0"``), and carries a ``reason``, a ``bug`` link and an ``expires``
date; ``kind`` is ``known_fail`` (default) or ``waived``. A matching test that fails is
reported as that kind; one that passes is an ``xpass`` (a stale entry). Entries that match
nothing, expired entries and xpasses are reported at the end, and fail the run with
``--acl-strict-expectations``.

The file is schema-checked: an unknown table or key (a misspelt ``[[expectations]]`` must
not silently disable every entry), a single ``[expectation]`` table, a value of the wrong
type is a usage error naming the file, the line, the entry and the key. tomllib keeps no
line numbers, so :func:`line_of` finds them in the text.
"""

from __future__ import annotations

import datetime
import difflib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from pytest_acl.markers import soc_matches
from pytest_acl.versions import in_range, valid_range

TABLE = "expectation"
KINDS = ("known_fail", "waived")
REQUIRED = ("reason", "expires")
KEYS = ("match", "clause", "soc", "cann", "reason", "bug", "expires", "kind")
EXAMPLES = {
    "match": 'match = "suites/test_lifecycle.py::test_unload_twice[*]"',
    "clause": 'clause = "lifecycle.unload_twice_code"',
    "soc": 'soc = ["Ascend910B*"]',
    "cann": 'cann = ">=8.0,<9.0"',
    "reason": 'reason = "double unload returns 0 on this build"',
    "bug": 'bug = "https://example.invalid/bugs/1234"',
    "expires": "expires = 2027-03-31",
    "kind": 'kind = "known_fail"',
}


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` any characters, ``?`` one; everything else — ``[`` and ``]`` included — literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern), re.DOTALL)


def matches(pattern: str, nodeid: str) -> bool:
    """Whether an entry's ``match`` covers a (canonical) node id: the same id; a prefix of it
    that ends where a part of the id ends (``suites/test_x.py`` covers the file's tests,
    ``suites/test_x.py::test_y`` every parametrization ``test_y[...]``); or, with ``*`` or
    ``?``, a glob of the whole id in which ``[`` and ``]`` are literal
    (``suites/test_x.py::test_y[case-*]`` covers ``test_y[case-1]``)."""
    if "*" in pattern or "?" in pattern:
        return _glob(pattern).fullmatch(nodeid) is not None
    if nodeid == pattern:
        return True
    if pattern.endswith(("/", "::", "[")):
        return nodeid.startswith(pattern)
    return nodeid.startswith((pattern + "/", pattern + "::", pattern + "["))


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
        if self.match and not matches(self.match, nodeid):
            return False
        if self.clause and self.clause not in clauses:
            return False
        if self.soc and not soc_matches(soc, list(self.soc)):
            return False
        return not self.cann or in_range(cann, self.cann)


_HEADER = re.compile(r"\s*\[")


def _names(line: str, name: str) -> bool:
    """The line opens table ``name`` (``[name]``, ``[[name]]``) or sets key ``name``."""
    text = line.strip()
    return (re.match(rf"\[\[?\s*\"?{re.escape(name)}\"?\s*\]", text) is not None
            or re.match(rf"\"?{re.escape(name)}\"?\s*=", text) is not None)


def line_of(text: str, name: str, index: int = 0, key: str | None = None) -> int:
    """The line (1-based) of the ``index``-th table or key ``name`` at the top of a TOML
    text, or with ``key`` the line setting that key inside it (the table's line when the
    key is not written there, e.g. in an inline table); 0 when it is not found."""
    lines = text.splitlines()
    found = [number for number, line in enumerate(lines, 1) if _names(line, name)]
    if not found:
        return 0
    start = found[min(index, len(found) - 1)]
    if key is None:
        return start
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if _HEADER.match(line):
            break
        if _names(line, key):
            return number
    return start


def _describe(value: Any) -> str:
    """A TOML value as a reader would name it: ``the number 910``, ``the date-time …``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime.datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, datetime.time):
        return f"the time {value.isoformat()}"
    if isinstance(value, str):
        return f"the string {value!r}" if value else "an empty string"
    return "a list" if isinstance(value, list) else "a table"


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _problem(key: str, value: Any) -> str | None:
    """What is wrong with one key's value, or None."""
    if key in ("match", "clause", "reason") and not _is_text(value):
        what = {"match": "a node id, a node-id prefix or a glob", "clause": "a clause id",
                "reason": "why the test is expected to fail"}[key]
        return f"must be {what}, as a non-empty string"
    if key == "bug" and not isinstance(value, str):
        return "must be a link or bug id, as a string"
    if key == "soc" and not (_is_text(value) or (
            isinstance(value, list) and value and all(_is_text(v) for v in value))):
        return "must be a SoC name pattern or a list of them, as strings"
    if key == "cann" and not (isinstance(value, str) and valid_range(value)):
        return "must be a CANN version range, as a string"
    if key == "expires" and (not isinstance(value, datetime.date)
                             or isinstance(value, datetime.datetime)):
        return "must be a TOML date (no quotes, no time of day)"
    if key == "kind" and value not in KINDS:
        return f"must be one of {', '.join(KINDS)}"
    return None


def _suggest(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class _File:
    """One expectation file being checked: its text, for line numbers, and its errors."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def error(self, line: int, message: str) -> pytest.UsageError:
        where = f"{self.path}:{line}" if line else str(self.path)
        return pytest.UsageError(f"--acl-expectations {where}: {message}")

    def entry_error(self, index: int, key: str | None, message: str) -> pytest.UsageError:
        line = line_of(self.text, TABLE, index, key)
        subject = f"[[{TABLE}]] #{index + 1}" + (f", key {key}" if key else "")
        return self.error(line, f"{subject}: {message}")

    def entries(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The array of entry tables, after the top-level checks."""
        for name in data:
            if name != TABLE:
                line = line_of(self.text, name)
                shown = self.text.splitlines()[line - 1].strip() if line else name
                hint = f" (did you mean [[{TABLE}]]?)" if _suggest(name, (TABLE,)) else ""
                raise self.error(line, f"{shown}: unknown table or key; an expectation file "
                                       f"holds [[{TABLE}]] tables only{hint}")
        found = data.get(TABLE, [])
        if isinstance(found, dict):
            raise self.error(line_of(self.text, TABLE),
                             f"[{TABLE}] is a single table; write each entry as [[{TABLE}]] "
                             "(double brackets: an array of tables)")
        if not isinstance(found, list):
            raise self.error(line_of(self.text, TABLE),
                             f"{TABLE} is {_describe(found)}; write each entry as "
                             f"[[{TABLE}]] (an array of tables)")
        for index, raw in enumerate(found):
            if not isinstance(raw, dict):
                raise self.entry_error(index, None, f"is {_describe(raw)}, not a table; "
                                                    f"write each entry as [[{TABLE}]]")
        return found

    def check(self, index: int, raw: dict[str, Any]) -> Expectation:
        for key, value in raw.items():
            if key not in KEYS:
                raise self.entry_error(index, key, f"unknown key{_suggest(key, KEYS)}; the "
                                                   f"keys are {', '.join(KEYS)}")
            problem = _problem(key, value)
            if problem:
                raise self.entry_error(index, key, f"{problem}, such as {EXAMPLES[key]}; "
                                                   f"got {_describe(value)}")
        missing = [key for key in REQUIRED if key not in raw]
        if "match" not in raw and "clause" not in raw:
            missing.append("match or clause")
        if missing:
            raise self.entry_error(index, None, f"missing {' and '.join(missing)}, such as "
                                                f"{EXAMPLES[missing[0].split()[0]]}")
        soc = raw.get("soc", ())
        return Expectation(line_of(self.text, TABLE, index), raw["reason"], raw["expires"],
                           raw.get("match", ""), raw.get("clause", ""),
                           tuple([soc] if isinstance(soc, str) else soc), raw.get("cann", ""),
                           raw.get("bug", ""), raw.get("kind", "known_fail"))


def load(path: Path) -> list[Expectation]:
    """The entries of an expectation file; a UsageError for anything malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise pytest.UsageError(f"--acl-expectations {path}: cannot read: {exc.strerror}") \
            from None
    except UnicodeDecodeError as exc:
        raise pytest.UsageError(f"--acl-expectations {path}: not UTF-8 text (byte "
                                f"{exc.start}); write the file as UTF-8 TOML") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{path}:{at.group(1)}" if at else str(path)
        raise pytest.UsageError(f"--acl-expectations {where}: not valid TOML: {exc}") from None
    checked = _File(path, text)
    return [checked.check(index, raw) for index, raw in enumerate(checked.entries(data))]


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
