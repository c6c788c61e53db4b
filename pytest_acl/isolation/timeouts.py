"""The per-test time limit.

pytest-timeout decides which limit applies to a test — its ``timeout`` marker, ``--timeout``,
``PYTEST_TIMEOUT`` and ini ``timeout`` are honoured; ``--acl-timeout`` (default by level) is
the limit of every test that has no ``timeout`` marker of its own, given as a marker when the
user did not set pytest-timeout's own limit (or stated ``--acl-timeout`` explicitly). The
limit is enforced through pytest-timeout's ``pytest_timeout_set_timer`` hook by the standard
library's faulthandler watchdog instead of pytest-timeout's timer thread: the watchdog is a
C thread that needs no GIL, so it also ends a call stuck in C that holds it (pytest-timeout's
thread method cannot), and it writes every thread's stack into the process's flight recorder
before it ends the process with status 1. The process's supervisor — the xdist controller,
or ``--acl-resume`` after a serial run — records the test as ``timeout`` with those stacks.
A session that is not an ACL session is left to pytest-timeout alone.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_acl.options import Resolved


@dataclass(frozen=True)
class Limit:
    seconds: float
    source: str
    as_marker: bool  # ours: every test without a timeout marker gets one


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


def resolve_limit(config: pytest.Config, setting: Resolved) -> Limit:
    """The limit in force and where it came from; a UsageError for a conflicting setup."""
    if not config.pluginmanager.hasplugin("timeout"):
        if setting.value and not setting.source.startswith("default"):
            raise pytest.UsageError(
                f"--acl-timeout {setting.value:g} (from {setting.source}) needs pytest-timeout, "
                "which is disabled (-p no:timeout) or not installed; remove -p no:timeout or "
                "pip install pytest-timeout")
        return Limit(0.0, "pytest-timeout is not active", False)
    theirs = explicit_pytest_timeout(config)
    if setting.source.startswith("default") and theirs:
        seconds = float(config.getoption("timeout") or os.environ.get("PYTEST_TIMEOUT")
                        or config.getini("timeout") or 0)
        limit = Limit(seconds, theirs, False)
    else:
        limit = Limit(setting.value, setting.source, True)
    faulthandler_limit = float(config.getini("faulthandler_timeout") or 0)
    if limit.seconds and faulthandler_limit:
        raise pytest.UsageError(
            f"ini faulthandler_timeout = {faulthandler_limit:g} and the per-test limit "
            f"{limit.seconds:g} s (from {limit.source}) both arm faulthandler's single "
            "watchdog; remove faulthandler_timeout (the limit already dumps every thread's "
            "stack) or turn the limit off with --acl-timeout 0")
    return limit


def apply_limit(items: list[pytest.Item], limit: Limit) -> None:
    """Our limit, as pytest-timeout markers on the tests that have none."""
    if not limit.as_marker:
        return
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(limit.seconds))


class Watchdog:
    """pytest-timeout's timer hooks, implemented with faulthandler (see the module doc).

    ``notice``: a process without a supervisor (a serial session) says on stderr, just
    before the watchdog ends it, which test passed its limit and how to go on — faulthandler
    writes the stacks to the flight recorder, not to the terminal."""

    NOTICE_LEAD = 0.5  # seconds before the deadline

    def __init__(self, config: pytest.Config, flight: Any, notice: str | None = None) -> None:
        self.config = config
        self.flight = flight
        self.notice = _Notice(config) if notice is not None else None
        self.notice_text = notice
        self._deadline: float | None = None
        self._armed = False
        self._nodeid = ""

    def _arm(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self._armed = True
        self.flight.set_deadline(seconds)
        # the descriptor, not the file object: faulthandler would flush it on every call
        faulthandler.dump_traceback_later(seconds, exit=True, file=self.flight.stacks.fileno())
        if self.notice is not None:
            self.notice.due(self._deadline - self.NOTICE_LEAD,
                            f"\nacl: {self._nodeid} is at its time limit: the process ends "
                            f"now; {self.notice_text}\n")

    def _disarm(self) -> None:
        faulthandler.cancel_dump_traceback_later()
        self._armed = False
        if self.notice is not None:
            self.notice.due(None, "")
        self.flight.set_deadline(None)

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
        self._disarm()
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """A failure cancels the timer (pytest-timeout and pytest's faulthandler plugin both
        do so in ``pytest_exception_interact``); re-arm what is left of the limit, so a
        teardown after a failure cannot hang — unless a debugger session may follow."""
        if self._deadline is not None and not self._armed and \
                not item.config.getvalue("usepdb"):
            self._arm(max(self._deadline - time.monotonic(), 0.001))

    def pytest_runtest_logfinish(self) -> None:
        """The test is over: nothing may stay armed into the next one."""
        if self._deadline is not None:
            self._disarm()
            self._deadline = None


class _Notice:
    """One thread that says, once a deadline passes, which test hit its limit (a timer
    thread per test would cost a thread start per test)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._condition = threading.Condition()
        self._deadline: float | None = None
        self._text = ""
        threading.Thread(target=self._run, name="pytest-acl time limit notice",
                         daemon=True).start()

    def due(self, deadline: float | None, text: str) -> None:
        with self._condition:
            self._deadline, self._text = deadline, text
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._deadline is None:
                    self._condition.wait()
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                text, self._deadline = self._text, None
            _say(self.config, text)


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
