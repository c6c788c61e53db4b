"""Which worker uses which device, and which devices are quarantined (the xdist controller).

Initial workers get the devices round robin by worker index. When a worker dies (a crash or
a timeout), its device becomes a suspect; the worker that replaces it gets that device only
after the device passes the health probe. A device that fails is quarantined: the
replacement takes a healthy device no live worker uses, or else stays idle (the scheduler
gives it nothing and its tests go to the workers on healthy devices). When every device is
quarantined the remaining tests cannot run: they are recorded ``device_lost``.

A device whose replacement workers die before running anything, twice in a row, is
quarantined too (the environment, not a test, kills them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pytest_acl.isolation.health import ProbeResult

STARTUP_DEATHS_BEFORE_QUARANTINE = 2


@dataclass
class DeviceTable:
    devices: tuple[int, ...]
    probe: Callable[[int], ProbeResult]
    by_worker: dict[str, int | None] = field(default_factory=dict)
    quarantined: dict[int, str] = field(default_factory=dict)
    suspects: list[int] = field(default_factory=list)
    probes: list[ProbeResult] = field(default_factory=list)
    _startup_deaths: dict[int, int] = field(default_factory=dict)
    _replacements_due: int = 0

    def healthy(self) -> list[int]:
        return [d for d in self.devices if d not in self.quarantined]

    @property
    def all_lost(self) -> bool:
        return not self.healthy()

    def usable(self, worker: str) -> bool:
        """The worker may get tests: it has a device and the device is not quarantined."""
        device = self.by_worker.get(worker)
        return device is not None and device not in self.quarantined

    def assign(self, worker: str) -> int | None:
        """The device of a new worker (None: it stays idle). An initial worker gets the
        devices round robin by its index; a replacement gets its predecessor's device if it
        passes the probe, else a healthy device no live worker uses, else none."""
        if self._replacements_due == 0:
            index = int(worker[2:]) if worker[2:].isdigit() else 0
            device: int | None = self.devices[index % len(self.devices)]
            self.by_worker[worker] = device
            return device
        self._replacements_due -= 1
        while self.suspects:
            suspect = self.suspects.pop(0)
            if suspect in self.quarantined:
                continue
            result = self.probe(suspect)
            self.probes.append(result)
            if result.healthy:
                self.by_worker[worker] = suspect
                return suspect
            self.quarantined[suspect] = f"failed the health probe: {result.detail}"
        busy = {d for d in self.by_worker.values() if d is not None}
        free = [d for d in self.healthy() if d not in busy]
        device = free[0] if free else None
        self.by_worker[worker] = device
        return device

    def worker_died(self, worker: str, while_testing: bool) -> None:
        """A worker ended abnormally (xdist replaces it): its device must pass the probe
        before its next test. ``while_testing``: it died running a test, not starting up."""
        self._replacements_due += 1
        device = self.by_worker.pop(worker, None)
        if device is None or device in self.quarantined:
            return
        if while_testing:
            self._startup_deaths.pop(device, None)
        else:
            deaths = self._startup_deaths[device] = self._startup_deaths.get(device, 0) + 1
            if deaths >= STARTUP_DEATHS_BEFORE_QUARANTINE:
                self.quarantined[device] = (f"{deaths} workers died on it before running a "
                                            "test")
                return
        self.suspects.append(device)

    def worker_finished(self, worker: str) -> None:
        self.by_worker.pop(worker, None)
