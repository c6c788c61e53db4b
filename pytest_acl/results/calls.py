"""What a test did through the backend: every non-zero aclError it saw (with the function
and the code's name) and the time spent loading, executing and unloading models.

The backend module is wrapped once (``RecordingAcl``); each test gets a fresh log. Every call
(``acl.*``, ``acl.rt/mdl/util.*``) is also noted in the process's flight recorder when one is
attached, so a test that kills its process is recorded with the ACL call in flight. The
wrapper is transparent — attributes it does not wrap pass through — so the same suite runs
on every backend and a program cannot tell it apart from the module underneath.
"""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_acl.cleanup import TRACKED, Ledger
from pytest_acl.constants import error_name

if TYPE_CHECKING:
    from pytest_acl.isolation.flight import FlightRecorder

TIMED = ("load", "execute", "unload", "bundle_load", "bundle_init", "bundle_unload")


def _ret_of(name: str, result: Any) -> int | None:
    """The aclError a call returned: the last element of a tuple, or a plain int — except
    for pyACL's value getters and creators, whose plain int is a count, size or handle."""
    if isinstance(result, bool):
        return None
    if isinstance(result, int):
        is_value = name.startswith(("create_", "get_")) and name != "get_desc"
        return None if is_value else result
    if isinstance(result, tuple) and result and isinstance(result[-1], int):
        return result[-1]
    return None


class CallLog:
    def __init__(self) -> None:
        self.codes: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}
        self.ledger = Ledger()  # what the test holds, released if it fails (cleanup.py)
        self._lock = threading.Lock()

    def add(self, function: str, ret: int | None, seconds: float, family: str | None) -> None:
        with self._lock:
            if ret:
                self.codes.append({"function": function, "code": ret, "name": error_name(ret)})
            if family:
                self.timings[family] = round(self.timings.get(family, 0.0) + seconds, 6)


def _declared(wrapper: Callable[..., Any], call: Callable[..., Any]) -> Callable[..., Any]:
    """``wrapper``, keeping the attributes the simulator declares on ``call`` (its pyACL
    format and return shape, ``pyacl_stub`` for a function outside its scope: markers.py
    treats a stub as not exposed)."""
    wrapper.__dict__.update(getattr(call, "__dict__", {}))
    return wrapper


def _in_flight(owner: RecordingAcl, function: str, call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, noted in the owner's flight recorder while it runs (when one is attached)."""

    def noted(*args: Any) -> Any:
        flight = owner.flight
        if flight is None:
            return call(*args)
        flight.call_started(function)
        result = call(*args)
        flight.call_returned()
        return result

    return _declared(noted, call)


def _ledgered(owner: RecordingAcl, function: str, call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, noted in the current log's ledger (a top-level ``acl.*`` function)."""

    def noted(*args: Any) -> Any:
        result = call(*args)
        if owner.log is not None:
            owner.log.ledger.note(function, args, result)
        return result

    return _declared(noted, call)


class _Namespace(types.ModuleType):
    """A submodule (acl.rt, acl.mdl, …) whose functions report to the current log (codes
    and timings for ``rt``/``mdl``; only the flight recorder for ``util``, whose plain ints
    are pointers, not codes)."""

    def __init__(self, target: Any, prefix: str, owner: RecordingAcl, codes: bool = True) -> None:
        super().__init__(getattr(target, "__name__", prefix))
        self._target, self._prefix, self._owner = target, prefix, owner
        self._codes = codes
        self._hidden: set[str] = set()
        self._wrapped: dict[str, tuple[Any, Callable[..., Any]]] = {}

    def __delattr__(self, name: str) -> None:
        """Deleting an API (as a conftest may, to mimic an older pyACL) hides it here."""
        if name in self.__dict__:
            super().__delattr__(name)
        elif hasattr(self._target, name):
            self._hidden.add(name)
        else:
            raise AttributeError(name)

    def __getattr__(self, name: str) -> Any:
        if name in self.__dict__.get("_hidden", ()):
            raise AttributeError(f"{self._prefix} has no attribute {name!r}")
        value = getattr(self._target, name)
        if not callable(value) or isinstance(value, types.ModuleType):
            return value
        cached = self.__dict__.get("_wrapped", {}).get(name)
        if cached is not None and cached[0] == value:  # the same function: the same wrapper
            return cached[1]
        wrapper = self._wrap(name, value)
        self._wrapped[name] = (value, wrapper)
        return wrapper

    def _wrap(self, name: str, value: Callable[..., Any]) -> Callable[..., Any]:
        function = f"{self._prefix}.{name}"
        family = next((f for f in TIMED if name.startswith(f)), None)
        owner = self._owner
        call = _in_flight(owner, function, value)
        if not self._codes:
            return call

        tracked = function in TRACKED

        def recorded(*args: Any) -> Any:
            start = time.perf_counter()
            result = call(*args)
            log = owner.log
            if log is not None:
                log.add(function, _ret_of(name, result), time.perf_counter() - start, family)
                if tracked:
                    log.ledger.note(function, args, result)
            return result

        return _declared(recorded, call)


class RecordingAcl(types.ModuleType):
    """The backend module, with ``rt``/``mdl`` calls reported to ``log`` (when set)."""

    def __init__(self, module: Any) -> None:
        super().__init__(getattr(module, "__name__", "acl"))
        self._module = module
        self.log: CallLog | None = None
        self.flight: FlightRecorder | None = None
        for name in ("rt", "mdl", "util"):
            if hasattr(module, name):
                setattr(self, name, _Namespace(getattr(module, name), f"acl.{name}", self,
                                               codes=name != "util"))

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if callable(value) and not isinstance(value, types.ModuleType):
            call = _in_flight(self, f"acl.{name}", value)
            return _ledgered(self, f"acl.{name}", call) if f"acl.{name}" in TRACKED else call
        return value


def start_log(module: Any) -> Callable[[], CallLog | None]:
    """Give ``module`` (if it records) a fresh log; return a function that detaches it."""
    if not isinstance(module, RecordingAcl):
        return lambda: None
    log = module.log = CallLog()

    def stop() -> CallLog:
        module.log = None
        return log

    return stop
