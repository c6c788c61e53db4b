"""What a test acquired through the backend and has not released yet — and, after the test
failed, releasing it: the failure is then reported once (not again as a teardown leak
error) and the next test starts clean.

The ledger is fed by the recording wrapper (results/calls.py) from the calls themselves, so
it works on every backend: a model id a load returned is released with ``acl.mdl.unload``,
a pointer ``acl.rt.malloc`` returned with ``acl.rt.free``, and so on. A test that passed
keeps its leftovers: the leak check reports them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

# Set on a test's item once its call phase has ended: whether it failed.
CALL_FAILED = pytest.StashKey[bool]()
# Set while a test runs: releases what pins its fixtures' memory (PINNING) and says what it did.
RELEASE_PINNING = pytest.StashKey[Callable[[], list[str]]]()

# function → kind of what its successful call acquires
ACQUIRES = {
    "acl.mdl.load_from_file": "model", "acl.mdl.load_from_mem": "model",
    "acl.mdl.load_from_file_with_mem": "model", "acl.mdl.load_from_mem_with_mem": "model",
    "acl.mdl.load_with_config": "model",
    "acl.mdl.bundle_load_from_file": "bundle", "acl.mdl.bundle_load_from_mem": "bundle",
    "acl.mdl.bundle_init_from_file": "bundle", "acl.mdl.bundle_init_from_mem": "bundle",
    "acl.rt.malloc": "device", "acl.rt.malloc_align32": "device",
    "acl.rt.malloc_cached": "device", "acl.rt.malloc_host": "host",
    "acl.rt.create_stream": "stream", "acl.rt.create_context": "context",
    "acl.mdl.create_dataset": "dataset", "acl.create_data_buffer": "data_buffer",
}
# kind → the function that releases it (its first argument is the handle)
RELEASES = {
    "model": "acl.mdl.unload", "bundle": "acl.mdl.bundle_unload", "stream": "acl.rt.destroy_stream",
    "dataset": "acl.mdl.destroy_dataset", "data_buffer": "acl.destroy_data_buffer",
    "device": "acl.rt.free", "host": "acl.rt.free_host", "context": "acl.rt.destroy_context",
}
RELEASED_BY = {function: kind for kind, function in RELEASES.items()}
TRACKED = frozenset(ACQUIRES) | frozenset(RELEASED_BY)
# Models before the memory they may use, streams before their contexts.
ORDER = ("model", "bundle", "stream", "dataset", "data_buffer", "device", "host", "context")
# What pins memory a fixture owns: released as soon as the call fails, before the fixtures'
# teardown frees that memory (which would otherwise be freed under a loaded model).
PINNING = ("model", "bundle")


def _handle(result: Any) -> int | None:
    """What a successful call returned: ``(handle, 0)`` or a plain non-zero handle."""
    if isinstance(result, tuple) and len(result) == 2 and result[1] == 0:
        return int(result[0]) if isinstance(result[0], int) and result[0] else None
    if isinstance(result, int) and not isinstance(result, bool) and result:
        return result
    return None


class Ledger:
    """Handles a test acquired and still holds, by kind, in the order it acquired them."""

    def __init__(self) -> None:
        self._held: dict[str, dict[int, None]] = {kind: {} for kind in ORDER}
        self._lock = threading.Lock()

    def note(self, function: str, args: tuple[Any, ...], result: Any) -> None:
        kind = ACQUIRES.get(function)
        if kind is not None:
            handle = _handle(result)
            if handle is not None:
                with self._lock:
                    self._held[kind][handle] = None
            return
        kind = RELEASED_BY.get(function)
        if kind is not None and args and isinstance(args[0], int):
            with self._lock:
                self._held[kind].pop(args[0], None)

    def held(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(kind, handle) for kind in ORDER for handle in self._held[kind]]

    def release(self, module: Any, kinds: tuple[str, ...] = ORDER) -> list[str]:
        """Release everything of ``kinds`` still held, in ``ORDER``; return what was released
        (and how each release ended, when it did not return 0)."""
        done = []
        for kind, handle in self.held():
            if kind not in kinds:
                continue
            path = RELEASES[kind].removeprefix("acl.").split(".")
            target = module
            for part in path:
                target = getattr(target, part)
            try:
                ret = target(handle)
            except Exception as exc:  # noqa: BLE001 - a cleanup reports, it does not raise
                done.append(f"{RELEASES[kind]}({handle:#x}) raised {exc!r}")
                continue
            done.append(f"{RELEASES[kind]}({handle:#x})" + (f" returned {ret}" if ret else ""))
        with self._lock:
            for kind in kinds:
                self._held[kind].clear()
        return done
