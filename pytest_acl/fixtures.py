"""The runtime fixtures every suite stands on.

``acl`` (the backend module) → ``acl_runtime`` (init/finalize, session) → ``acl_device`` (this
worker's device, set once per session, made current for each test) → ``acl_context`` /
``acl_stream`` (created per test) and the ``device_memory`` / ``host_memory`` factories.
Nothing is imported or initialised until a test asks for one of these (the plugin imports
this module in every pytest run, so it imports only pytest at the top).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from pytest_acl.cleanup import CALL_FAILED, PINNING, RELEASE_PINNING

if TYPE_CHECKING:
    from pytest_acl.backends import Backend
    from pytest_acl.buffers import DeviceBuffer, HostBuffer
    from pytest_acl.hazards import HazardLog
    from pytest_acl.models.provider import ModelCatalog
    from pytest_acl.oracles import Expect
    from pytest_acl.state import PluginState


def get_state(config: pytest.Config) -> PluginState:
    from pytest_acl.state import get_state as state_of

    return state_of(config)


def describe(ret: int) -> str:
    from pytest_acl.constants import describe as text

    return text(ret)


def check(ret: int, what: str) -> None:
    from pytest_acl.buffers import check as checked

    checked(ret, what)


def _teardown_warning(request: pytest.FixtureRequest, what: str, ret: int) -> None:
    """A failed release at teardown is reported, not raised: it must not hide the results."""
    if ret != 0:
        request.node.warn(pytest.PytestWarning(f"pytest-acl teardown: {what} returned "
                                               f"{describe(ret)}"))


@pytest.fixture(scope="session")
def _acl_binding(request: pytest.FixtureRequest) -> str:
    """The binding a test runs through: the one backend, or — in a parity run
    (``--acl-backend sim,capi``) — the one it is parametrized with (parity.py)."""
    return getattr(request, "param", None) or get_state(request.config).backend_name


@pytest.fixture(scope="session")
def acl_backend(_acl_binding: str, pytestconfig: pytest.Config) -> Backend:
    """The backend in use (name, version, module); see ``--acl-backend``."""
    return get_state(pytestconfig).backend(_acl_binding)


@pytest.fixture(scope="session")
def acl(acl_backend: Backend) -> ModuleType:
    """The pyACL-shaped module of the backend: ``acl.rt.malloc(...)`` etc. Not initialised —
    request ``acl_runtime`` or ``acl_device`` for that."""
    return acl_backend.module


@pytest.fixture(scope="session")
def acl_runtime(acl: ModuleType, acl_backend: Backend,
                request: pytest.FixtureRequest) -> Iterator[Backend]:
    """``acl.init()`` for the session and the matching release at the end.

    If the process was already initialised (100002), the session takes one reference and
    gives it back with ``finalize_reference`` instead of finalizing someone else's runtime.
    """
    from pytest_acl.constants import AclError

    ret = acl.init()
    if ret not in (AclError.ACL_SUCCESS, AclError.ACL_ERROR_REPEAT_INITIALIZE):
        pytest.fail(f"acl.init() returned {describe(ret)}", pytrace=False)
    yield acl_backend
    if ret == AclError.ACL_ERROR_REPEAT_INITIALIZE:
        _teardown_warning(request, "acl.finalize_reference()", acl.finalize_reference()[-1])
    else:
        _teardown_warning(request, "acl.finalize()", acl.finalize())


@pytest.fixture(scope="session")
def _acl_device_session(acl_runtime: Backend, pytestconfig: pytest.Config,
                        request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    acl = acl_runtime.module
    state = get_state(pytestconfig)
    device = state.device_id
    ret = acl.rt.set_device(device)
    if ret != 0:
        source = state.settings["devices"].source
        count, count_ret = acl.rt.get_device_count()
        has = f"; the backend has {count} device{'s' if count != 1 else ''}" \
            if count_ret == 0 else ""
        pytest.fail(f"acl.rt.set_device({device}) returned {describe(ret)}; device {device} "
                    f"comes from --acl-devices (from {source}){has}", pytrace=False)
    context, ret = acl.rt.get_context()
    check(ret, "acl.rt.get_context() after set_device")
    yield device, context
    _teardown_warning(request, f"acl.rt.reset_device({device})", acl.rt.reset_device(device))


@pytest.fixture
def acl_device(_acl_device_session: tuple[int, int], acl: ModuleType) -> int:
    """This worker's device id, set for the session; its default context is made current
    for each test, so a test that changed the current context cannot break the next one."""
    device, default_context = _acl_device_session
    check(acl.rt.set_context(default_context), "acl.rt.set_context(default context)")
    return device


@pytest.fixture
def acl_context(acl_device: int, acl: ModuleType,
                request: pytest.FixtureRequest) -> Iterator[int]:
    """A context created on this worker's device for the test, current while it runs."""
    context, ret = acl.rt.create_context(acl_device)
    check(ret, f"acl.rt.create_context({acl_device})")
    yield context
    _teardown_warning(request, "acl.rt.destroy_context", acl.rt.destroy_context(context))
    _, default_context = request.getfixturevalue("_acl_device_session")
    acl.rt.set_context(default_context)


