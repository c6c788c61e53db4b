"""The plugin's per-session state, kept in ``config.stash`` (not on ``config`` attributes).

It holds the resolved settings, this process's device (under xdist: the one the controller
assigned to this worker) and the backend, loaded on first use only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import cast

import pytest

from pytest_acl.backends import Backend, BackendUnavailable, load_backend
from pytest_acl.isolation.timeouts import Limit
from pytest_acl.options import Resolved


@dataclass
class PluginState:
    settings: dict[str, Resolved]
    device_id: int
    worker_id: str | None = None
    limit: Limit = field(default_factory=lambda: Limit(0.0, "not set", False))
    isolation: str = ""  # what the header says about crash isolation
    suite_prefix: str | None = None  # how this session's node ids of the suite begin
    _backend: Backend | None = field(default=None, repr=False)

    @property
    def backend_name(self) -> str:
        return self.settings["backend"].value

    def backend(self) -> Backend:
        """The backend, imported on first use; a UsageError says why it cannot be used."""
        if self._backend is None:
            try:
                backend = load_backend(self.backend_name)
            except BackendUnavailable as exc:
                source = self.settings["backend"].source
                raise pytest.UsageError(f"--acl-backend {self.backend_name} (from {source}): "
                                        f"{exc}") from None
            backend.open_module = _recording(backend.open_module)
            self._backend = backend
        return self._backend

    def canonical(self, nodeid: str) -> str:
        """The suite-relative id of one of this session's node ids (``suites/...``), the same
        in a checkout, from a wheel and from any directory; other tests keep theirs."""
        from pytest_acl.results.records import base_nodeid
        from pytest_acl.suite import canonical

        return canonical(base_nodeid(nodeid), self.suite_prefix)

    def cann_version(self) -> tuple[str | None, str]:
        """(version, where it came from): the option if given, else the backend's finding."""
        setting = self.settings["cann-version"]
        if setting.value is not None:
            return setting.value, setting.source
        found = self.backend().extra.get("cann_version")
        return found, "the backend"


STATE_KEY = pytest.StashKey[PluginState]()


def worker_device(devices: tuple[int, ...], worker_id: str | None,
                  assigned: int | None = None) -> int:
    """The device this process uses: the controller's assignment, else round robin by the
    worker's index (``gw3`` → ``devices[3 % len(devices)]``), else the first device."""
    if assigned is not None:
        return assigned
    if worker_id and worker_id.startswith("gw") and worker_id[2:].isdigit():
        return devices[int(worker_id[2:]) % len(devices)]
    return devices[0]


def get_state(config: pytest.Config) -> PluginState:
    return config.stash[STATE_KEY]


def _recording(open_module: Callable[[], ModuleType]) -> Callable[[], ModuleType]:
    """The backend's module wrapped to note codes and timings per test, made when first used."""

    def open_recording() -> ModuleType:
        from pytest_acl.results.calls import RecordingAcl

        return cast(ModuleType, RecordingAcl(open_module()))

    return open_recording
