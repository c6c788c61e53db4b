"""The ``acl`` module as the targets see it: every function call timed and named, so a
finding says which pyACL call raised or took too long, and the runner knows the call in
flight if a watchdog has to end the process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class CallLog:
    """What the calls of one input did: the call in flight, the slowest call, how many."""

    current: str = ""
    slowest: tuple[str, float] = ("", 0.0)
    count: int = 0
    on_call: Callable[[str], None] | None = None  # told before each call (the watchdog)

    def reset(self) -> None:
        self.current, self.slowest, self.count = "", ("", 0.0), 0


class TimedModule:
    """A proxy of a pyACL-shaped module (``acl``, ``acl.mdl``, ...): attribute access
    gives nested proxies, calls go to the real functions through :meth:`CallLog` timing."""

    def __init__(self, module: Any, log: CallLog, prefix: str = "acl") -> None:
        self._module = module
        self._log = log
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        qualified = f"{self._prefix}.{name}"
        if callable(value) and not isinstance(value, type):
            return _timed(value, qualified, self._log)
        if hasattr(value, "__dict__") and not isinstance(value, int | str | bytes):
            return TimedModule(value, self._log, qualified)
        return value


def _timed(fn: Callable[..., Any], name: str, log: CallLog) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        log.current = name
        log.count += 1
        if log.on_call is not None:
            log.on_call(name)
        start = time.perf_counter()
        try:
            result = fn(*args)
        finally:
            seconds = time.perf_counter() - start
            if seconds > log.slowest[1]:
                log.slowest = (name, seconds)
        log.current = ""  # kept when the call raised: the finding names it
        return result

    return call
