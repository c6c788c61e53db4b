"""The pytest11 entry point ``acl``: hooks only; the work is in the modules they call.

Importing this module imports no backend and initialises nothing (DESIGN.md, "Constraints");
the backend is loaded at session start, outside any test, and initialised by fixtures only.
"""

from __future__ import annotations

import pytest

from pytest_acl import markers, options
from pytest_acl.fixtures import (  # noqa: F401  (fixtures are registered by being here)
    _acl_call_log,
    _acl_device_session,
    _acl_markers,
    acl,
    acl_backend,
    acl_context,
    acl_device,
    acl_expect,
    acl_hazards,
    acl_level,
    acl_models,
    acl_runtime,
    acl_stream,
    device_memory,
    host_memory,
)
from pytest_acl.state import STATE_KEY, PluginState, get_state, worker_device


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


ISOLATION_KEY = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config):  # type: ignore[no-untyped-def]
    """Before xdist reads ``-n``: an isolated session without workers gets one."""
    from pytest_acl.isolation.isolate import apply

    config.stash[ISOLATION_KEY] = apply(config)
    return (yield)


@pytest.hookimpl(tryfirst=True)  # before pytest-timeout reads its limit
def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    if getattr(config.option, "help", False):
        return  # --help must work even while a PYTEST_ACL_* value is bad: it says how to fix it
    settings = options.resolve(config)
    workerinput = getattr(config, "workerinput", None)
    worker_id = workerinput["workerid"] if workerinput else None
    device = worker_device(settings["devices"].value, worker_id,
                           workerinput.get("acl_device") if workerinput else None)
    state = config.stash[STATE_KEY] = PluginState(settings, device, worker_id)
    state.isolation = config.stash.get(ISOLATION_KEY, "")
    from pytest_acl.drift import DriftReporting
    from pytest_acl.roles import register

    config.pluginmanager.register(DriftReporting(settings["strict-codes"].value), "acl-drift")
    register(config, state)
    if settings["expectations"].value is not None:
        from pytest_acl.results.expectations import ExpectationsPlugin, load

        entries = load(settings["expectations"].value)
        backend = get_state(config).backend()
        config.pluginmanager.register(ExpectationsPlugin(
            entries, settings["strict-expectations"].value, backend.static_soc,
            get_state(config).cann_version()[0]), "acl-expectations")
    allure_dir = getattr(config.option, "allure_report_dir", None)
    if allure_dir and config.pluginmanager.hasplugin("allure_pytest"):
        from pytest_acl.results.allure_glue import AllureIntegration

        config.pluginmanager.register(AllureIntegration(config, allure_dir), "acl-allure")
    if config.pluginmanager.hasplugin("hypothesispytest"):
        from pytest_acl.profiles import register_profiles

        register_profiles(settings["level"].value, config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Load (import, not initialise) the backend now, so an unusable one is a clear usage
    error before any test runs rather than an error in every test."""
    get_state(session.config).backend()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from pytest_acl.results.properties import add_collection_properties

    for item in items:
        markers.validate(item)
        add_collection_properties(item)


def pytest_runtest_setup(item: pytest.Item) -> None:
    from pytest_acl.results.properties import add_run_properties

    state = get_state(item.config)
    add_run_properties(item, state.device_id, state.worker_id)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = get_state(config)
    backend = state.backend()
    backend_setting = state.settings["backend"]
    devices_setting = state.settings["devices"]
    devices = ",".join(map(str, devices_setting.value))
    lines = [f"acl: backend {backend.name} (from {backend_setting.source}): {backend.version}",
             f"acl: devices {devices} (from {devices_setting.source}); "
             f"SoC {backend.static_soc or 'reported by the runtime after init'}"]
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
    if backend.name == "sim":
        hbm = backend.extra["hbm_bytes"] / 2**30
        lines.append(f"acl: simulator has {backend.extra['devices']} devices with "
                     f"{hbm:g} GiB HBM each (PYTEST_ACL_SIM_DEVICES, PYTEST_ACL_SIM_SOC, "
                     "PYTEST_ACL_SIM_HBM)")
    if config.pluginmanager.has_plugin("acl-isolation"):
        lines.append(f"acl: each xdist worker is pinned to one of the devices {devices}, "
                     "round robin by worker index (gw0 → the first); a crashed worker's "
                     "device is probed before its replacement uses it")
    if state.isolation:
        lines.append(f"acl: {state.isolation}")
    limit, source = state.limit
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
