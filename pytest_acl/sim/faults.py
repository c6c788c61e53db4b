"""How a simulated process dies or hangs, for the defects that model fatal driver bugs.

A fatal driver or runtime bug does not raise an exception a test can catch: the process gets
SIGSEGV, the driver's fatal error path exits, or a task never completes and the host waits
forever. The test runner must survive each (restart the worker, record the crash, time the
test out), and it can only be tested against the real thing — so these functions really die
or really block. Only the defects in defects.FATAL call them.

Machine-wide state (``PYTEST_ACL_SIM_MACHINE_DIR`` or ``Simulator(machine_dir=...)``) is a
directory shared by every simulated process of one machine, as the devices are: a device lost
in a crash leaves a ``device-<id>.lost`` marker there, so no later process can set it either.
Without a machine directory a lost device is lost for this process only.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from pathlib import Path
from typing import NoReturn

_UNMAPPED = 1  # page 0 is never mapped (vm.mmap_min_addr): reading it faults


def _no_core_file() -> None:
    """The crash is deliberate and a run with the defect on crashes many times: no core
    files in the working directory."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ImportError, OSError, ValueError):
        pass


def segfault() -> NoReturn:
    """End the process with a real SIGSEGV: read an address nothing is mapped at, as a
    driver that indexes past its table does (no Python cleanup, no exception)."""
    _no_core_file()
    ctypes.string_at(_UNMAPPED, 1)
    os._exit(128 + signal.SIGSEGV)  # only if page 0 were mapped: die as a segfault would


def exit_process(code: int) -> NoReturn:
    """End the process at once with ``code``, as a driver's fatal error path calls exit():
    no exception, no ``finally``, no atexit handlers, no flushing."""
    os._exit(code)


_NEVER = threading.Event()  # nothing sets it


def hang() -> NoReturn:
    """Block the calling thread forever without using CPU: a task the device never
    completes (a lock wait, not a busy loop)."""
    while True:
        _NEVER.wait()


class Machine:
    """The simulated machine's state that outlives a process: devices lost in a crash."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory else None
        self._lost: set[int] = set()

    @classmethod
    def from_env(cls) -> Machine:
        """The machine ``PYTEST_ACL_SIM_MACHINE_DIR`` names (none when unset or empty)."""
        return cls(os.environ.get("PYTEST_ACL_SIM_MACHINE_DIR", "").strip() or None)

    def _marker(self, device_id: int) -> Path | None:
        return self.directory / f"device-{device_id}.lost" if self.directory else None

    def lose_device(self, device_id: int) -> None:
        """Mark ``device_id`` lost for the rest of the machine's life (written before the
        process dies: the marker is on disk once this returns)."""
        self._lost.add(device_id)
        marker = self._marker(device_id)
        if marker is not None:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"lost by process {os.getpid()}\n")

    def device_lost(self, device_id: int) -> bool:
        """Lost in this process, or marked lost on the machine (one stat, only when a machine
        directory is set)."""
        if device_id in self._lost:
            return True
        marker = self._marker(device_id)
        return marker is not None and marker.exists()

    def __repr__(self) -> str:
        return f"Machine({str(self.directory) if self.directory else None!r})"
