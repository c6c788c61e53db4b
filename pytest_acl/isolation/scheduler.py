"""xdist's load scheduling, minus the workers that must not get tests: a worker whose device
is quarantined, or a replacement left without a device (``devices.DeviceTable``). Such a
worker is shut down at its first turn; the tests it would have had go to the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from xdist.scheduler import LoadScheduling

from pytest_acl.isolation.devices import DeviceTable


class DeviceAwareScheduling(LoadScheduling):
    def __init__(self, config: pytest.Config, log: Any, devices: DeviceTable,
                 on_stranded: Callable[[list[str]], None]) -> None:
        super().__init__(config, log)
        self.devices = devices
        self.on_stranded = on_stranded

    def schedule(self) -> None:
        super().schedule()
        self.check_stranded()

    def check_stranded(self) -> None:
        """Tests are waiting and no live worker may take them: give them up (as device_lost)
        rather than wait for workers that will never come."""
        if self.collection is None or not self.pending:
            return
        if not any(self.devices.usable(node.gateway.id) for node in self.nodes) and \
                not any(self.devices.usable(worker) for worker in self.devices.by_worker):
            self.on_stranded(self.abandon())

    def _send_tests(self, node: Any, num: int) -> None:
        if not self.devices.usable(node.gateway.id):
            if not node.shutting_down:
                node.shutdown()
            return
        super()._send_tests(node, num)

    def abandon(self) -> list[str]:
        """Take back every test not yet given to a worker: none can run them any more."""
        if self.collection is None:
            return []
        abandoned = [self.collection[index] for index in self.pending]
        self.pending.clear()
        return abandoned
