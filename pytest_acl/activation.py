"""When the plugin wakes up: only in sessions that want it.

Installed, the plugin sees every pytest run in the environment. It stays dormant — no
backend imported, no header, no report directory, no per-test work — unless the session
asks for it (an ``--acl-*`` option on the command line, an ``acl_*`` ini setting, or the
conformance suite's conftest, which declares ``pytest_acl_suite``), or it collects a test
that uses an ACL fixture or marker. The first three are known at configuration; the last
only after collection, so such a session wakes at collection (``Waker``) and starts what
would have started at session start by hand. ``PYTEST_ACL_*`` environment variables
configure a session that wakes but do not wake one: a shell may export them for every
project.

Under pytest-xdist the controller does not collect: it learns that its workers woke from
their flight recorders, which appear in the run directory it planned for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_acl import markers, options

if TYPE_CHECKING:
    from pytest_acl.state import PluginState

ISOLATION_KEY = pytest.StashKey[str]()
# The fixtures a test uses to talk to a backend (see fixtures.py).
ACL_FIXTURES = frozenset({"acl", "acl_backend", "acl_runtime", "acl_device", "acl_context",
                          "acl_stream", "device_memory", "host_memory", "acl_models",
                          "acl_hazards", "acl_expect", "acl_level"})


def asked(config: pytest.Config) -> str | None:
    """Why this session wants the plugin from the start, or None."""
    for spec in options.OPTIONS:
        if config.getoption(spec.dest, None) is not None:
            return f"{spec.flag} on the command line"
    for spec in options.OPTIONS:
        try:
            if config.getini(spec.ini):
                return f"ini {spec.ini}"
        except (TypeError, ValueError):
            return f"ini {spec.ini}"
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "pytest_acl_suite", False) is True:
            return "the conformance suite"
    return None


def uses_acl(item: pytest.Item) -> bool:
    """The test uses one of this plugin's fixtures (not a project's own of the same name) or
    one of its markers."""
    names = ACL_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    for name in names:
        found = definitions.get(name)
        if not found or getattr(found[-1].func, "__module__", None) == "pytest_acl.fixtures":
            return True
    return any(mark.name in markers.MARKERS for mark in item.iter_markers())


ACTIVE = pytest.StashKey[bool]()


def is_active(config: pytest.Config) -> bool:
    return config.stash.get(ACTIVE, False)


def activate(config: pytest.Config) -> tuple[PluginState, list[Any]]:
    """Resolve the settings (a UsageError for a bad one) and register the session's
    sub-plugins; return the state and the sub-plugins that start at session start."""
    from pytest_acl.drift import DriftReporting
    from pytest_acl.roles import register
    from pytest_acl.state import STATE_KEY, PluginState, worker_device
    from pytest_acl.suite import node_prefix

    settings = options.resolve(config)
    if "capi" in settings["backend"].value:  # its load() takes no arguments: the library
        from pytest_acl.backends.capi import configure

        configure(settings["capi-lib"].value, settings["capi-lib"].source)
    workerinput = getattr(config, "workerinput", None)
    worker_id = workerinput["workerid"] if workerinput else None
    device = worker_device(settings["devices"].value, worker_id,
                           workerinput.get("acl_device") if workerinput else None)
    state = config.stash[STATE_KEY] = PluginState(settings, device, worker_id)
    from pytest_acl.isolation.isolate import describe

    state.isolation = config.stash.get(ISOLATION_KEY, None) or describe(config)
    state.suite_prefix = node_prefix(config)
    config.stash[ACTIVE] = True
    config.pluginmanager.register(DriftReporting(settings["strict-codes"].value), "acl-drift")
    starting = register(config, state)
    if settings["expectations"].value is not None:
        from pytest_acl.results.expectations import ExpectationsPlugin, load

        entries = load(settings["expectations"].value)
        config.pluginmanager.register(ExpectationsPlugin(
            entries, settings["strict-expectations"].value, state.backend().static_soc,
            state.cann_version()[0]), "acl-expectations")
    allure_dir = getattr(config.option, "allure_report_dir", None)
    if allure_dir and config.pluginmanager.hasplugin("allure_pytest"):
        from pytest_acl.results.allure_glue import AllureIntegration

        config.pluginmanager.register(AllureIntegration(config, allure_dir), "acl-allure")
    from pytest_acl.isolation.isolate import distributed

    runs_tests = workerinput is not None or not distributed(config)
    if runs_tests and config.pluginmanager.hasplugin("hypothesispytest"):
        from pytest_acl.profiles import register_profiles

        register_profiles(settings["level"].value, config)
    return state, starting


def wake_late(session: pytest.Session, why: str,
              items: list[pytest.Item] | None = None) -> PluginState:
    """Wake a session after it started: start by hand what starts at session start, let the
    new sub-plugins see the collection (``items``) they missed, and print the header lines
    the session would have printed."""
    from pytest_acl.header import header_lines

    config = session.config
    before = set(config.pluginmanager.get_plugins())
    state, starting = activate(config)
    state.backend()  # an unusable backend is a usage error before any test runs
    for plugin in starting:
        plugin.pytest_sessionstart(session)
    if items is not None:
        others = [p for p in config.pluginmanager.get_plugins() if p in before]
        config.pluginmanager.subset_hook_caller("pytest_collection_modifyitems", others)(
            session=session, config=config, items=items)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not getattr(config, "workerinput", None):
        reporter.write_line("")
        for line in [f"acl: woke up: {why}", *header_lines(config)]:
            reporter.write_line(line)
    return state


class Waker:
    """A dormant session's one hook: wake when the collection holds an ACL test."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if is_active(config):
            return
        found = next((item for item in items if uses_acl(item)), None)
        if found is not None:
            wake_late(session, f"{found.nodeid} uses an ACL fixture or marker", items)
