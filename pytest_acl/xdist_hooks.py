"""pytest-xdist integration, registered only when xdist is present and active.

The controller assigns each worker one device of ``--acl-devices``, round robin by worker
index, and sends it in ``workerinput`` (the pytest-randomly pattern); the controller itself
never initialises a backend. Collection never depends on the device, so every worker
collects the same tests (reference/pytest-conventions.md §2.1).
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_acl.state import get_state, worker_device


class XdistDevicePinning:
    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_configure_node(self, node: Any) -> None:
        """Controller: give the worker its device before it starts."""
        devices = get_state(self._config).settings["devices"].value
        worker_id = node.workerinput["workerid"]
        node.workerinput["acl_device"] = worker_device(devices, worker_id)
