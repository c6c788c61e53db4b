"""The ``acl:`` lines of the report header: the backend, devices, level, CANN version,
models, isolation, time limit, shard and resume — each setting with where it came from."""

from __future__ import annotations

import pytest

from pytest_acl.state import get_state


def header_lines(config: pytest.Config) -> list[str]:
    """What the session is about to test, and how: every setting with its source."""
    state = get_state(config)
    backend = state.backend()
    backend_setting = state.settings["backend"]
    devices_setting = state.settings["devices"]
    devices = ",".join(map(str, devices_setting.value))
    if state.parity:  # every test runs through each binding (parity.py)
        lines = [f"acl: bindings {state.backend_label} (from {backend_setting.source}): every "
                 "test runs through each, on the same device; a test that passes through "
                 "one and fails through another is a binding defect"]
        lines += [f"acl:   {other.name}: {other.version}" for other in state.backends()]
    else:
        lines = [f"acl: backend {backend.name} (from {backend_setting.source}): "
                 f"{backend.version}"]
    lines.append(f"acl: devices {devices} (from {devices_setting.source}); "
                 f"SoC {backend.static_soc or 'reported by the runtime after init'}")
    level = state.settings["level"]
    lines.append(f"acl: level {level.value} (from {level.source})"
                 + (" — not valid for qualification" if level.value == "quick" else "")
                 + (", strict codes" if state.settings["strict-codes"].value else ""))
    cann, cann_source = state.cann_version()
    lines.append(f"acl: CANN {cann} (from {cann_source})" if cann else
                 "acl: CANN version unknown (no ascend_toolkit_install.info found; "
                 "give --acl-cann-version)")
    model_dir = state.settings["model-dir"]
    lines.append(f"acl: models from {model_dir.value} (from {model_dir.source})"
                 if model_dir.value else "acl: models built on demand into the pytest cache")
    if backend.name == "sim" and backend.hbm_bytes is not None:
        hbm = backend.hbm_bytes / 2**30
        lines.append(f"acl: simulator has {backend.devices} devices with "
                     f"{hbm:g} GiB HBM each (PYTEST_ACL_SIM_DEVICES, PYTEST_ACL_SIM_SOC, "
                     "PYTEST_ACL_SIM_HBM)")
    if config.pluginmanager.has_plugin("acl-isolation"):
        lines.append(f"acl: each xdist worker is pinned to one of the devices {devices}, "
                     "round robin by worker index (gw0 → the first); a crashed worker's "
                     "device is probed before its replacement uses it")
    if state.isolation:
        lines.append(f"acl: {state.isolation}")
    limit, source = state.limit.seconds, state.limit.source
    lines.append(f"acl: per-test limit {limit:g} s (from {source}), enforced by the "
                 "faulthandler watchdog whatever pytest-timeout's method says" if limit else
                 "acl: no per-test time limit (" + (source if "not active" in source
                                                     else f"turned off, from {source}") + ")")
    shard = state.settings["shard"].value
    if shard:
        lines.append(f"acl: shard {shard[0]}/{shard[1]} (from {state.settings['shard'].source})"
                     + ("; balanced by the durations of "
                        f"{state.settings['shard-durations'].value}"
                        if state.settings["shard-durations"].value else "; balanced by count"))
    resume = state.settings["resume"].value
    if resume:
        lines.append(f"acl: resuming the run in {resume}")
    return lines
