"""The runtime fixtures, the device_memory canaries and the acl_leak_check marker, run in
inner sessions on the simulator (in process: the sim backend's process-wide simulator is
finalized, which resets it, at the end of every inner session)."""

from __future__ import annotations

import pytest

from pytest_acl.sim import default_simulator

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")


@pytest.fixture(autouse=True)
def _simulator_left_clean():
    """Each inner session must give the process-wide simulator back finalized and empty."""
    yield
    runtime = default_simulator().runtime
    assert runtime.init_count == 0
    live = {k: v for k, v in default_simulator().live_counts().items() if v}
    assert live == {}


# -- acl, acl_backend, acl_runtime ------------------------------------------------------------

def test_acl_is_the_backend_module_and_not_initialised(pytester):
    pytester.makepyfile("""
        def test_module(acl, acl_backend):
            assert acl is acl_backend.module
            assert acl_backend.name == "sim"
            assert acl_backend.version.startswith("pytest-acl simulator")
            assert callable(acl.rt.malloc) and callable(acl.mdl.create_dataset)
            assert acl.__simulator__.runtime.init_count == 0
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)


def test_acl_runtime_initialises_once_per_session_and_finalizes(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", range(3))
        def test_initialised(acl, acl_runtime, n):
            assert acl_runtime.name == "sim"
            assert acl.__simulator__.runtime.init_count == 1
            assert acl.get_soc_name() == "Ascend910B1"  # None before acl.init
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
    runtime = default_simulator().runtime
    assert (runtime.init_count, runtime.finalized) == (0, True)


def test_acl_runtime_takes_a_reference_when_already_initialised(pytester, tmp_path):
    """Someone else's acl.init: the session uses finalize_reference, not finalize."""
    record = tmp_path / "after.txt"
    pytester.makeconftest(f"""
        from pytest_acl.sim import default_simulator

        def pytest_sessionstart(session):
            assert default_simulator().acl.init() == 0

        def pytest_sessionfinish(session):
            runtime = default_simulator().runtime
            with open({str(record)!r}, "w") as f:
                f.write(f"{{runtime.init_count}} {{runtime.finalized}}")
            default_simulator().acl.finalize()
    """)
    pytester.makepyfile("""
        def test_uses_runtime(acl, acl_device):
            assert acl.__simulator__.runtime.init_count == 2
    """)
    result = pytester.runpytest(*INNER, "-W", "error::pytest.PytestWarning")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    assert record.read_text() == "1 False"  # the conftest's own initialisation survived


def test_acl_runtime_fails_every_test_when_init_fails(pytester):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def acl(acl_backend):
            module = acl_backend.module
            saved = module.init
            module.init = lambda *args: 100003  # ACL_ERROR_INVALID_FILE
            yield module
            module.init = saved
    """)
    pytester.makepyfile("""
        def test_a(acl_runtime):
            pass

        def test_b(acl_device):
            pass

        def test_c(acl):
            pass
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*acl.init() returned 100003 (ACL_ERROR_INVALID_FILE)*"])


def test_guarded_teardown_warns_instead_of_raising(pytester):
    """A test that finalizes the runtime itself: the session's reset_device and finalize
    fail, and are reported as warnings that do not hide the results."""
    pytester.makepyfile("""
        def test_finalizes_behind_the_fixtures_back(acl, acl_device):
            assert acl.finalize() == 0
    """)
    result = pytester.runpytest(*INNER, "-W", "default::pytest.PytestWarning")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, warnings=2)
    result.stdout.fnmatch_lines([
        "*PytestWarning: pytest-acl teardown: acl.rt.reset_device(1) returned *",
        "*PytestWarning: pytest-acl teardown: acl.finalize() returned 100037 "
        "(ACL_ERROR_REPEAT_FINALIZE)",
    ])


# -- acl_device, acl_context, acl_stream ------------------------------------------------------

