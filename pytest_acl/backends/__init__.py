"""Backends: each yields one pyACL-shaped module object (DESIGN.md, "One API shape: pyACL").

A backend is a plugin: an entry point of the group ``pytest_acl.backends`` whose value is a
``load() -> Backend`` function (ours: ``sim``, ``pyacl``, ``capi`` in pyproject.toml), so a
vendor's package adds one by declaring its own entry point (README, "Backends").
``load_backend(name)`` resolves it lazily — nothing here runs at plugin import time — and
turns "not available" into :class:`BackendUnavailable` with a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

GROUP = "pytest_acl.backends"
OURS = ("sim", "pyacl", "capi")


class BackendUnavailable(Exception):
    """The backend cannot be used here; the message tells the user how to fix that."""


@dataclass
class Backend:
    """A loaded backend: what a ``load()`` entry point returns, and all the plugin asks of
    it. Only ``name``, ``open_module`` and ``version`` are required."""

    name: str
    # Makes the backend's module on first use of ``module``: a process that only reports on
    # the run (xdist's controller) never pays for it, and starts its workers sooner.
    open_module: Callable[[], ModuleType] = field(repr=False)
    version: str
    # SoC name known without initialising anything (None: ask the runtime after init).
    static_soc: str | None = None
    # Live resources by kind for the leak check, working after init. None: the ones the
    # interposition layer counts (contexts and streams created through it, and the current
    # device's HBM in use from acl.rt.get_mem_info) — for bindings that cannot list theirs.
    snapshot: Callable[[], dict[str, int]] | None = field(default=None, repr=False)
    cann_version: str | None = None  # the CANN release under test, when the backend knows it
    driver_version: str | None = None
    devices: int | None = None  # device count known before init (the simulator's)
    hbm_bytes: int | None = None  # HBM per device known before init (the simulator's)
    # It runs the pytest-acl simulator (sim; pyacl under run-sim; capi on the simulator's
    # libascendcl.so): the simulator's model builds load on it.
    simulated: bool = False

    @cached_property
    def module(self) -> ModuleType:
        """The backend's module behind the one interposition layer (results/calls.py) that
        records calls, codes, timings and live handles for every backend."""
        from pytest_acl.results.calls import RecordingAcl

        return RecordingAcl(self.open_module())

    @property
    def opened_module(self) -> ModuleType | None:
        """The module if a test has made it already (reporting must not make one)."""
        return self.__dict__.get("module")

    def soc_name(self) -> str | None:
        """The SoC, from configuration or — after ``acl.init`` — from the runtime."""
        if self.static_soc:
            return self.static_soc
        getter = getattr(self.module, "get_soc_name", None)
        return getter() if getter is not None else None

    def resources(self) -> dict[str, int]:
        """Live resources by kind, compared by the leak check (see ``snapshot``)."""
        if self.snapshot is not None:
            return self.snapshot()
        from pytest_acl.results.calls import RecordingAcl

        module = self.module
        assert isinstance(module, RecordingAcl)
        return module.live_resources()


def installed() -> dict[str, EntryPoint]:
    """The backends installed in this environment, by name (the entry-point group): ours
    first (sim, pyacl, capi), then any other package's, by name."""
    found = {entry.name: entry for entry in entry_points(group=GROUP)}
    return {name: found[name] for name in sorted(found, key=lambda n: (
        OURS.index(n) if n in OURS else len(OURS), n))}


def load_backend(name: str) -> Backend:
    """The backend called ``name``, loaded (imported, not initialised)."""
    found = installed()
    entry = found.get(name)
    if entry is None:
        names = ", ".join(found) or "none — reinstall pytest-acl"
        raise BackendUnavailable(f"unknown backend {name!r}; the installed backends (entry "
                                 f"points {GROUP}) are {names}")
    try:
        load = entry.load()
    except ImportError as exc:
        raise BackendUnavailable(f"backend {name!r} ({entry.value}) cannot be imported: "
                                 f"{exc}") from None
    backend = load()
    if not isinstance(backend, Backend):
        raise BackendUnavailable(f"backend {name!r} ({entry.value}) returned "
                                 f"{type(backend).__name__}, not a pytest_acl.backends.Backend")
    return backend
