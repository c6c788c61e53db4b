"""The simulator's sanitizer: misuse a real NPU silently corrupts on, reported as hazards.

Hazards (DESIGN.md "Sanitizer"; the rules they guard are reference/acl-api.md §5.1–§5.3, §5.10):

- ``shared_work_concurrent`` — two executions using overlapping work memory at the same time:
  two streams, a stream and the host, or two threads without a lock. An asynchronous
  execution counts from the moment it is queued until it has run; executions queued on the
  same stream are ordered and never conflict.
- ``freed_while_loaded`` — device memory freed while a loaded model still uses it as work,
  weight or variable memory.
- ``wrong_context`` — execute or unload from a context other than the model's.

Each hazard names the models, addresses and threads/streams involved. The mode comes from
``PYTEST_ACL_SIM_SANITIZER``: ``off``, ``warn`` (default: a :class:`HazardWarning`) or
``error`` (a :class:`HazardError`, an AssertionError, raised in the offending call).
"""

from __future__ import annotations

import itertools
import os
import threading
import warnings
from dataclasses import dataclass, field

MODES = ("off", "warn", "error")


class HazardWarning(UserWarning):
    """A misuse of the AscendCL API that corrupts data or crashes on a real NPU."""


class HazardError(AssertionError):
    """Raised instead of a warning when the sanitizer runs in ``error`` mode."""

    pyacl_raises = True  # the caller asked for it: passes the internal-error guard (pyargs)


@dataclass(frozen=True)
class Hazard:
    kind: str
    message: str
    model_ids: tuple[int, ...] = ()
    addresses: tuple[int, ...] = ()
    actors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Execution:
    token: int
    model_id: int
    start: int
    end: int
    actor: str  # "thread <name>" or "stream 0x…"


@dataclass
class Sanitizer:
    mode: str = "warn"
    hazards: list[Hazard] = field(default_factory=list)
    _active: dict[int, Execution] = field(default_factory=dict)
    _tokens: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            from pytest_acl.sim.config import SimConfigError

            raise SimConfigError(f"sanitizer mode {self.mode!r} is not one of {', '.join(MODES)}")

    @classmethod
    def from_env(cls) -> Sanitizer:
        mode = os.environ.get("PYTEST_ACL_SIM_SANITIZER", "warn").strip().lower() or "warn"
        try:
            return cls(mode)
        except ValueError as exc:
            raise type(exc)(f"PYTEST_ACL_SIM_SANITIZER: {exc}") from None

    def report(self, hazard: Hazard) -> None:
        if self.mode == "off":
            return
        with self._lock:
            self.hazards.append(hazard)
        if self.mode == "error":
            raise HazardError(f"{hazard.kind}: {hazard.message}")
        warnings.warn(HazardWarning(f"{hazard.kind}: {hazard.message}"), stacklevel=4)

    # -- work memory in use -------------------------------------------------------------------
    def begin(self, model_id: int, work_ptr: int, work_size: int, actor: str) -> int:
        """Register an execution using ``[work_ptr, work_ptr + work_size)``; report a hazard
        if another actor's execution uses overlapping work memory now."""
        token = next(self._tokens)
        execution = Execution(token, model_id, work_ptr, work_ptr + work_size, actor)
        with self._lock:
            clashes = [other for other in self._active.values()
                       if other.actor != actor and other.start < execution.end
                       and execution.start < other.end] if work_size else []
            self._active[token] = execution
        for other in clashes:
            self.report(Hazard(
                "shared_work_concurrent",
                f"model {model_id} ({actor}) and model {other.model_id} ({other.actor}) use "
                f"overlapping work memory {max(execution.start, other.start):#x}.."
                f"{min(execution.end, other.end):#x} at the same time; shared work memory "
                "needs serial execution (a lock, or one stream)",
                (model_id, other.model_id), (work_ptr, other.start), (actor, other.actor)))
        return token

    def end(self, token: int) -> None:
        with self._lock:
            self._active.pop(token, None)

    # -- memory freed under a model ----------------------------------------------------------
    def freed(self, start: int, end: int, users: list[tuple[int, str, int]]) -> None:
        """``users``: (model id, role, address) of loaded models' memory inside the range."""
        for model_id, role, address in users:
            if start <= address < end:
                self.report(Hazard(
                    "freed_while_loaded",
                    f"device memory {start:#x} freed while model {model_id} still uses "
                    f"{address:#x} as its {role} memory; unload the model first",
                    (model_id,), (address,), (f"thread {threading.current_thread().name}",)))

    def wrong_context(self, model_id: int, operation: str, model_context: int,
                      current: int) -> None:
        self.report(Hazard(
            "wrong_context",
            f"{operation} of model {model_id} from context {current:#x}; it was loaded in "
            f"context {model_context:#x} (load, execute and unload need the same context)",
            (model_id,), (), (f"thread {threading.current_thread().name}",)))


def thread_actor() -> str:
    thread = threading.current_thread()
    return f"thread {thread.name} ({thread.ident})"
