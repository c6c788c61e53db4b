"""The plugin's per-session state, kept in ``config.stash`` (not on ``config`` attributes).

It holds the resolved settings, this process's device (under xdist: the one the controller
assigned to this worker) and the backend, loaded on first use only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    _backends: dict[str, Backend] = field(default_factory=dict, repr=False)

    @property
    def backend_names(self) -> tuple[str, ...]:
        """The bindings under test, in the order given (several: a parity run, parity.py)."""
        return tuple(self.settings["backend"].value)

    @property
    def backend_name(self) -> str:
        """The first binding: the one a single-backend run has, and a parity run's health
        probe and SoC come from."""
        return self.backend_names[0]

    @property
    def backend_label(self) -> str:
        """The bindings as the run's header names them: ``sim``, or ``sim,capi``."""
        return ",".join(self.backend_names)

    @property
    def parity(self) -> bool:
        return len(self.backend_names) > 1

    def backend(self, name: str | None = None) -> Backend:
        """A binding (default the first), imported on first use; a UsageError says why it
        cannot be used."""
        name = name or self.backend_name
        if name not in self._backends:
            try:
                self._backends[name] = load_backend(name)
            except BackendUnavailable as exc:
                source = self.settings["backend"].source
                raise pytest.UsageError(f"--acl-backend {self.backend_label} (from {source}): "
                                        f"{exc}") from None
        return self._backends[name]

    def backends(self) -> list[Backend]:
        """Every binding, loaded."""
        return [self.backend(name) for name in self.backend_names]

    def loaded(self, name: str | None = None) -> Backend | None:
        """A binding if it was loaded already (reporting must not load one)."""
        return self._backends.get(name or self.backend_name)

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
        return self.backend().cann_version, "the backend"


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
