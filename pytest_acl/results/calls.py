"""What a test did through the backend: every non-zero aclError it saw (with the function
and the code's name) and the time spent loading, executing and unloading models.

The backend module is wrapped once (``RecordingAcl``); each test gets a fresh log. Every call
(``acl.*``, ``acl.rt/mdl/util.*``) is also noted in the process's flight recorder when one is
attached, so a test that kills its process is recorded with the ACL call in flight. The
wrapper is transparent — attributes it does not wrap pass through — so the same suite runs
on every backend and a program cannot tell it apart from the module underneath.
"""

from __future__ import annotations

import functools
import sys
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


def status_of(shape: tuple[bool, int] | None, result: Any) -> int | None:
    """The aclError a call returned, read by the function's return shape in the pyACL surface
    table (sim/surface.toml: ``returns_ret``, ``outputs``) — never guessed from the value: the
    last element when it returns outputs then ``ret``, the value itself when it returns
    ``ret`` alone. None for a function whose value is not a status (a handle, a size, an
    address) and for one the table does not list."""
    if shape is None or not shape[0]:
        return None
    if shape[1]:
        result = result[-1] if isinstance(result, tuple) and result else None
    return result if isinstance(result, int) and not isinstance(result, bool) else None


@functools.cache
def _shapes() -> dict[str, tuple[bool, int]]:
    from pytest_acl.sim.surface import load

    return load().return_shapes()


def _in_generated_example() -> bool:
    """Whether hypothesis is running a generated example right now (on this thread): the
    codes seen then depend on the examples drawn (results/compare.py)."""
    control = sys.modules.get("hypothesis.control")
    return bool(control is not None and control.currently_in_test_context())


class CallLog:
    def __init__(self) -> None:
        self.codes: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}
        self.ledger = Ledger()  # what the test holds, released if it fails (cleanup.py)
        self._lock = threading.Lock()

    def add(self, function: str, ret: int | None, seconds: float, family: str | None) -> None:
        generated = bool(ret) and _in_generated_example()
        with self._lock:
            if ret:
                self.codes.append({"function": function, "code": ret, "name": error_name(ret)}
                                  | ({"generated": True} if generated else {}))
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
        shape = _shapes().get(function)

        def recorded(*args: Any) -> Any:
            start = time.perf_counter()
            result = call(*args)
            log = owner.log
            if log is not None:
                log.add(function, status_of(shape, result), time.perf_counter() - start, family)
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
