"""pytest-xdist: each worker pinned to one device of --acl-devices, round robin by worker
index; the controller never initialises a backend; everything works without xdist."""

from __future__ import annotations

import pytest

from pytest_acl.state import worker_device

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")

# Each test appends "<device from acl.rt.get_device()>" to <record dir>/<worker_id>.
RECORDING_TESTS = """
import pathlib
import pytest

@pytest.mark.parametrize("n", range(8))
def test_record_device(acl, acl_device, worker_id, n, pytestconfig):
    device, ret = acl.rt.get_device()
    assert ret == 0 and device == acl_device
    assert pytestconfig.workerinput["acl_device"] == device  # sent by the controller
    with open(pathlib.Path({record!r}) / worker_id, "a") as f:
        f.write(f"{{device}}\\n")
"""

# The controller (no workerinput) records the simulator's runtime state when it is done:
# (0, False) means acl.init and acl.finalize were never called there.
CONTROLLER_PROBE = """
import pathlib

def pytest_unconfigure(config):
    if hasattr(config, "workerinput"):
        return
    from pytest_acl.sim import default_simulator
    runtime = default_simulator().runtime
    (pathlib.Path({record!r}) / "controller").write_text(
        f"{{runtime.init_count}} {{runtime.finalized}}")
"""


def devices_by_worker(record):
    return {path.name: set(path.read_text().split()) for path in record.iterdir()}


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "record"
    path.mkdir()
    return path


@pytest.mark.parametrize(("devices", "expected"), [
    ((0, 1), {"gw0": 0, "gw1": 1, "gw2": 0, "gw3": 1}),
    ((2, 3, 5), {"gw0": 2, "gw1": 3, "gw2": 5, "gw3": 2, "gw10": 3}),
    ((4,), {"gw0": 4, "gw7": 4}),
])
def test_round_robin_by_worker_index(devices, expected):
    assert {w: worker_device(devices, w) for w in expected} == expected


def test_assignment_and_non_workers():
    assert worker_device((0, 1), "gw0", assigned=1) == 1  # the controller's word wins
    assert worker_device((3, 1), None) == 3
    assert worker_device((3, 1), "master") == 3


def test_two_workers_on_two_devices(pytester, record):
    pytester.makepyfile(RECORDING_TESTS.format(record=str(record)))
    pytester.makeconftest(CONTROLLER_PROBE.format(record=str(record)))
    result = pytester.runpytest_subprocess(*INNER, "-n", "2", "--acl-devices", "0,1")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines([
        "acl: devices 0,1 (from command line); SoC Ascend910B1",
        "acl: each xdist worker is pinned to one of the devices 0,1, round robin by worker "
        "index (gw0 → the first)*",
    ])
    controller = (record / "controller").read_text()
    (record / "controller").unlink()
    assert controller == "0 False"
    assert devices_by_worker(record) == {"gw0": {"0"}, "gw1": {"1"}}


def test_two_workers_share_one_device(pytester, record, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_DEVICES", "1")
    pytester.makepyfile(RECORDING_TESTS.format(record=str(record)))
    result = pytester.runpytest_subprocess(*INNER, "-n", "2")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["acl: devices 1 (from env PYTEST_ACL_DEVICES); *"])
    assert devices_by_worker(record) == {"gw0": {"1"}, "gw1": {"1"}}


def test_leak_check_and_canaries_under_xdist(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_leak_check
        @pytest.mark.parametrize("n", range(4))
        def test_leak(acl, acl_device, n):
            acl.rt.create_stream()

        def test_canary(acl, device_memory):
            buffer = device_memory(8)
            acl.rt.memset(buffer.ptr, 12, 0, 12)
    """)
    result = pytester.runpytest_subprocess(*INNER, "-n", "2", "--acl-devices", "0,1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=5, errors=5)
    result.stdout.fnmatch_lines_random(["*  streams: 0 → 1 (+1)*",
                                        "*canary after the buffer overwritten*"])


def test_without_xdist(pytester):
    """-p no:xdist (as if it were not installed): no worker, the first device, no pinning."""
    pytester.makepyfile("""
        def test_first_device(acl, acl_device, pytestconfig):
            assert acl.rt.get_device() == (1, 0)
            assert not pytestconfig.pluginmanager.has_plugin("acl-isolation")
    """)
    result = pytester.runpytest(*INNER, "-p", "no:xdist", "--acl-devices", "1,0")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    assert "pinned" not in result.stdout.str()
    result = pytester.runpytest(*INNER, "-p", "no:xdist", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # -n really is gone


def test_xdist_installed_but_not_used(pytester):
    pytester.makepyfile("""
        def test_first_device(acl, acl_device, worker_id):
            assert worker_id == "master"
            assert acl.rt.get_device() == (1, 0)
    """)
    result = pytester.runpytest(*INNER, "--acl-devices", "1,0")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    assert "pinned" not in result.stdout.str()
