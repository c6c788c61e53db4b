"""Opaque handles (contexts, streams, data buffers, datasets, …) as pyACL-style ints.

In pyACL a handle is a host pointer in an int. The simulator draws them from a range no host
or device pointer can occupy, one window per kind, so passing a stream where a context is
expected, or a freed handle, is recognised and refused instead of misread.
"""

from __future__ import annotations

import enum
import itertools
import threading
from collections.abc import Callable
from typing import Any

HANDLE_SPACE_BASE = 0x5000_0000_0000_0000


class Kind(enum.IntEnum):
    CONTEXT = 1
    STREAM = 2
    DATA_BUFFER = 3
    DATASET = 4
    MODEL_DESC = 5
    CONFIG_HANDLE = 6
    TENSOR_DESC = 7
    BUNDLE_QUERY_INFO = 8
    EXEC_CONFIG_HANDLE = 9


class HandleTable:
    """Live objects by handle. Handles are never reused, so a stale one stays invalid."""

    def __init__(self) -> None:
        self._objects: dict[int, tuple[Kind, Any]] = {}
        self._serial = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, kind: Kind, make: Callable[[int], Any]) -> int:
        """Register ``make(handle)`` under a fresh handle of ``kind`` and return the handle."""
        with self._lock:
            handle = HANDLE_SPACE_BASE | (int(kind) << 40) | (next(self._serial) << 4)
            self._objects[handle] = (kind, make(handle))
        return handle

    def get(self, kind: Kind, handle: int) -> Any | None:
        entry = self._objects.get(handle)
        return entry[1] if entry is not None and entry[0] is kind else None

    def remove(self, kind: Kind, handle: int) -> Any | None:
        with self._lock:
            entry = self._objects.get(handle)
            if entry is None or entry[0] is not kind:
                return None
            del self._objects[handle]
        return entry[1]

    def live(self, kind: Kind) -> list[int]:
        with self._lock:
            return [handle for handle, (k, _) in self._objects.items() if k is kind]
