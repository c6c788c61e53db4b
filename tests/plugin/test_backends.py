"""The backends: pyacl against stand-in ``acl`` modules put on PYTHONPATH (subprocess runs),
pyacl without ``acl``, and the sim backend's PYTEST_ACL_SIM_*
configuration (read when the process-wide simulator is created, hence subprocesses too)."""

from __future__ import annotations

import platform
import sys

import pytest

from pytest_acl.backends import BackendUnavailable, load_backend

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")

# pyACL as an NPU host would have it, played by a fresh simulator: no __simulator__ marker,
# and an older build without acl.rt.memset.
SIM_STANDIN = '''
"""Stand-in for CANN's pyACL: a fresh pytest-acl simulator that looks like the real module."""
import sys

from pytest_acl.sim import Simulator

_acl = Simulator(devices=2).acl
del _acl.__simulator__
del _acl.rt.memset
for _name in ("rt", "mdl", "util"):
    sys.modules[f"acl.{_name}"] = getattr(_acl, _name)
sys.modules[__name__] = _acl
'''

# Tests whose outcome depends on the module in use: memset exists in the simulator only.
REQUIRES_TESTS = """
import pytest

@pytest.mark.acl_requires("rt.memset")
def test_requires_memset(acl, device_memory):
    buffer = device_memory(8)
    assert acl.rt.memset(buffer.ptr, 8, 1, 8) == 0

@pytest.mark.acl_requires("rt.memcpy", "mdl.create_dataset")
def test_requires_memcpy():
    pass
"""

PYACL_TESTS = REQUIRES_TESTS + """
import numpy as np

def test_module_is_the_stand_in_behind_counting_and_recording_proxies(acl, acl_backend):
    import acl as real
    assert acl_backend.name == "pyacl"
    # calls are recorded per test (and noted in the flight recorder), answered by the real module
    assert acl.rt is not real.rt and acl.mdl is not real.mdl and acl.util is not real.util
    assert acl.get_soc_name() == real.get_soc_name() and acl.util.ptr_to_bytes is not None
    dataset = acl.mdl.create_dataset()
    assert dataset != 0 and real.mdl.destroy_dataset(dataset) == 0
    assert not hasattr(acl.rt, "memset")

def test_fixtures(acl, acl_device, acl_context, acl_stream, device_memory, host_memory):
    assert acl.rt.get_device() == (1, 0)
    assert acl.rt.get_context() == (acl_context, 0)
    buffer = device_memory(256)
    buffer.write(np.arange(256, dtype=np.uint8))
    host = host_memory(256)
    assert acl.rt.memcpy_async(host.ptr, 256, buffer.ptr, 256, 2, acl_stream) == 0
    assert acl.rt.synchronize_stream(acl_stream) == 0
    assert host.read() == bytes(range(256))

@pytest.mark.acl_soc("Ascend910B*")
def test_soc_from_the_runtime(acl_backend):
    assert acl_backend.soc_name() == "Ascend910B1"

@pytest.mark.acl_soc("Ascend310P*")
def test_soc_elsewhere():
    raise AssertionError("must not run")

@pytest.mark.acl_leak_check
def test_clean(acl_context, acl_stream, device_memory, host_memory):
    device_memory(4096)
    host_memory(64)

@pytest.mark.acl_leak_check
def test_leaks_a_stream(acl, acl_device):
    acl.rt.create_stream()

@pytest.mark.acl_leak_check
def test_leaks_a_context(acl, acl_device):
    acl.rt.create_context(acl_device)

@pytest.mark.acl_leak_check
def test_leaks_device_memory(acl, acl_device):
    acl.rt.malloc(4096, 0)

def test_canary(acl, device_memory):
    buffer = device_memory(16)
    host = np.zeros(20, np.uint8)
    assert acl.rt.memcpy(buffer.ptr, 20, host.ctypes.data, 20, 1) == 0
"""