DEVICE_TESTS = """
import pytest

seen = {}

def test_device_is_set(acl, acl_device):
    assert acl.rt.get_device() == (acl_device, 0)
    seen["default"], ret = acl.rt.get_context()
    assert ret == 0 and seen["default"] != 0

def test_context_is_current_while_the_test_runs(acl, acl_context):
    assert acl.rt.get_context() == (acl_context, 0)
    assert acl_context != seen["default"]
    seen["created"] = acl_context

def test_default_context_is_current_again(acl, acl_device):
    assert acl.rt.get_context() == (seen["default"], 0)
    # the created context was destroyed
    assert acl.rt.set_context(seen["created"]) != 0

def test_changes_the_current_context_itself(acl, acl_device):
    context, ret = acl.rt.create_context(acl_device)
    assert ret == 0
    assert acl.rt.get_context() == (context, 0)
    assert acl.rt.destroy_context(context) == 0

def test_next_test_has_the_default_context(acl, acl_device):
    assert acl.rt.get_context() == (seen["default"], 0)

def test_stream_is_usable(acl, acl_stream, device_memory, host_memory):
    device = device_memory(64)
    device.write(bytes(range(64)))
    host = host_memory(64)
    assert acl.rt.memcpy_async(host.ptr, 64, device.ptr, 64, 2, acl_stream) == 0
    assert acl.rt.synchronize_stream(acl_stream) == 0
    assert host.read() == bytes(range(64))
    seen["stream"] = acl_stream

def test_stream_was_destroyed(acl, acl_device):
    assert acl.rt.destroy_stream(seen["stream"]) != 0

@pytest.mark.acl_leak_check
def test_fixtures_release_what_they_created(acl_context, acl_stream, device_memory,
                                            host_memory):
    device_memory(1000)
    device_memory(3 * 2**20 + 1)
    host_memory(100)
"""