@pytest.fixture
def acl_stream(acl_device: int, acl: ModuleType, request: pytest.FixtureRequest) -> Iterator[int]:
    """A stream in the context current at setup, synchronised and destroyed at teardown."""
    stream, ret = acl.rt.create_stream()
    check(ret, "acl.rt.create_stream()")
    yield stream
    _teardown_warning(request, "acl.rt.synchronize_stream", acl.rt.synchronize_stream(stream))
    _teardown_warning(request, "acl.rt.destroy_stream", acl.rt.destroy_stream(stream))


@pytest.fixture
def device_memory(acl_device: int, acl: ModuleType,
                  request: pytest.FixtureRequest) -> Iterator[Callable[..., DeviceBuffer]]:
    """Factory: ``device_memory(size, policy=0) -> DeviceBuffer`` (``.ptr``, ``.size``,
    ``.write()``, ``.read()``). Each buffer has canaries before and after it; at teardown a
    damaged canary fails the test, then the memory is freed."""
    from pytest_acl.buffers import GUARD_BYTES, DeviceBuffer
    from pytest_acl.constants import MemMallocPolicy

    buffers: list[DeviceBuffer] = []

    def allocate(size: int,
                 policy: int = MemMallocPolicy.ACL_MEM_MALLOC_HUGE_FIRST) -> DeviceBuffer:
        if size <= 0:
            raise ValueError(f"device_memory: size must be > 0, got {size}")
        base, ret = acl.rt.malloc(size + 2 * GUARD_BYTES, policy)
        check(ret, f"acl.rt.malloc({size + 2 * GUARD_BYTES}, {policy})")
        buffer = DeviceBuffer(acl, base + GUARD_BYTES, size, base)
        buffers.append(buffer)
        buffer.arm_guards()
        return buffer

    yield allocate
    problems = [line for buffer in buffers for line in buffer.damaged_guards()]
    for buffer in buffers:
        ret = acl.rt.free(buffer.base)
        if ret != 0:
            problems.append(f"acl.rt.free({buffer.base:#x}) returned {describe(ret)}")
    if problems and CALL_FAILED in request.node.stash:  # not when interrupted: no verdict
        pytest.fail("device_memory: " + "\n".join(problems), pytrace=False)


@pytest.fixture
def host_memory(acl_device: int, acl: ModuleType,
                request: pytest.FixtureRequest) -> Iterator[Callable[[int], HostBuffer]]:
    """Factory: ``host_memory(size) -> HostBuffer`` from ``acl.rt.malloc_host``, freed at
    teardown."""
    from pytest_acl.buffers import HostBuffer

    buffers: list[HostBuffer] = []

    def allocate(size: int) -> HostBuffer:
        ptr, ret = acl.rt.malloc_host(size)
        check(ret, f"acl.rt.malloc_host({size})")
        buffers.append(HostBuffer(acl, ptr, size))
        return buffers[-1]

    yield allocate
    for buffer in buffers:
        _teardown_warning(request, f"acl.rt.free_host({buffer.ptr:#x})",
                          acl.rt.free_host(buffer.ptr))


@pytest.fixture(scope="session")
def acl_level(pytestconfig: pytest.Config) -> str:
    """``"quick"`` (default; not valid for qualification) or ``"full"`` (--acl-level)."""
    return get_state(pytestconfig).settings["level"].value


