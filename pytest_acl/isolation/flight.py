"""A black box per test process: what it was doing when it died.

Each process that runs tests keeps two files in ``<run dir>/flight/``:

- ``<name>.flight`` — a small memory-mapped file holding the test running (node id, start,
  device, deadline) and the last ACL call with whether it is still in flight. Writes are
  stores into shared file pages, so they cost no system call and survive any death of the
  process, ``SIGKILL`` included.
- ``<name>.stacks`` — where faulthandler writes the stacks of every thread when the process
  gets a fatal signal (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL) or passes its deadline.

The controller (or a later ``--acl-resume``) reads both back with :func:`read_flight` and
turns them into a ``crash`` or ``timeout`` record.
"""

from __future__ import annotations

import faulthandler
import json
import mmap
import os
import re
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

FLIGHT_DIR = "flight"
SIZE = 8192
TEST_SLOT = (0, 6144)
CALL_SLOT = (6144, SIZE)
_LENGTH = struct.Struct("<I")
IN_FLIGHT, RETURNED = b"1", b"0"


class FlightRecorder:
    """The writing side, one per test process."""

    def __init__(self, directory: Path, name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{name}.flight"
        self.stacks_path = directory / f"{name}.stacks"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)
        self.stacks: IO[str] = self.stacks_path.open("w", encoding="utf-8")
        self._test: dict[str, Any] = {}

    def arm_fatal_signals(self) -> None:
        """Fatal signals dump every thread's stack into the stacks file (instead of stderr)."""
        faulthandler.enable(file=self.stacks, all_threads=True)

    def _put(self, slot: tuple[int, int], payload: bytes) -> None:
        start, end = slot
        payload = payload[:end - start - _LENGTH.size]
        self._map[start + _LENGTH.size:start + _LENGTH.size + len(payload)] = payload
        self._map[start:start + _LENGTH.size] = _LENGTH.pack(len(payload))

    def test_started(self, nodeid: str, device: int | None) -> None:
        self._test = {"test": nodeid, "started": time.time(), "device": device,
                      "pid": os.getpid(), "deadline": None}
        self._put(TEST_SLOT, json.dumps(self._test).encode())
        self._put(CALL_SLOT, b"")

    def set_deadline(self, seconds: float | None) -> None:
        self._test["deadline"] = None if seconds is None else time.time() + seconds
        self._put(TEST_SLOT, json.dumps(self._test).encode())

    def test_finished(self) -> None:
        self._test = {}
        self._put(TEST_SLOT, b"")
        self._put(CALL_SLOT, b"")

    def call_started(self, function: str) -> None:
        self._put(CALL_SLOT, IN_FLIGHT + function.encode())

    def call_returned(self) -> None:
        start = CALL_SLOT[0] + _LENGTH.size
        if self._map[start:start + 1] == IN_FLIGHT:
            self._map[start:start + 1] = RETURNED

    def close(self, remove: bool = False) -> None:
        if faulthandler.is_enabled():
            faulthandler.disable()
        self._map.close()
        self.stacks.close()
        if remove:
            for path in (self.path, self.stacks_path):
                path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Flight:
    """What a process's black box says."""

    name: str
    test: dict[str, Any] | None
    call: str | None
    call_in_flight: bool
    stacks: str

    @property
    def timed_out(self) -> bool:
        return self.stacks.startswith("Timeout (")

    @property
    def fatal_error(self) -> str | None:
        """faulthandler's first line for a fatal signal, e.g. 'Segmentation fault'."""
        found = re.search(r"Fatal Python error: (.+)", self.stacks)
        return found.group(1).strip() if found else None

    @property
    def call_text(self) -> str:
        if not self.call:
            return "no ACL call had been made in this test"
        if self.call_in_flight:
            return f"ACL call in flight: {self.call}"
        return f"last ACL call (it had returned): {self.call}"


def _slot(data: bytes, slot: tuple[int, int]) -> bytes:
    start, end = slot
    if len(data) < end:
        return b""
    (length,) = _LENGTH.unpack_from(data, start)
    return data[start + _LENGTH.size:start + _LENGTH.size + min(length, end - start)]


def read_flight(directory: Path, name: str) -> Flight | None:
    """The black box of process ``name``, or None when it never wrote one."""
    path = directory / f"{name}.flight"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        test = json.loads(_slot(data, TEST_SLOT) or b"null")
    except ValueError:
        test = None
    call = _slot(data, CALL_SLOT)
    try:
        stacks = (directory / f"{name}.stacks").read_text(encoding="utf-8", errors="replace")
    except OSError:
        stacks = ""
    return Flight(name, test if isinstance(test, dict) else None,
                  call[1:].decode(errors="replace") or None, call[:1] == IN_FLIGHT,
                  stacks[:20000])


def flight_names(directory: Path) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.flight"))
