"""The ``sim`` backend: the process-wide simulator, configured by ``PYTEST_ACL_SIM_*``."""

from __future__ import annotations

from pytest_acl import __version__
from pytest_acl.backends import Backend, BackendUnavailable


def load() -> Backend:
    from pytest_acl.sim import SimConfigError, default_simulator

    try:
        simulator = default_simulator()
    except SimConfigError as exc:
        raise BackendUnavailable(f"simulator configuration: {exc}") from None
    major, minor, patch, _ = simulator.acl.get_version()
    config = simulator.config
    return Backend(
        name="sim", module=simulator.acl,
        version=f"pytest-acl simulator {__version__} (ACL interface {major}.{minor}.{patch})",
        static_soc=config.soc_name, snapshot=simulator.live_counts,
        extra={"devices": config.device_count, "hbm_bytes": config.hbm_bytes,
               # The simulator implements the CANN 9.0 API surface (bundle family included).
               "cann_version": "9.0.0"})
