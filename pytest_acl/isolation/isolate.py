"""``--acl-isolate``: whether tests run in worker processes that are replaced when they die.

Isolation is pytest-xdist: a session with ``-n N`` is isolated already; an isolated session
without ``-n`` gets one worker (``-n 1``), so a serial run survives a crash or a hang as a
parallel one does. ``auto`` isolates on device backends (pyacl, capi), where a driver crash
or a hung call must cost one test, not the run; on the simulator tests run in-process, so
debuggers and ``print`` work as usual (and a crash there is a bug of ours to fix).

This runs in ``pytest_cmdline_main`` (before xdist reads ``-n``), so it resolves its own
options instead of waiting for ``pytest_configure``.
"""

from __future__ import annotations

import pytest

# xdist stops replacing crashed workers after 4 per worker by default; a run on a card that
# crashes now and then must go on. Endless restarts are prevented by the device table
# (a device whose workers keep dying is quarantined, and the run stops when none is left);
# this bound is the last resort.
MAX_WORKER_RESTARTS = "200"


def wanted(setting: str, backends: tuple[str, ...]) -> bool:
    """Whether to isolate: ``auto`` does on any backend but the simulator (a vendor's too)."""
    return setting == "yes" or (setting == "auto" and any(b != "sim" for b in backends))


def apply(config: pytest.Config) -> str:
    """Make the session isolated when it should be; returns what the header says about it."""
    from pytest_acl.options import resolve

    option = config.option
    if hasattr(config, "workerinput"):
        return ""  # an xdist worker (xdist runs pytest_cmdline_main there too)
    if getattr(option, "help", False) or getattr(option, "version", False) or \
            getattr(option, "collectonly", False):
        return ""
    settings = resolve(config)
    isolate, backend = settings["isolate"], settings["backend"].value
    numprocesses = getattr(option, "numprocesses", None)
    if not config.pluginmanager.hasplugin("xdist"):
        if isolate.value == "yes":
            raise pytest.UsageError(
                f"--acl-isolate yes (from {isolate.source}) needs pytest-xdist, which is "
                "disabled (-p no:xdist) or not installed: pip install 'pytest-acl[xdist]'")
        return "not isolated: pytest-xdist is not installed" if wanted(
            isolate.value, backend) else "not isolated"
    if numprocesses or distributed(config):
        _raise_restarts(option)
        return "isolated: tests run in xdist workers, replaced when they crash or hang"
    if not wanted(isolate.value, backend):
        return "not isolated (a crash or hang ends the run; --acl-resume continues it)"
    debugging = option.usepdb or getattr(option, "trace", False)
    if numprocesses == 0 or debugging:
        if isolate.value == "yes":
            why = "-n 0" if numprocesses == 0 else "--pdb/--trace"
            raise pytest.UsageError(
                f"--acl-isolate yes (from {isolate.source}) runs the tests in a worker "
                f"process, which {why} rules out; drop {why} or use --acl-isolate no")
        return "not isolated (debugging)" if debugging else "not isolated (-n 0)"
    option.numprocesses = 1
    _raise_restarts(option)
    return "isolated: tests run in one xdist worker, replaced when it crashes or hangs"


def describe(config: pytest.Config) -> str:
    """What the header says about a session that woke too late to be made isolated."""
    if distributed(config):
        return "isolated: tests run in xdist workers, replaced when they crash or hang"
    return "not isolated (a crash or hang ends the run; --acl-resume continues it)"


def distributed(config: pytest.Config) -> bool:
    """The session runs its tests in xdist workers (``-n``, or ``--tx`` with a ``--dist``)."""
    option = config.option
    return bool(getattr(option, "numprocesses", None)) or (
        getattr(option, "dist", "no") != "no" and bool(getattr(option, "tx", None)))


def _raise_restarts(option: object) -> None:
    if getattr(option, "maxworkerrestart", None) is None:
        option.maxworkerrestart = MAX_WORKER_RESTARTS  # type: ignore[attr-defined]
