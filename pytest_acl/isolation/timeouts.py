"""The per-test time limit.

pytest-timeout decides which limit applies to a test — its ``timeout`` marker, ``--timeout``,
``PYTEST_TIMEOUT`` and ini ``timeout`` are honoured; ``--acl-timeout`` (default by level) is
what the plugin gives it when none of those is set, or what wins when stated explicitly.
The limit is enforced through pytest-timeout's ``pytest_timeout_set_timer`` hook by the
standard library's faulthandler watchdog instead of pytest-timeout's timer thread: the
watchdog is a C thread that needs no GIL, so it also ends a call stuck in C that holds it
(pytest-timeout's thread method cannot), and it writes every thread's stack into the
process's flight recorder before it ends the process with status 1. The process's
supervisor — the xdist controller, or ``--acl-resume`` after a serial run — records the test
as ``timeout`` with those stacks.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from typing import Any

import pytest

from pytest_acl.options import Resolved


def explicit_pytest_timeout(config: pytest.Config) -> str | None:
    """Where pytest-timeout's own limit was set, if the user set one."""
    if config.getoption("timeout", None) is not None:
        return "pytest-timeout --timeout"
    if os.environ.get("PYTEST_TIMEOUT", "").strip():
        return "env PYTEST_TIMEOUT"
    try:
        if config.getini("timeout"):
            return "ini timeout"
    except ValueError:
        pass
    return None


def configure_limit(config: pytest.Config, setting: Resolved) -> tuple[float, str]:
    """Give pytest-timeout the limit (before its own ``pytest_configure`` reads it); return
    the limit in force and where it came from. Raises UsageError for a conflicting setup."""
    if not config.pluginmanager.hasplugin("timeout"):
        if setting.value and not setting.source.startswith("default"):
            raise pytest.UsageError(
                f"--acl-timeout {setting.value:g} (from {setting.source}) needs pytest-timeout, "
                "which is disabled (-p no:timeout) or not installed; remove -p no:timeout or "
                "pip install pytest-timeout")
        return 0.0, "pytest-timeout is not active"
    faulthandler_limit = float(config.getini("faulthandler_timeout") or 0)
    theirs = explicit_pytest_timeout(config)
    if setting.source.startswith("default") and theirs:
        limit = float(config.getoption("timeout") or os.environ.get("PYTEST_TIMEOUT")
                      or config.getini("timeout") or 0)
        source = theirs
    else:
        limit, source = setting.value, setting.source
        config.option.timeout = limit or None
    if limit and faulthandler_limit:
        raise pytest.UsageError(
            f"ini faulthandler_timeout = {faulthandler_limit:g} and the per-test limit "
            f"{limit:g} s (from {source}) both arm faulthandler's single watchdog; remove "
            "faulthandler_timeout (the limit already dumps every thread's stack) or turn the "
            "limit off with --acl-timeout 0")
    return limit, source


class Watchdog:
    """pytest-timeout's timer hooks, implemented with faulthandler (see the module doc).

    ``notice``: a process without a supervisor (a serial session) says on stderr, just
    before the watchdog ends it, which test passed its limit and how to go on — faulthandler
    writes the stacks to the flight recorder, not to the terminal."""

    NOTICE_LEAD = 0.5  # seconds before the deadline

    def __init__(self, config: pytest.Config, flight: Any, notice: str | None = None) -> None:
        self.config = config
        self.flight = flight
        self.notice = notice
        self._deadline: float | None = None
        self._nodeid = ""
        self._notice_timer: threading.Timer | None = None

    def _arm(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self.flight.set_deadline(seconds)
        faulthandler.dump_traceback_later(seconds, exit=True, file=self.flight.stacks)
        self._cancel_notice()
        if self.notice is not None:
            text = (f"\nacl: {self._nodeid} is at its time limit: the process ends now; "
                    f"{self.notice}\n")
            self._notice_timer = threading.Timer(max(seconds - self.NOTICE_LEAD, 0),
                                                 _say, (self.config, text))
            self._notice_timer.daemon = True
            self._notice_timer.start()

    def _cancel_notice(self) -> None:
        if self._notice_timer is not None:
            self._notice_timer.cancel()
            self._notice_timer = None


    @pytest.hookimpl(tryfirst=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings: Any) -> bool:
        import pytest_timeout

        if not settings.disable_debugger_detection and pytest_timeout.is_debugging():
            return True  # a debugger is attached: no limit, as pytest-timeout does
        self._nodeid = item.nodeid
        self._arm(float(settings.timeout))
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_timeout_cancel_timer(self, item: pytest.Item) -> bool:
        faulthandler.cancel_dump_traceback_later()
        self._cancel_notice()
        self.flight.set_deadline(None)
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """A failure cancels the timer (pytest-timeout and pytest's faulthandler plugin both
        do so in ``pytest_exception_interact``); re-arm what is left of the limit, so a
        teardown after a failure cannot hang — unless a debugger session may follow."""
        if self._deadline is not None and not item.config.getvalue("usepdb"):
            self._arm(max(self._deadline - time.monotonic(), 0.001))

    def pytest_runtest_logfinish(self) -> None:
        """The test is over: nothing may stay armed into the next one."""
        if self._deadline is not None:
            faulthandler.cancel_dump_traceback_later()
            self._cancel_notice()
            self.flight.set_deadline(None)
            self._deadline = None


def _say(config: pytest.Config, text: str) -> None:
    """Write to the real terminal from the notice thread: suspend pytest's output capture
    first (as pytest-timeout's thread method does — the process ends right after)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    try:
        if capture is not None:
            capture.suspend_global_capture(in_=True)
    finally:
        sys.stderr.write(text)
        sys.stderr.flush()