MINIMAL_STANDIN = '''
"""A minimal pyACL-like module: no get_version, no acl.mdl, acl.rt without malloc, and an
acl.init that fails."""
import types

EXTRA = "passed through"


def init(config_path=""):
    return 100000  # ACL_ERROR_INVALID_PARAM


def finalize():
    return 0


rt = types.ModuleType("acl.rt")
rt.set_device = lambda device: 0
'''


def write_standin(pytester, source):
    directory = pytester.mkdir("standin")
    (directory / "acl.py").write_text(source)
    return directory


def test_pyacl_on_a_simulator_stand_in(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(write_standin(pytester, SIM_STANDIN)))
    pytester.makepyfile(PYACL_TESTS)
    result = pytester.runpytest_subprocess(*INNER, "--acl-backend", "pyacl",
                                           "--acl-devices", "1,0", "-rs")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=9, skipped=2, errors=4)
    result.stdout.fnmatch_lines([
        "acl: backend pyacl (from command line): pyACL (ACL interface 1.17.0)",
        "acl: devices 1,0 (from command line); SoC reported by the runtime after init",
    ])
    result.stdout.fnmatch_lines_random([
        "  streams: 0 → 1 (+1)",
        "  contexts: 0 → 1 (+1)",
        "  device1.bytes_in_use: 0 → * (+*)",
        "device_memory: device buffer 0x* (16 bytes): canary after the buffer overwritten, "
        "1 to 4 bytes past its end",
        "SKIPPED [[]1[]] *: not exposed by this backend (pyacl): acl.rt.memset",
        "SKIPPED [[]1[]] *: SoC Ascend910B1 does not match acl_soc('Ascend310P*')",
    ])
    header = next(line for line in result.stdout.lines if line.startswith("acl: backend"))
    assert "simulator" not in header  # the stand-in passes for a real pyACL


def test_acl_requires_on_the_simulator_runs_what_pyacl_skipped(pytester):
    """Same tests as above, decided from the simulator's module: memset is there."""
    pytester.makepyfile(REQUIRES_TESTS)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)


def test_pyacl_on_a_minimal_stand_in(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(write_standin(pytester, MINIMAL_STANDIN)))
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "pyacl")
    pytester.makepyfile("""
        import pytest

        def test_passes_through(acl):
            assert acl.EXTRA == "passed through"
            assert acl.rt.set_device(0) == 0

        @pytest.mark.acl_requires("rt.set_device", "init")
        def test_present():
            pass

        @pytest.mark.acl_requires("rt.malloc", "rt.set_device", "mdl.load_from_file")
        def test_missing():
            raise AssertionError("must not run")

        def test_runtime(acl_runtime):
            pass
    """)
    result = pytester.runpytest_subprocess(*INNER, "-rs")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2, skipped=1, errors=1)
    result.stdout.fnmatch_lines([
        "acl: backend pyacl (from env PYTEST_ACL_BACKEND): pyACL (version unknown: *)",
        "acl: CANN version unknown (no ascend_toolkit_install.info found; give "
        "--acl-cann-version)",
        "*acl.init() returned 100000 (ACL_ERROR_INVALID_PARAM)*",
        "SKIPPED [[]1[]] *: not exposed by this backend (pyacl): acl.rt.malloc, "
        "acl.mdl.load_from_file",
    ])


def test_pyacl_reads_the_cann_version_of_the_toolkit_it_lives_in(pytester, monkeypatch):
    toolkit = pytester.mkdir("cann-8.3.RC2")
    record = toolkit / f"{platform.machine()}-linux" / "ascend_toolkit_install.info"
    record.parent.mkdir()
    record.write_text("package_name=Ascend-cann-toolkit\nversion=8.3.RC2\n")
    packages = toolkit / "python" / "site-packages"
    packages.mkdir(parents=True)
    (packages / "acl.py").write_text(MINIMAL_STANDIN)
    monkeypatch.setenv("PYTHONPATH", str(packages))
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess(*INNER, "--acl-backend", "pyacl")
    result.stdout.fnmatch_lines(["acl: CANN 8.3.RC2 (from the backend)"])


