"""Findings: what broke the promise for one input, kept as files a person can rerun.

A finding is saved as two files in ``OUT/findings/``: the input's bytes (``NNNNNNN-kind.om``)
and a JSON record (seed, index, base model, mutations, target, the target's own seed, what
happened, the traceback) whose ``reproducer`` is one command: ``pytest-acl fuzz --replay
RECORD.json``. Findings are grouped by *signature* — the kind, the exception type and the
innermost frame in the project that raised it (``pytest_acl/om/modeldef.py:155``), or the
call that leaked or was slow — so thousands of inputs hitting one bug are one line.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

# The kinds, worst first (the order of the summary).
KINDS = ("crash", "hang", "exception", "async-exception", "internal-error", "internal-code",
         "leak", "time", "memory", "contract")
PROJECT = "pytest_acl"
HARNESS = "pytest_acl/fuzz/"


@dataclass
class Finding:
    kind: str
    message: str
    seed: int = 0
    index: int = 0
    base: str = ""
    steps: tuple[str, ...] = ()
    target: str = ""
    target_seed: str = ""
    api: str = ""  # the pyACL call in flight (that raised, was slow, leaked)
    exception: str = ""  # the exception's type
    where: str = ""  # innermost frame in the project, outside the harness
    raised_at: str = ""  # innermost frame of all (may be the standard library)
    traceback: str = ""
    notes: tuple[str, ...] = ()  # the input's return codes, in order
    key: str = ""  # for kinds without an exception: what makes two findings alike
    cann: str = ""
    record: str = ""  # where the JSON record was saved ("" when not saved)
    data: bytes = field(default=b"", repr=False)

    @property
    def signature(self) -> str:
        if self.exception:
            return f"{self.kind}: {self.exception} at {self.where or self.raised_at}"
        return f"{self.kind}: {self.key or self.message}"

    @property
    def reproducer(self) -> str:
        if self.record:
            return f"pytest-acl fuzz --replay {self.record}"
        return (f"pytest-acl fuzz --seed {self.seed} --start {self.index} --count 1 "
                f"--targets {self.target}")

    def as_json(self) -> dict[str, Any]:
        record = asdict(self)
        del record["data"]
        record["signature"] = self.signature
        record["reproducer"] = self.reproducer
        return record

    def line(self) -> str:
        return f"{self.signature} [input {self.index}, {self.target}, {self.base}]"


def _frame(frame: traceback.FrameSummary) -> str:
    path = frame.filename.replace("\\", "/")
    at = path.rfind(f"/{PROJECT}/")
    return f"{path[at + 1:] if at >= 0 else path}:{frame.lineno}"


def locate(tb: TracebackType | None) -> tuple[str, str, str]:
    """(where, raised_at, formatted traceback) of an exception's traceback: ``where`` is
    the innermost frame in the project outside the fuzzer itself."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return "", "", ""
    raised_at = _frame(frames[-1])
    where = next((_frame(f) for f in reversed(frames)
                  if f"/{PROJECT}/" in f.filename.replace("\\", "/")
                  and HARNESS not in f.filename.replace("\\", "/")), "")
    return where, raised_at, "".join(traceback.format_list(frames))


def from_exception(kind: str, exc: BaseException, api: str = "",
                   tb: TracebackType | None = None) -> Finding:
    where, raised_at, text = locate(tb or exc.__traceback__)
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return Finding(kind, f"{type(exc).__name__}: {exc}"[:2000], api=api,
                   exception=type(exc).__name__, where=where, raised_at=raised_at,
                   traceback=text)


def save(finding: Finding, directory: Path) -> Finding:
    """Write the input and the record; the finding now names its record."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{finding.index:07d}-{finding.kind}"
    (directory / f"{stem}.om").write_bytes(finding.data)
    record = directory / f"{stem}.json"
    finding.record = str(record)
    record.write_text(json.dumps(finding.as_json(), indent=2, default=str) + "\n")
    return finding


def load(record: Path) -> Finding:
    """A saved finding, its input read back from the ``.om`` beside the record."""
    values = json.loads(record.read_text())
    if not isinstance(values, dict) or "kind" not in values or "target" not in values:
        raise ValueError(f"{record}: not a fuzz finding record")
    known = {name for name in Finding.__dataclass_fields__ if name != "data"}
    finding = Finding(**{k: v for k, v in values.items() if k in known})
    finding.steps, finding.notes = tuple(finding.steps), tuple(finding.notes)
    finding.data = record.with_suffix(".om").read_bytes()
    finding.record = str(record)
    return finding


@dataclass
class Group:
    """The findings of one signature: how many, and the ones kept (saved)."""

    signature: str
    kind: str
    count: int = 0
    examples: list[Finding] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        first = self.examples[0] if self.examples else None
        return {"signature": self.signature, "kind": self.kind, "count": self.count,
                "reproducer": first.reproducer if first else "",
                "example": first.as_json() if first else None,
                "records": [f.record for f in self.examples if f.record]}


def order(groups: dict[str, Group]) -> list[Group]:
    """Worst kind first, then the most frequent."""
    return sorted(groups.values(), key=lambda g: (
        KINDS.index(g.kind) if g.kind in KINDS else len(KINDS), -g.count, g.signature))
