"""The pytest11 entry point ``acl``: hooks only; the work is in the modules they call.

Importing this module imports no backend and initialises nothing (DESIGN.md, "Constraints").
A session that does not want the plugin leaves it dormant (activation.py): every hook here
returns at once, and no other part of the plugin is registered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_acl import activation, markers, options
from pytest_acl.cleanup import CALL_FAILED, RELEASE_PINNING
from pytest_acl.fixtures import (  # noqa: F401  (fixtures are registered by being here)
    _acl_binding,
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


def get_state(config: pytest.Config) -> PluginState:
    from pytest_acl.state import get_state as state_of

    return state_of(config)

if TYPE_CHECKING:
    from collections.abc import Generator

    from pytest_acl.state import PluginState

# Run for every test of an awake session, as autouse fixtures would (added at collection, so
# a dormant session pays nothing for them).
SESSION_FIXTURES = ("_acl_markers", "_acl_call_log")


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, object, object]:
    """Before xdist reads ``-n``: an isolated session without workers gets one."""
    from pytest_acl.isolation.isolate import apply

    if activation.asked(config):
        config.stash[activation.ISOLATION_KEY] = apply(config)
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    if getattr(config.option, "help", False):
        return  # --help must work even while a PYTEST_ACL_* value is bad: it says how to fix it
    if activation.asked(config):
        activation.activate(config)
        return
    config.pluginmanager.register(activation.Waker(), "acl-waker")
    workerinput = getattr(config, "workerinput", None)
    from pytest_acl.isolation.isolate import distributed

    if workerinput is None and distributed(config) and not config.option.collectonly:
        from pytest_acl.isolation.controller import IsolationController

        config.pluginmanager.register(IsolationController(config), "acl-isolation")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Load (import, not initialise) the backend now, so an unusable one is a clear usage
    error before any test runs rather than an error in every test."""
    if activation.is_active(session.config):
        get_state(session.config).backend()


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A parity run (``--acl-backend sim,capi``) runs each ACL test through every binding;
    last, so the binding ends the test's id (parity.py)."""
    from pytest_acl.parity import BINDING_FIXTURE, parametrize

    if BINDING_FIXTURE not in metafunc.fixturenames:
        return
    # A session that wakes only when it collects this test is not awake yet: its backend
    # setting (say PYTEST_ACL_BACKEND=sim,capi) is read alone, so the bindings are not lost.
    if activation.is_active(metafunc.config):
        names = get_state(metafunc.config).backend_names
    else:
        try:
            names = options.backend_names(metafunc.config)
        except pytest.UsageError:  # the session's wake says so, as a usage error
            return
    parametrize(metafunc, names)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not activation.is_active(config):
        return
    from pytest_acl.isolation.timeouts import apply_limit
    from pytest_acl.results.properties import add_collection_properties

    for item in items:
        markers.validate(item)
        add_collection_properties(item)
        _add_session_fixtures(item)
    apply_limit(items, get_state(config).limit)


def _add_session_fixtures(item: pytest.Item) -> None:
    """Where autouse fixtures would be: after the other autouse fixtures (a conftest's may
    change the backend first), before the test's own arguments."""
    names = getattr(item, "fixturenames", None)
    if names is None:
        return
    own = getattr(getattr(item, "_fixtureinfo", None), "argnames", ())
    at = min((names.index(name) for name in own if name in names), default=len(names))
    names[at:at] = [name for name in SESSION_FIXTURES if name not in names]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """A test that raised (failed, or was interrupted) has the models and bundles it left
    loaded unloaded at once — before its fixtures' teardown frees memory they may use."""
    try:
        return (yield)
    except BaseException:
        release = item.stash.get(RELEASE_PINNING, None)
        if release is not None:
            released = release()
            if released:
                item.user_properties.append(("acl.released_after_failure", released))
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call" and activation.is_active(item.config):
        item.stash[CALL_FAILED] = report.failed  # the cleanup then releases what it held
    return report


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object,
                              right: object) -> list[str] | None:
    """``assert ret == 0`` names the aclError it got — ``145003 (ACL_ERROR_GE_EXEC_MODEL_ID_
    INVALID) == 0 (ACL_SUCCESS)`` — when both sides are aclError codes, not both 0."""
    if op not in ("==", "!=") or not activation.is_active(config):
        return None
    if not (isinstance(left, int) and isinstance(right, int)) or not (left or right):
        return None
    from pytest_acl.constants import describe, is_error_code

    if not (is_error_code(left) and is_error_code(right)):
        return None
    return [f"{describe(int(left))} {op} {describe(int(right))}"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not activation.is_active(item.config):
        return
    from pytest_acl.results.properties import add_run_properties

    state = get_state(item.config)
    add_run_properties(item, state.device_id, state.worker_id)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not activation.is_active(config):
        return []
    from pytest_acl.header import header_lines

    return header_lines(config)
