"""The built-in AscendCL simulator: ``from pytest_acl.sim import acl``.

``acl`` is the process-wide simulator configured by ``PYTEST_ACL_SIM_*`` (see config.py),
created on first use — importing this package creates nothing. ``Simulator(...)`` makes an
independent one (own devices, memory and ids) for tests that must not share state.
``machine_dir`` (``PYTEST_ACL_SIM_MACHINE_DIR``) is where state that outlives a process lives,
shared by the simulators of one machine: devices lost in a crash (see faults.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

from pytest_acl.sim.config import SimConfig, SimConfigError, parse_size

__all__ = ["Simulator", "SimConfig", "SimConfigError", "acl", "check_env", "default_simulator"]


class Simulator:
    """One simulated machine and its pyACL-shaped ``acl`` module."""

    def __init__(self, devices: int | None = None, soc: str | None = None,
                 hbm: int | str | None = None, *, cann: str | None = None,
                 config: SimConfig | None = None,
                 sanitizer: str = "warn", defects: Iterable[str] = (),
                 machine_dir: str | os.PathLike[str] | None = None) -> None:
        from pytest_acl.sim.bundles import BundleManager
        from pytest_acl.sim.defects import Defects
        from pytest_acl.sim.faults import Machine
        from pytest_acl.sim.models import ModelManager
        from pytest_acl.sim.module import build_acl_module
        from pytest_acl.sim.runtime import Runtime
        from pytest_acl.sim.sanitizer import Sanitizer

        base = config or SimConfig()
        self.config = SimConfig(
            device_count=base.device_count if devices is None else devices,
            soc_name=base.soc_name if soc is None else soc,
            hbm_bytes=base.hbm_bytes if hbm is None else
            (parse_size(hbm) if isinstance(hbm, str) else hbm),
            cann=base.cann if cann is None else cann)
        self.runtime = Runtime(self.config)
        self.sanitizer = self.runtime.sanitizer = Sanitizer(sanitizer)
        self.defects = self.runtime.defects = Defects(defects)
        self.machine = self.runtime.machine = Machine(machine_dir)
        self.models = ModelManager(self.runtime)
        self.bundles = BundleManager(self.runtime, self.models)
        self.runtime.release_hooks += [self.bundles.release_all, self.models.release_all]
        self.runtime.counters["models"] = lambda: len(self.models.live())
        self.runtime.counters["bundles"] = lambda: len(self.bundles.live())
        self.runtime.free_hooks.append(
            lambda start, end: self.sanitizer.freed(start, end, self.models.users_of(start, end)))
        self.acl = build_acl_module(self)

    @classmethod
    def from_env(cls) -> Simulator:
        """A simulator configured by the ``PYTEST_ACL_SIM_*`` environment variables."""
        from pytest_acl.sim.defects import Defects
        from pytest_acl.sim.faults import Machine
        from pytest_acl.sim.sanitizer import Sanitizer

        return cls(config=SimConfig.from_env(), sanitizer=Sanitizer.from_env().mode,
                   defects=Defects.from_env(), machine_dir=Machine.from_env().directory)

    def live_counts(self) -> dict[str, int]:
        """Live resources by kind (device bytes in use, contexts, streams, …)."""
        return self.runtime.live_counts()

    def __repr__(self) -> str:
        c = self.config
        return f"Simulator(devices={c.device_count}, soc={c.soc_name!r}, hbm={c.hbm_bytes})"


def check_env() -> SimConfig:
    """The ``PYTEST_ACL_SIM_*`` settings, each checked as ``Simulator.from_env`` would, without
    making a simulator (no numpy, no model rules: cheap for a process that only reports)."""
    from pytest_acl.sim.defects import Defects
    from pytest_acl.sim.faults import Machine
    from pytest_acl.sim.sanitizer import Sanitizer

    Sanitizer.from_env()
    Defects.from_env()
    Machine.from_env()
    return SimConfig.from_env()


_default: Simulator | None = None
_default_lock = threading.Lock()


def default_simulator() -> Simulator:
    """The process-wide simulator behind ``pytest_acl.sim.acl`` (created from the env)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Simulator.from_env()
        return _default


def __getattr__(name: str) -> Any:
    if name == "acl":
        return default_simulator().acl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