def test_pyacl_without_acl_tells_how_to_install_cann(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "pyacl")
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    # --no-header: the backend is loaded at session start, not only for the header
    result = pytester.runpytest_subprocess(*INNER, "--no-header")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --acl-backend pyacl (from env PYTEST_ACL_BACKEND): the pyacl backend cannot "
        "import 'acl' (No module named 'acl'): install the CANN toolkit *"
        "'source /usr/local/Ascend/ascend-toolkit/set_env.sh'; without an NPU use "
        "--acl-backend sim"])
    assert "test_never_runs" not in result.stdout.str()


def test_pyacl_whose_import_fails_tells_how_to_source_cann(pytester, monkeypatch):
    """CANN installed but its environment not sourced: pyACL's import itself fails."""
    standin = write_standin(pytester, 'raise ImportError("libascendcl.so: cannot open '
                                      'shared object file")\n')
    monkeypatch.syspath_prepend(str(standin))
    monkeypatch.delitem(sys.modules, "acl", raising=False)
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    result = pytester.runpytest(*INNER, "--acl-backend", "pyacl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --acl-backend pyacl (from command line): the pyacl backend cannot import "
        "'acl' (libascendcl.so: cannot open shared object file): *set_env.sh*"])


def test_pyacl_refuses_an_acl_module_that_is_not_pyacl(pytester, monkeypatch):
    """Some other package's 'acl' module: a usage error, not an internal error."""
    standin = write_standin(pytester, "NOT_PYACL = True\n")
    monkeypatch.syspath_prepend(str(standin))
    monkeypatch.delitem(sys.modules, "acl", raising=False)
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    result = pytester.runpytest(*INNER, "--acl-backend", "pyacl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"ERROR: --acl-backend pyacl (from command line): the module 'acl' found at "
        f"{standin / 'acl.py'} is not pyACL (it has no acl.rt): install the CANN toolkit *"])
    assert "INTERNALERROR" not in result.stdout.str()


def test_load_backend_refuses_unknown_names():
    with pytest.raises(BackendUnavailable, match=r"unknown backend 'npu'; the installed "
                       r"backends \(entry points pytest_acl.backends\) are sim, pyacl, capi"):
        load_backend("npu")


def test_sim_machine_from_env(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_SIM_DEVICES", "4")
    monkeypatch.setenv("PYTEST_ACL_SIM_SOC", "Ascend310P3")
    monkeypatch.setenv("PYTEST_ACL_SIM_HBM", "1GiB")
    pytester.makepyfile("""
        import pytest

        def test_machine(acl, acl_device):
            assert acl_device == 3
            assert acl.rt.get_device_count() == (4, 0)
            free, total, ret = acl.rt.get_mem_info(1)  # ACL_HBM_MEM
            assert (total, ret) == (2**30, 0)

        @pytest.mark.acl_soc("Ascend310P*")
        def test_310p(acl_backend):
            assert acl_backend.soc_name() == "Ascend310P3"

        @pytest.mark.acl_soc("Ascend910B*")
        def test_910b():
            raise AssertionError("must not run")
    """)
    result = pytester.runpytest_subprocess(*INNER, "--acl-devices", "3", "-rs")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines([
        "acl: devices 3 (from command line); SoC Ascend310P3",
        "acl: simulator has 4 devices with 1 GiB HBM each (PYTEST_ACL_SIM_DEVICES, *)",
        "SKIPPED [[]1[]] *: SoC Ascend310P3 does not match acl_soc('Ascend910B*')",
    ])


def test_bad_sim_machine_is_a_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_SIM_HBM", "lots")
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    result = pytester.runpytest_subprocess(*INNER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --acl-backend sim (from default): simulator configuration: "
        "PYTEST_ACL_SIM_HBM: 'lots' is not a size; use bytes or a unit such as 32GiB*"])
