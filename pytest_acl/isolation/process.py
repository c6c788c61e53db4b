"""The plugin in every process that runs tests (an xdist worker, or a serial session): it
keeps the flight recorder current — the test running and, through the recording wrapper,
the ACL call in flight — and enforces the per-test limit (``timeouts.Watchdog``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_acl.isolation.flight import FLIGHT_DIR, FlightRecorder
from pytest_acl.isolation.timeouts import Watchdog


class TestProcess:
    __test__ = False  # not a test class, whatever its name says

    def __init__(self, config: pytest.Config, run_dir: Callable[[], Path], name: str,
                 device: int | None) -> None:
        self.config = config
        self.run_dir, self.name, self.device = run_dir, name, device
        self.flight: Any = _NoFlight()
        self._modules: list[Any] = []

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The run directory exists now (the writer or the controller claimed it)."""
        from pytest_acl.state import get_state

        self.flight = FlightRecorder(self.run_dir() / FLIGHT_DIR, self.name)
        self.flight.arm_fatal_signals()
        if self.config.pluginmanager.hasplugin("timeout"):  # its hooks time the tests
            alone = self.name == "main"  # no supervisor to record the timeout: say it
            notice = (f"its stacks are in {self.flight.stacks_path}; continue the run with "
                      f"--acl-resume {self.run_dir()}") if alone else None
            self.config.pluginmanager.register(Watchdog(self.config, self.flight, notice),
                                               "acl-watchdog")
        self._modules = [backend.module for backend in get_state(self.config).backends()]
        for module in self._modules:  # the recording wrapper notes every ACL call
            module.flight = self.flight

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.flight.test_started(nodeid, self.device)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self) -> None:
        self.flight.test_finished()

    def pytest_unconfigure(self) -> None:
        """The process ends normally: its black box has nothing to tell."""
        for module in self._modules:
            module.flight = None
        self.flight.close(remove=True)


class _NoFlight:
    """Before the session starts there is nothing to record."""

    def test_started(self, nodeid: str, device: int | None) -> None:
        pass

    def test_finished(self) -> None:
        pass

    def close(self, remove: bool = False) -> None:
        pass
