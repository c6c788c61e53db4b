"""What a test did through the backend: every non-zero aclError it saw (with the function
and the code's name) and the time spent loading, executing and unloading models.

The backend module is wrapped once (``RecordingAcl``); each test gets a fresh log. Every call
(``acl.*``, ``acl.rt/mdl/util.*``) is also noted in the process's flight recorder when one is
attached, so a test that kills its process is recorded with the ACL call in flight. The
wrapper is transparent — attributes it does not wrap pass through — so the same suite runs
on every backend and a program cannot tell it apart from the module underneath. It is the
one interposition layer of every backend (``Backend.module``): it also counts the contexts
and streams made through it, for the leak check of bindings that cannot list theirs. Each
function's wrapper is made once and kept, not on every attribute access.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from pytest_acl.cleanup import TRACKED, Ledger
from pytest_acl.constants import MemAttr, error_name

if TYPE_CHECKING:
    from pytest_acl.isolation.flight import FlightRecorder

TIMED = ("load", "execute", "unload", "bundle_load", "bundle_init", "bundle_unload")
# The handles the interposition layer counts for the leak check: function → (kind, +1/-1).
_COUNTED = {"acl.rt.create_context": ("contexts", +1), "acl.rt.destroy_context": ("contexts", -1),
            "acl.rt.create_stream": ("streams", +1), "acl.rt.destroy_stream": ("streams", -1)}


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


def _wrap(owner: RecordingAcl, function: str, call: Callable[..., Any],
          codes: bool) -> Callable[..., Any]:
    """The one wrapper of ``call`` (made once per function): it notes the call in the
    owner's flight recorder while it runs, counts the context or stream it makes or
    destroys, and — when a log is attached — its aclError and time (``codes``: for
    ``acl.rt``/``acl.mdl``; ``acl.util``'s plain ints are pointers) and what it holds
    (the cleanup ledger)."""
    name = function.rsplit(".", 1)[-1]
    family = next((f for f in TIMED if name.startswith(f)), None) if codes else None
    shape = _shapes().get(function) if codes else None
    tracked = function in TRACKED
    counted = _COUNTED.get(function)

    def through(*args: Any) -> Any:
        flight = owner.flight
        if flight is not None:
            flight.call_started(function)
        start = time.perf_counter()
        result = call(*args)
        seconds = time.perf_counter() - start
        if flight is not None:
            flight.call_returned()
        if counted is not None:
            owner.count(counted, args, result)
        log = owner.log
        if log is not None:
            if codes:
                log.add(function, status_of(shape, result), seconds, family)
            if tracked:
                log.ledger.note(function, args, result)
        return result

    return _declared(through, call)


class _Wrapping(types.ModuleType):
    """A module whose functions are served through ``_wrap``, each wrapper made once and
    kept while the function underneath stays the same object. Attributes it does not wrap
    (constants, classes, submodules) pass through."""

    def __init__(self, target: Any, prefix: str, owner: RecordingAcl | None,
                 codes: bool) -> None:
        super().__init__(getattr(target, "__name__", prefix))
        self._target, self._prefix, self._codes = target, prefix, codes
        self._owner: RecordingAcl = owner if owner is not None else cast("RecordingAcl", self)
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
        own = self.__dict__
        if "_wrapped" not in own:
            raise AttributeError(name)  # before __init__ ran (copy, pickle)
        if name in own["_hidden"]:
            raise AttributeError(f"{self._prefix} has no attribute {name!r}")
        value = getattr(own["_target"], name)
        if not callable(value) or isinstance(value, type | types.ModuleType):
            return value
        cached = self._wrapped.get(name)
        if cached is not None and cached[0] is value:
            return cached[1]
        wrapper = _wrap(self._owner, f"{self._prefix}.{name}", value, self._codes)
        self._wrapped[name] = (value, wrapper)
        return wrapper


class RecordingAcl(_Wrapping):
    """The backend module behind the one interposition layer: ``acl.*``, ``acl.rt.*``,
    ``acl.mdl.*``, ``acl.util.*`` calls noted in the flight recorder, ``rt``/``mdl`` codes
    and timings reported to ``log`` (when set), the cleanup ledger kept, and the contexts
    and streams made through it counted (``live``) for backends that cannot list theirs."""

    def __init__(self, module: Any) -> None:
        super().__init__(module, "acl", None, codes=False)
        self._module = module
        self.log: CallLog | None = None
        self.flight: FlightRecorder | None = None
        self.live: dict[str, set[int]] = {"contexts": set(), "streams": set()}
        self._count_lock = threading.Lock()
        for name in ("rt", "mdl", "util"):
            if hasattr(module, name):
                setattr(self, name, _Wrapping(getattr(module, name), f"acl.{name}", self,
                                              codes=name != "util"))

    @property
    def wrapped(self) -> Any:
        """The backend's own module, underneath."""
        return self._module

    def count(self, counted: tuple[str, int], args: tuple[Any, ...], result: Any) -> None:
        """Note a context or stream made (``(handle, 0)``) or destroyed (``0``)."""
        kind, direction = counted
        with self._count_lock:
            if direction > 0 and isinstance(result, tuple) and result[-1] == 0:
                self.live[kind].add(result[0])
            elif direction < 0 and result == 0 and args:
                self.live[kind].discard(args[0])

    def live_resources(self) -> dict[str, int]:
        """The contexts and streams counted here, and the current device's HBM in use
        (``get_mem_info(ACL_HBM_MEM)``), for the leak check."""
        with self._count_lock:
            counts = {kind: len(handles) for kind, handles in self.live.items()}
        rt = self._module.rt
        device, ret = rt.get_device()
        if ret == 0:
            free, total, ret = rt.get_mem_info(MemAttr.ACL_HBM_MEM)
            if ret == 0:
                counts[f"device{device}.bytes_in_use"] = total - free
        return counts


def start_log(module: Any) -> Callable[[], CallLog | None]:
    """Give ``module`` (if it records) a fresh log; return a function that detaches it."""
    if not isinstance(module, RecordingAcl):
        return lambda: None
    log = module.log = CallLog()

    def stop() -> CallLog:
        module.log = None
        return log

    return stop