@pytest.fixture
def acl_expect(request: pytest.FixtureRequest) -> Expect:
    """Checks by clause level: ``acl_expect.code(seen, expected, "clause.id")`` fails for a
    ``must`` clause and records drift for an ``observed`` one (suites/clauses.toml)."""
    from pytest_acl.clauses import load_clauses

    for directory in (request.path.parent, *request.path.parents):
        catalog = directory / "clauses.toml"
        if catalog.is_file():
            from pytest_acl.oracles import Expect

            return Expect(request.node, load_clauses(catalog))
        if directory == request.config.rootpath:
            break
    raise pytest.UsageError(f"acl_expect: no clauses.toml above {request.path}")


@pytest.fixture
def acl_hazards(acl: ModuleType) -> HazardLog:
    """Hazards the simulator's sanitizer reports during the test: ``acl_hazards.new()``
    (empty, with ``supported`` False, on backends without a sanitizer)."""
    from pytest_acl.hazards import HazardLog

    return HazardLog.attach(acl)


@pytest.fixture(scope="session")
def acl_models(pytestconfig: pytest.Config, acl_backend: Backend,
               tmp_path_factory: pytest.TempPathFactory) -> ModelCatalog:
    """The fixture-model catalog for the active backend: from ``--acl-model-dir``, or (on the
    simulator) built on demand into the pytest cache. ``acl_models["mlp"].path``, ``.inputs()``,
    ``.outputs()``, ``.work_size``, ``.weight_size``."""
    from pytest_acl.models.provider import cache_directory, session_catalog

    setting = get_state(pytestconfig).settings["model-dir"]
    return session_catalog(setting.value, acl_backend.name, setting.source,
                           cache_directory(pytestconfig, tmp_path_factory),
                           simulated=acl_backend.simulated)


@pytest.fixture
def _acl_call_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """Record the test's non-zero aclErrors and load/execute/unload times for its result
    (every test of an awake session has it, as if autouse)."""
    from pytest_acl.parity import binding_of

    backend = get_state(request.config).loaded(binding_of(request.node))
    if backend is None:
        yield
        return
    from pytest_acl.results.calls import start_log

    stop = start_log(backend.module)
    log = getattr(backend.module, "log", None)
    if log is not None:
        request.node.stash[RELEASE_PINNING] = lambda: log.ledger.release(backend.module, PINNING)
    yield
    if RELEASE_PINNING in request.node.stash:
        del request.node.stash[RELEASE_PINNING]
    log = stop()
    if log is not None and request.node.stash.get(CALL_FAILED, True):
        # released before the leak check (_acl_markers tears down after this fixture): the
        # failure is reported once, and the next test starts clean. A call that never ended
        # (setup failed, or the run was interrupted) counts as failed.
        released = log.ledger.release(backend.module)
        if released:
            request.node.user_properties.append(("acl.released_after_failure", released))
    if log is not None:
        if log.codes:
            request.node.user_properties.append(("acl.codes", log.codes))
        if log.timings:
            request.node.user_properties.append(("acl.timings", log.timings))


@pytest.fixture
def _acl_markers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Apply ``acl_requires``, ``acl_soc`` and ``acl_leak_check`` to the running test (every
    test of an awake session has it, as if autouse)."""
    from pytest_acl import leakcheck, markers

    node = request.node
    apis = markers.required_apis(node)
    socs = markers.soc_patterns(node)
    leak_check = node.get_closest_marker("acl_leak_check") is not None
    if not (apis or socs or leak_check):
        yield
        return
    from pytest_acl.parity import binding_of

    backend = get_state(request.config).backend(binding_of(node))
    if missing := markers.missing_apis(backend.module, apis):
        from pytest_acl.results.records import NOT_EXPOSED

        pytest.skip(f"{NOT_EXPOSED} ({backend.name}): {', '.join(missing)}")
    if socs:
        request.getfixturevalue("acl_runtime")
        soc = backend.soc_name()
        if not markers.soc_matches(soc, socs):
            pytest.skip(f"SoC {soc} does not match acl_soc({', '.join(map(repr, socs))})")
    if not leak_check:
        yield
        return
    request.getfixturevalue("acl_device")
    before = backend.resources()
    yield
    if CALL_FAILED not in node.stash:
        return  # the call never ended (interrupted): no verdict, and its leftovers are released
    report = leakcheck.leak_report(node.nodeid, before, backend.resources())
    if report:
        pytest.fail(report, pytrace=False)
