"""The ``sim`` backend: the process-wide simulator, configured by ``PYTEST_ACL_SIM_*``.

Loading only checks that configuration; the simulator itself (numpy, the model rules) is made
when a test first uses the module, so xdist's controller — which only reports — never makes
one."""

from __future__ import annotations

from pytest_acl import __version__
from pytest_acl.backends import Backend, BackendUnavailable


def load() -> Backend:
    from pytest_acl.sim import SimConfigError, check_env, default_simulator
    from pytest_acl.sim.acl_top import ACL_INTERFACE_VERSION

    try:
        config = check_env()
    except SimConfigError as exc:
        raise BackendUnavailable(f"simulator configuration: {exc}") from None
    major, minor, patch = ACL_INTERFACE_VERSION
    return Backend(
        name="sim", open_module=lambda: default_simulator().acl,
        version=f"pytest-acl simulator {__version__} (ACL interface {major}.{minor}.{patch})",
        static_soc=config.soc_name, snapshot=lambda: default_simulator().live_counts(),
        devices=config.device_count, hbm_bytes=config.hbm_bytes, simulated=True,
        # The release the simulator follows (PYTEST_ACL_SIM_CANN, sim/releases.py).
        cann_version=config.cann)
