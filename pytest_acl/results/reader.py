"""The one reader of ``results.jsonl``: line by line, every line checked as it is read.

Every tool that reads runs back — ``compare``, ``merge``, ``verify``, ``--acl-resume``,
``--acl-shard-durations`` — reads them through :class:`RunLines`, so a file that is not
what pytest-acl writes is the same clear error wherever it is read (:class:`RunFileError`:
``file:line: what is wrong; expected …``), never a ``KeyError`` three modules later, and no
tool needs the whole file in memory to read it.

A last line cut short by a kill (no newline, not JSON) is no error: the run simply ended
there; :attr:`RunLines.cut_short` says so.

Which of several records of one test counts is :func:`duplicate_error`'s policy: a run
has one record per test, except that a resumed session supersedes ``device_lost``
records (the test never ran) — see :class:`FinalRecords`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_acl.results.records import NOT_RUN, OUTCOMES

RESULTS_FILE = "results.jsonl"
LINE_TYPES = ("header", "session", "collection", "test", "summary")
_NODEID = "a string: the test's node id, e.g. suites/test_lifecycle.py::test_unload_twice"


class RunNotFound(FileNotFoundError):
    """The path is not a run: nothing there, or a directory without ``results.jsonl``."""


class RunFileError(ValueError):
    """A run file that is not what pytest-acl writes; the message names file and line."""


def results_path(path: Path) -> Path:
    """The ``results.jsonl`` of a run directory, or ``path`` itself when it is that file."""
    if path.is_dir():
        file = path / RESULTS_FILE
        if not file.is_file():
            raise RunNotFound(f"{path}: a directory without {RESULTS_FILE}; expected a run "
                              f"directory (reports/<run id>/) or a {RESULTS_FILE} file")
        return file
    if not path.exists():
        raise RunNotFound(f"{path}: no such file or directory; expected a run directory "
                          f"(reports/<run id>/) or a {RESULTS_FILE} file")
    if not path.is_file():
        raise RunNotFound(f"{path}: not a regular file; expected a run directory or a "
                          f"{RESULTS_FILE} file")
    return path


def _a(value: Any) -> str:
    """What a JSON value is, for a message: ``a list``, ``null``, ``the string 'x'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:60]!r}"
    return "a list" if isinstance(value, list) else "an object"


@dataclass(frozen=True)
class Line:
    number: int
    kind: str
    data: dict[str, Any]
    offset: int = 0  # where the line starts in the file
    header: int = 0  # the line of the run's header, once one was read


class RunLines:
    """The checked lines of one run file, read lazily, one at a time — from its start, or
    from ``start``, a line an earlier reading of the file yielded."""

    def __init__(self, path: Path, start: Line | None = None) -> None:
        self.file = results_path(path)
        self.start = start
        self.cut_short: str | None = None  # why the last line was dropped, if it was

    def fail(self, number: int, what: str, expected: str) -> RunFileError:
        return RunFileError(f"{self.file}:{number}: {what}; expected {expected}")

    def __iter__(self) -> Iterator[Line]:
        start = self.start or Line(1, "", {})
        header_line, offset = start.header, start.offset
        try:
            stream = self.file.open("rb")
        except OSError as exc:
            raise RunNotFound(f"{self.file}: cannot be read ({exc.strerror})") from None
        with stream:
            stream.seek(offset)
            for number, raw in enumerate(stream, start.number):
                offset += len(raw)
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw)
                except ValueError as exc:  # also bytes that are not UTF-8
                    if not raw.endswith(b"\n"):
                        self.cut_short = (f"{self.file}:{number}: the last line is cut short "
                                          "(the process was killed while writing it)")
                        return
                    raise self.fail(number, f"not valid JSON ({exc})",
                                    "one JSON object per line") from None
                kind = self._check(number, data)
                if kind == "header":
                    if header_line:
                        raise self.fail(number, f"a second header (the first is line "
                                        f"{header_line}): two runs in one file?",
                                        "one header per run; join runs with pytest-acl merge")
                    header_line = number
                yield Line(number, kind, data, offset - len(raw), header_line)

    # -- what each line must hold ----------------------------------------------------------

    def _check(self, number: int, data: Any) -> str:
        if not isinstance(data, dict):
            raise self.fail(number, f"{_a(data)} where a line of the run belongs",
                            "a JSON object with a \"type\" (" + ", ".join(LINE_TYPES) + ")")
        kind = data.get("type")
        if kind not in LINE_TYPES:
            raise self.fail(number, f"line type {_a(kind)}" if "type" in data
                            else "an object without a \"type\"",
                            "one of " + ", ".join(LINE_TYPES))
        fields = _FIELDS[kind]
        if kind == "test":
            self._check_test(number, data)
        elif kind == "collection" and "tests" not in data:
            raise self.fail(number, "a collection line without \"tests\"",
                            "the node ids the session collected")
        for name, (test, expected) in fields.items():
            if name in data and not test(data[name]):
                what = "test record" if kind == "test" else f"{kind} line"
                raise self.fail(number, f"the {what}'s {name} is {_a(data[name])}", expected)
        return str(kind)

    def _check_test(self, number: int, data: dict[str, Any]) -> None:
        for name in ("nodeid", "outcome"):
            if name not in data:
                raise self.fail(number, f"a test record without {name!r}",
                                _NODEID if name == "nodeid" else
                                "an outcome, one of " + ", ".join(OUTCOMES))
        if data["outcome"] not in OUTCOMES:
            raise self.fail(number, f"the test record's outcome is {_a(data['outcome'])}",
                            "one of " + ", ".join(OUTCOMES))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _code(entry: Any) -> bool:
    if isinstance(entry, dict):
        entry = entry.get("code")
    return isinstance(entry, int) and not isinstance(entry, bool)