@pytest.mark.parametrize("devices", ["0", "1"])
def test_device_context_and_stream_fixtures(pytester, devices):
    pytester.makepyfile(DEVICE_TESTS)
    result = pytester.runpytest(*INNER, "--acl-devices", devices, "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=8)


def test_device_is_set_once_per_session_and_reset_at_the_end(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", range(3))
        def test_set_once(acl, acl_device, n):
            assert acl.__simulator__.runtime.devices[1].set_count == 1
            assert acl.__simulator__.runtime.devices[0].set_count == 0
    """)
    result = pytester.runpytest(*INNER, "--acl-devices", "1")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
    assert default_simulator().runtime.devices[1].set_count == 0


# -- device_memory and host_memory ------------------------------------------------------------

def test_device_memory_buffers(pytester):
    pytester.makepyfile("""
        import numpy as np
        import pytest

        def test_round_trip_and_offsets(device_memory):
            buffer = device_memory(100)
            assert buffer.size == 100 and buffer.ptr % 64 == 0
            buffer.write(bytes(range(100)))
            assert buffer.read() == bytes(range(100))
            buffer.write(b"\\xff\\xfe", offset=10)
            assert buffer.read(4, offset=9) == bytes([9, 0xff, 0xfe, 12])

        def test_numpy_and_several_buffers(device_memory):
            data = np.arange(256, dtype=np.float32)
            a, b = device_memory(data.nbytes), device_memory(data.nbytes)
            assert a.ptr != b.ptr
            a.write(data)
            b.write(data[::-1].copy())
            assert np.array_equal(np.frombuffer(a.read(), np.float32), data)
            assert np.array_equal(np.frombuffer(b.read(), np.float32), data[::-1])

        @pytest.mark.parametrize("size", [0, -1])
        def test_size_must_be_positive(device_memory, size):
            with pytest.raises(ValueError, match="size must be > 0"):
                device_memory(size)

        def test_host_memory(host_memory):
            host = host_memory(16)
            host.write(b"abcd", offset=4)
            assert host.read(4, offset=4) == b"abcd"
            with pytest.raises(ValueError, match="do not fit"):
                host.write(bytes(13), offset=4)
            with pytest.raises(ValueError, match="exceed"):
                host.read(17)
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=5)


def test_canary_after_the_buffer_is_checked_at_teardown(pytester):
    pytester.makepyfile("""
        def test_writes_four_bytes_too_many(acl, device_memory):
            buffer = device_memory(16)
            # an implementation writing size + 4 bytes: memset told the wrong capacity
            assert acl.rt.memset(buffer.ptr, buffer.size + 4, 0x00, buffer.size + 4) == 0
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)  # the test body passed; teardown reports
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_writes_four_bytes_too_many*",
        "device_memory: device buffer 0x* (16 bytes): canary after the buffer overwritten, "
        "1 to 4 bytes past its end",
    ])


def test_canary_before_the_buffer_and_only_the_damaged_buffer_is_named(pytester):
    pytester.makepyfile("""
        import numpy as np

        def test_underrun(acl, device_memory):
            good = device_memory(32)
            bad = device_memory(32)
            good.write(bytes(32))
            host = np.full(8, 0xFF, np.uint8)
            assert acl.rt.memcpy(bad.ptr - 8, 8, host.ctypes.data, 8, 1) == 0
            print("bad buffer", hex(bad.ptr))
            print("good buffer", hex(good.ptr))
    """)
    result = pytester.runpytest(*INNER, "-rE")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)
    bad = next(line.split()[-1] for line in result.stdout.lines
               if line.startswith("bad buffer"))
    result.stdout.fnmatch_lines([
        f"device_memory: device buffer {bad} (32 bytes): canary before the buffer "
        "overwritten, 1 to 8 bytes before its start"])
    good = next(line.split()[-1] for line in result.stdout.lines
                if line.startswith("good buffer"))
    # The good buffer is named nowhere but in the test's own print (the short summary may or
    # may not repeat the damaged buffer's line, depending on the terminal width).
    assert [line for line in result.stdout.lines if good in line] == [f"good buffer {good}"]


def test_writes_inside_the_buffer_leave_the_canaries_alone(pytester):
    pytester.makepyfile("""
        def test_fill_exactly(acl, device_memory):
            buffer = device_memory(48)
            assert acl.rt.memset(buffer.ptr, buffer.size, 0x00, buffer.size) == 0
            buffer.write(b"\\xff" * 48)
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)


# -- acl_leak_check ---------------------------------------------------------------------------

LEAKS = """
import pytest

pytestmark = pytest.mark.acl_leak_check

def test_malloc_without_free(acl, acl_device):
    ptr, ret = acl.rt.malloc(4096, 0)
    assert ret == 0

def test_stream_not_destroyed(acl, acl_device):
    stream, ret = acl.rt.create_stream()
    assert ret == 0

def test_context_not_destroyed(acl, acl_device):
    context, ret = acl.rt.create_context(acl_device)
    assert ret == 0

def test_host_memory_not_freed(acl, acl_device):
    ptr, ret = acl.rt.malloc_host(64)
    assert ret == 0

def test_clean(acl, acl_device):
    ptr, ret = acl.rt.malloc(4096, 0)
    stream, ret2 = acl.rt.create_stream()
    assert ret == ret2 == 0
    assert acl.rt.destroy_stream(stream) == 0
    assert acl.rt.free(ptr) == 0

def test_clean_with_fixtures(acl_context, acl_stream, device_memory, host_memory):
    device_memory(4096)
    host_memory(64)
"""


def test_leak_check_reports_each_leaked_resource(pytester):
    pytester.makepyfile(LEAKS)
    result = pytester.runpytest(*INNER, "--acl-devices", "1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=6, errors=4)
    for test, resource in [("test_malloc_without_free", "device1.bytes_in_use: 0 → * (+*)"),
                           ("test_stream_not_destroyed", "streams: 0 → 1 (+1)"),
                           ("test_context_not_destroyed", "contexts: 0 → 1 (+1)"),
                           ("test_host_memory_not_freed", "host_allocations: 0 → 1 (+1)")]:
        result.stdout.fnmatch_lines([
            f"*ERROR at teardown of {test}*",
            f"acl_leak_check: test_leak_check_reports_each_leaked_resource.py::{test} left "
            "resources behind:",
            f"  {resource}",
        ], consecutive=True)
    assert "test_clean" not in "".join(
        line for line in result.stdout.lines if line.startswith("ERROR"))


def test_leaks_are_not_checked_without_the_marker(pytester):
    pytester.makepyfile("""
        def test_leaks_quietly(acl, acl_device):
            ptr, ret = acl.rt.malloc(4096, 0)
            stream, ret = acl.rt.create_stream()
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)


def test_leak_check_without_acl_fixtures_sets_up_the_device(pytester):
    """The marker alone is enough: it brings up the device to take its snapshot."""
    pytester.makepyfile("""
        import pytest
        from pytest_acl.sim import default_simulator

        @pytest.mark.acl_leak_check
        def test_leaks_through_the_module():
            acl = default_simulator().acl
            ptr, ret = acl.rt.malloc(100, 0)  # on the session's device (the last: 1)
            assert ret == 0
    """)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["  device1.bytes_in_use: 0 → * (+*)"])


# -- a failed test's leftovers ----------------------------------------------------------------

LEFTOVERS = """
import pytest

held = {}

@pytest.mark.acl_leak_check
def test_fails_holding_everything(acl, acl_device, acl_models):
    held["model"], _ = acl.mdl.load_from_file(str(acl_models["mlp"].path))
    held["ptr"], _ = acl.rt.malloc(4096, 0)
    held["stream"], _ = acl.rt.create_stream()
    held["buffer"] = acl.create_data_buffer(held["ptr"], 4096)
    held["dataset"] = acl.mdl.create_dataset()
    assert False, "the test's own failure"

@pytest.mark.acl_leak_check
def test_next_starts_clean(acl, acl_device):
    assert acl.mdl.unload(held["model"]) == 145003  # released by the cleanup

@pytest.mark.acl_leak_check
def test_passes_but_leaks(acl, acl_device):
    acl.rt.malloc(4096, 0)
"""


def test_a_failed_test_is_reported_once_and_its_leftovers_released(pytester, built_catalog):
    pytester.makepyfile(LEFTOVERS)
    # the session's catalog: building one in here would import onnx inside the in-process
    # session, and onnx cannot be imported a second time once pytester has dropped it
    result = pytester.runpytest(*INNER, "-rA", "--acl-model-dir", str(built_catalog[0]))
    result.assert_outcomes(passed=2, failed=1, errors=1)
    output = result.stdout.str()
    assert "the test's own failure" in output
    # the one error is the passing test's leak; the failed test's leftovers were released
    result.stdout.fnmatch_lines(["ERROR *test_passes_but_leaks*"])
    assert "ERROR test_a_failed_test_is_reported_once_and_its_leftovers_released.py::" \
           "test_fails_holding_everything" not in output


def test_an_interrupted_test_gets_no_leak_verdict_and_the_run_ends_interrupted(pytester):
    # Ctrl-C in the middle of a test: its teardown runs as the session ends; what it held is
    # released, not reported as a leak (which would turn the interruption into an error)
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_leak_check
        def test_interrupted_holding_memory(acl, acl_device):
            acl.rt.malloc(4096, 0)
            raise KeyboardInterrupt
    """)
    result = pytester.runpytest(*INNER, no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = result.stdout.str()
    assert "left resources behind" not in output and "Traceback" not in output


@pytest.mark.parametrize(("ending", "outcome"), [
    ("raise KeyboardInterrupt", pytest.ExitCode.INTERRUPTED),
    ("assert False, 'the test failed'", pytest.ExitCode.TESTS_FAILED),
])
def test_a_test_ending_with_its_model_in_fixture_memory_is_reported_once(
        pytester, built_catalog, ending, outcome):
    # the model is unloaded as the call ends, before device_memory frees the memory it uses
    pytester.makepyfile(f"""
        def test_ends_while_a_model_uses_its_memory(acl, acl_device, acl_models, device_memory):
            model = acl_models["mlp"]
            work, weight = device_memory(model.work_size), device_memory(model.weight_size)
            _, ret = acl.mdl.load_from_file_with_mem(str(model.path), work.ptr, work.size,
                                                     weight.ptr, weight.size)
            assert ret == 0
            {ending}
    """)
    result = pytester.runpytest(*INNER, "--acl-model-dir", str(built_catalog[0]),
                                no_reraise_ctrlc=True)
    output = result.stdout.str()
    assert result.ret == outcome, output
    assert "Traceback" not in output and "ERROR" not in output and "freed_while" not in output
