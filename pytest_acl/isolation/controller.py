"""The xdist controller's side of isolation: every worker gets a device and the run's
directory; a worker that dies makes its test a ``crash`` or ``timeout`` record (from its exit
status and flight recorder); its device is probed before the replacement worker uses it and
quarantined when it fails; tests nobody can run any more become ``device_lost`` records.

A worker stopped by an interrupt or termination signal (Ctrl-C, a cancelled CI job) is not a
crash: its test gets no record and the run stops, INCOMPLETE, to be resumed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_acl.isolation import crashes
from pytest_acl.isolation.devices import DeviceTable
from pytest_acl.isolation.flight import FLIGHT_DIR, read_flight
from pytest_acl.isolation.health import ProbeResult, probe
from pytest_acl.isolation.timeouts import Limit
from pytest_acl.results.records import CRASH_PROPERTY, INTERRUPTED_PROPERTY, LOST_PROPERTY

EXIT_WAIT_SECONDS = 3.0


def _exit_status(node: Any) -> int | None:
    """The worker process's exit status (negative: the signal that killed it), if it is a
    local process (``popen``) — remote workers report none."""
    popen = getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None)
    if popen is None:
        return None
    try:
        return popen.wait(timeout=EXIT_WAIT_SECONDS)
    except (subprocess.TimeoutExpired, OSError):
        return None


def _devices(config: pytest.Config) -> tuple[int, ...]:
    """The session's devices (of a dormant session too, where a bad setting is not ours to
    report yet: then device 0)."""
    from pytest_acl.state import STATE_KEY

    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        return state.settings["devices"].value
    try:
        from pytest_acl.options import resolve

        return resolve(config)["devices"].value
    except pytest.UsageError:
        return (0,)


class IsolationController:
    """Registered in every xdist controller of an ACL session — and, dormant, in any xdist
    controller: it plans a run directory for the workers and wakes the session when one of
    them woke (its flight recorder appears there); dormant, it changes nothing."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.writer: Any = None  # the run's ResultWriter, once the session is awake
        self.planned: Path | None = None
        self.limit = Limit(0.0, "not set", False)
        self.model_dir: Path | None = None
        self.build_dir = Path()
        self.done: list[str] = []
        self.devices = DeviceTable(_devices(config), self._probe)
        self.exits: dict[str, int | None] = {}
        self.interrupted: dict[str, str] = {}
        self.scheduler: Any = None
        self.session: pytest.Session | None = None

    def wake(self, writer: Any, limit: Limit, model_dir: Path | None, done: list[str]) -> None:
        from pytest_acl.roles import build_dir

        self.writer, self.limit, self.model_dir = writer, limit, model_dir
        self.build_dir, self.done = build_dir(self.config), done

    @property
    def awake(self) -> bool:
        return self.writer is not None

    @property
    def run_dir(self) -> Path | None:
        return self.writer.directory if self.awake else self.planned

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Dormant: plan the run directory the workers would write their flight recorders
        to if they woke (created by whoever needs it first)."""
        self.session = session
        if self.awake:
            return
        from pytest_acl.roles import planned_run_directory, report_dir

        try:
            from pytest_acl.options import resolve

            settings = resolve(self.config)
        except pytest.UsageError:
            return  # a worker that wakes will say what is wrong
        self.planned = planned_run_directory(report_dir(self.config, settings))

    def _probe(self, device: int) -> ProbeResult:
        from pytest_acl.state import get_state

        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        result = probe(get_state(self.config).backend_name, device, self.model_dir,
                       self.build_dir)
        if reporter is not None:
            verdict = "healthy" if result.healthy else "FAILED — device quarantined"
            reporter.write_line(f"\nacl: device {device} health probe: {verdict} "
                                f"({result.detail})")
        return result

    # -- xdist hooks -----------------------------------------------------------------------

    def pytest_configure_node(self, node: Any) -> None:
        worker = node.workerinput["workerid"]
        device = self.devices.assign(worker)
        node.workerinput["acl_device"] = device
        if self.run_dir is not None:
            node.workerinput["acl_run_dir"] = str(self.run_dir)
        node.workerinput["acl_done"] = self.done
        if self.scheduler is not None:
            self.scheduler.check_stranded()

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getvalue("dist") != "load":
            return None  # other modes keep xdist's scheduler (quarantine cannot move tests)
        from pytest_acl.isolation.scheduler import DeviceAwareScheduling

        self.scheduler = DeviceAwareScheduling(config, log, self.devices, self.device_lost)
        return self.scheduler

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        worker = node.gateway.id
        if not self.awake and self.planned is not None and self.session is not None and \
                (self.planned / FLIGHT_DIR / f"{worker}.flight").exists():
            from pytest_acl.activation import wake_late

            wake_late(self.session, f"worker {worker} collected tests that use ACL")
        if self.awake:
            self.writer.collection_finished(list(ids))

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        worker = node.gateway.id
        if not error or not self.awake:
            self.devices.worker_finished(worker)
            return
        status = _exit_status(node)
        self.exits[worker] = status
        if error == "keyboard-interrupt" or crashes.stopped_from_outside(status):
            how = "Ctrl-C" if status is None else crashes.exit_text(status)
            self.interrupted[worker] = f"worker {worker} was stopped: {how}"
            self._stop_run(self.interrupted[worker])
            self.devices.worker_finished(worker)
            return
        pending = getattr(self.scheduler, "node2pending", {}).get(node) \
            if self.scheduler is not None else True
        idle = self.devices.by_worker.get(worker, 0) is None
        self.devices.worker_died(worker, while_testing=bool(pending))
        collected = self.scheduler is not None and self.scheduler.collection is not None
        if self.devices.all_lost and not collected:
            self._stop_run("every device is lost ("
                           + "; ".join(f"device {d} {why}" for d, why in
                                       self.devices.quarantined.items())
                           + ") before the tests were collected")
        elif idle and not pending:
            self._stop_run(f"worker {worker} died while starting, on no device: the test "
                           f"environment itself is broken ({crashes.exit_text(status)})")

    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport,
                               sched: Any) -> None:
        node: Any = report.node  # xdist attaches the worker that died
        worker = node.gateway.id
        if not self.awake:
            return
        if worker in self.interrupted:
            report.user_properties.append((INTERRUPTED_PROPERTY, self.interrupted[worker]))
            return
        flight = read_flight(Path(self.writer.directory) / FLIGHT_DIR, worker)
        limit = self.limit
        device = flight.test.get("device") if flight and flight.test else None
        info = crashes.describe(flight, self.exits.get(worker), worker, device, limit.seconds,
                                limit.source)
        report.longrepr = info["message"]
        report.location = (report.location[0], None, crashitem.split("::", 1)[-1])
        report.user_properties += [(CRASH_PROPERTY, info), ("acl.device", device),
                                   ("acl.worker", worker)]

    # -- giving up on tests --------------------------------------------------------------

    def device_lost(self, nodeids: list[str]) -> None:
        """Record tests no healthy device is left to run (called by the scheduler)."""
        reasons = "; ".join(f"device {d} {why}" for d, why in self.devices.quarantined.items())
        for nodeid in nodeids:
            path = nodeid.split("::")[0]
            report = pytest.TestReport(
                nodeid=nodeid, location=(path, None, nodeid.split("::", 1)[-1]), keywords={},
                outcome="failed",
                longrepr=f"device lost: not run, no healthy device is left ({reasons})",
                when="???",  # type: ignore[arg-type]  # as xdist names a crash report
                user_properties=[(LOST_PROPERTY, reasons or "no healthy device")])
            self.config.hook.pytest_runtest_logreport(report=report)

    def _stop_run(self, why: str) -> None:
        """End the run (INCOMPLETE): no more tests, and no more replacement workers — xdist
        keeps replacing dead workers until its restart limit, which it reads from a private
        attribute (pytest-xdist 3.x); without it the restart limit ends the run instead."""
        dsession = self.config.pluginmanager.getplugin("dsession")
        if dsession is None:
            return
        if not getattr(dsession, "shouldstop", False):
            dsession.shouldstop = why
        if hasattr(dsession, "_max_worker_restart"):
            dsession._max_worker_restart = 0