_OBJECT = (lambda v: isinstance(v, dict), "an object")
_OPTIONAL_OBJECT = (lambda v: v is None or isinstance(v, dict), "an object or null")
_FIELDS: dict[str, dict[str, tuple[Any, str]]] = {
    "header": {
        "merged_from": (lambda v: isinstance(v, list) and all(isinstance(h, dict) for h in v),
                        "a list of the merged runs' headers (objects)"),
        "merged_collections": (lambda v: isinstance(v, list) and all(
            s is None or _strings(s) for s in v), "a list, per merged run, of its node ids "
            "(or null)"),
        "merged_summaries": (lambda v: isinstance(v, list) and all(
            s is None or isinstance(s, dict) for s in v), "a list, per merged run, of its "
            "summary (an object, or null)"),
        "options": _OBJECT,
    },
    "session": {"died_running": (_strings, "a list of node ids")},
    "collection": {"tests": (_strings, "a list of node ids (strings)")},
    "test": {
        "nodeid": (lambda v: isinstance(v, str) and v != "", _NODEID),
        "message": (lambda v: isinstance(v, str), "a string"),
        "clauses": (_strings, "a list of clause ids (strings)"),
        "codes": (lambda v: isinstance(v, list) and all(_code(c) for c in v),
                  "a list of aclError codes: integers, or objects with an integer \"code\""),
        "timings": (lambda v: isinstance(v, dict) and all(_number(t) for t in v.values()),
                    "an object of seconds per step, e.g. {\"load\": 0.01}"),
        "duration": (lambda v: v is None or _number(v), "a number of seconds"),
        "axes": _OBJECT, "crash": _OBJECT, "observed": _OBJECT,
        "source": (lambda v: v is None or (isinstance(v, dict) and isinstance(
            v.get("label", ""), str | None)), "an object naming the merged run "
            "(with a string \"label\")"),
    },
    "summary": {"interrupted": (lambda v: v is None or isinstance(v, str), "a string or null"),
                "counts": _OPTIONAL_OBJECT},
}


def signed_line(number: int, record: dict[str, Any]) -> int:
    """A record's line as the duplicate policy keeps it: negative for ``device_lost``."""
    return -number if record["outcome"] in NOT_RUN else number


def duplicate_error(file: Path, key: str, number: int, earlier: int) -> RunFileError | None:
    """The duplicate-record policy. ``earlier`` is the line of the test's previous record,
    negative when that record was ``device_lost``. A test may have any number of
    ``device_lost`` records (a resumed session runs the test again and supersedes them),
    then at most one other; any record after that is an error naming both lines."""
    if earlier <= 0:
        return None
    return RunFileError(
        f"{file}:{number}: a second record of test {key} (the first is line {earlier}); "
        "expected one record per test — only device_lost records are superseded, by the "
        "test's record in a resumed session")


class FinalRecords:
    """Applies :func:`duplicate_error` while reading; keeps the final record of each test
    by ``record_key`` (in a merged run each host's test is a test of its own)."""

    def __init__(self, file: Path, keep: bool = True) -> None:
        self.file, self.keep = file, keep
        self.records: dict[str, dict[str, Any]] = {}
        self._lines: dict[str, int] = {}

    def add(self, key: str, line: Line) -> None:
        error = duplicate_error(self.file, key, line.number, self._lines.get(key, 0))
        if error is not None:
            raise error
        self._lines[key] = signed_line(line.number, line.data)
        if self.keep:
            self.records[key] = line.data
