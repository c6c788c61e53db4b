"""The fatal defects really end or hang the process — proven in child processes, since they
would take the test process with them — and their triggers are narrow: the same program
without the defect, or just outside the trigger, behaves normally. A device lost in a crash
stays lost for every later process of the machine (its machine directory)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_acl.constants import ACL_ERROR_RT_DEV_SETUP_ERROR
from pytest_acl.sim import Simulator
from pytest_acl.sim.defects import DEFECTS, FATAL
from pytest_acl.sim.faults import Machine

# Each child: argv[1] the model catalog, argv[2] the device; the default simulator is
# configured by the environment (PYTEST_ACL_SIM_DEFECTS, PYTEST_ACL_SIM_MACHINE_DIR).
PRELUDE = """
import sys
from pathlib import Path
from pytest_acl.models.manifest import ModelEntry, read_manifest
from pytest_acl.modelio import ModelIO
from pytest_acl.sim import acl
directory, device = Path(sys.argv[1]), int(sys.argv[2])
manifest = read_manifest(directory)
def entry(name): return ModelEntry(directory, manifest["models"][name])
def path(name): return str(entry(name).path)
assert acl.init() == 0
assert acl.rt.set_device(device) == 0
"""

BUNDLE_INDEX_OVERRUN = """
bundle_id, ret = acl.mdl.bundle_init_from_file(path("bundle3"), 0, 0)
assert ret == 0
print("overrun", acl.mdl.bundle_load_model(bundle_id, 3)[1], flush=True)
"""

LOAD_WITHOUT_MEMORY = """
free, _, _ = acl.rt.get_mem_info(1)
hog, ret = acl.rt.malloc(free - entry("bigweights").weight_size // 2, 0)
assert ret == 0
print("load", acl.mdl.load_from_file(path("bigweights"))[1], flush=True)
"""

ASYNC_ON_WORK_OF = """
work = max(acl.mdl.query_size(path(name))[0] for name in ("mlp", "conv"))
shared, _ = acl.rt.malloc(work, 0)
model_id, ret = acl.mdl.load_from_file_with_mem(path("mlp"), shared, work, 0, 0)
assert ret == 0
other = shared if sys.argv[3] == "shared" else acl.rt.malloc(work, 0)[0]
assert acl.mdl.load_from_file_with_mem(path("conv"), other, work, 0, 0)[1] == 0
io = ModelIO.prepare(acl, model_id, list(entry("mlp").inputs().values()))
stream, _ = acl.rt.create_stream()
print("queued", acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream), flush=True)
print("synchronized", acl.rt.synchronize_stream(stream), flush=True)
"""

SET_DEVICES = """
print(acl.rt.set_device(1), acl.rt.set_device(0))
"""


def _env(defects: tuple[str, ...] = (), machine: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST_ACL_") and k != "PYTEST_ADDOPTS"}
    env["PYTEST_ACL_SIM_DEFECTS"] = ",".join(defects)
    if machine is not None:
        env["PYTEST_ACL_SIM_MACHINE_DIR"] = str(machine)
    return env


def _command(program: str, catalog: Path, device: int = 0, *extra: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(program),
            str(catalog), str(device), *extra]


def run(program: str, catalog: Path, defects: tuple[str, ...] = (), machine: Path | None = None,
        device: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(program, catalog, device), env=_env(defects, machine),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def catalog(built_catalog) -> Path:
    return built_catalog[0]


def test_fatal_defects_are_registered_and_described():
    assert {"bundle_index_overrun_segfaults", "oom_load_exits", "shared_work_async_hangs",
            "crash_loses_device"} == FATAL
    assert set(DEFECTS) >= FATAL


class TestBundleIndexOverrunSegfaults:
    def test_the_process_dies_with_sigsegv(self, catalog):
        result = run(BUNDLE_INDEX_OVERRUN, catalog, ("bundle_index_overrun_segfaults",))
        assert result.returncode == -signal.SIGSEGV, result.stderr
        assert result.stdout == ""

    def test_without_it_the_index_is_refused(self, catalog):
        result = run(BUNDLE_INDEX_OVERRUN, catalog)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["overrun", "100000"]


class TestOomLoadExits:
    def test_the_process_exits_with_1(self, catalog):
        result = run(LOAD_WITHOUT_MEMORY, catalog, ("oom_load_exits",))
        assert result.returncode == 1, result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr

    def test_without_it_the_load_is_refused(self, catalog):
        result = run(LOAD_WITHOUT_MEMORY, catalog)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["load", "245000"]


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process, from /proc (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline() if ready else ""  # type: ignore[union-attr]


class TestSharedWorkAsyncHangs:
    def test_synchronize_never_returns_and_burns_no_cpu(self, catalog):
        process = subprocess.Popen(_command(ASYNC_ON_WORK_OF, catalog, 0, "shared"),
                                   env=_env(("shared_work_async_hangs",)),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert _read_line(process, 60).split() == ["queued", "0"]
            before, started = _cpu_seconds(process.pid), time.monotonic()
            with pytest.raises(subprocess.TimeoutExpired):
                process.wait(timeout=2)
            after, elapsed = _cpu_seconds(process.pid), time.monotonic() - started
            assert process.poll() is None, "synchronize_stream returned"
            if before is not None and after is not None:
                assert after - before < 0.25 * elapsed, "the hang is a busy loop"
        finally:
            process.kill()
            process.communicate()

    @pytest.mark.parametrize(("defects", "work"), [((), "shared"),
                                                   (("shared_work_async_hangs",), "own")])
    def test_without_it_or_without_sharing_the_execution_completes(self, catalog, defects,
                                                                    work):
        result = subprocess.run(_command(ASYNC_ON_WORK_OF, catalog, 0, work),
                                env=_env(defects), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["queued", "0", "synchronized", "0"]


CRASHES = [pytest.param(BUNDLE_INDEX_OVERRUN, "bundle_index_overrun_segfaults",
                        -signal.SIGSEGV, id="segfault"),
           pytest.param(LOAD_WITHOUT_MEMORY, "oom_load_exits", 1, id="exit")]


class TestCrashLosesDevice:
    @pytest.mark.parametrize(("program", "crash", "status"), CRASHES)
    def test_later_processes_cannot_set_the_device(self, catalog, tmp_path, program, crash,
                                                   status):
        defects = (crash, "crash_loses_device")
        first = run(program, catalog, defects, tmp_path / "machine", device=1)
        assert first.returncode == status, first.stderr
        assert (tmp_path / "machine" / "device-1.lost").is_file()
        second = run(SET_DEVICES, catalog, defects, tmp_path / "machine")
        assert second.stdout.split() == [str(ACL_ERROR_RT_DEV_SETUP_ERROR), "0"]
        # the device is lost for the machine, whatever a later process switches on
        third = run(SET_DEVICES, catalog, (), tmp_path / "machine")
        assert third.stdout.split() == [str(ACL_ERROR_RT_DEV_SETUP_ERROR), "0"]

    @pytest.mark.parametrize(("program", "crash", "status"), CRASHES)
    def test_without_it_a_crash_loses_nothing(self, catalog, tmp_path, program, crash, status):
        first = run(program, catalog, (crash,), tmp_path, device=1)
        assert first.returncode == status, first.stderr
        assert list(tmp_path.iterdir()) == []
        second = run(SET_DEVICES, catalog, (crash, "crash_loses_device"), tmp_path)
        assert second.stdout.split() == ["0", "0"]

    def test_without_a_machine_dir_the_loss_is_this_processs_only(self):
        lost = Simulator(defects=["crash_loses_device"])
        lost.runtime.faults.crashing(1)
        assert lost.acl.rt.set_device(1) == ACL_ERROR_RT_DEV_SETUP_ERROR
        assert lost.acl.rt.set_device(0) == 0
        assert Simulator().acl.rt.set_device(1) == 0

    def test_a_crash_without_the_defect_marks_nothing(self, tmp_path):
        sim = Simulator(machine_dir=tmp_path)
        sim.runtime.faults.crashing(1)
        assert sim.acl.rt.set_device(1) == 0 and list(tmp_path.iterdir()) == []

    def test_machine_dir_from_the_environment(self, monkeypatch, tmp_path):
        monkeypatch.setenv("PYTEST_ACL_SIM_MACHINE_DIR", str(tmp_path))
        assert Simulator.from_env().machine.directory == tmp_path
        monkeypatch.setenv("PYTEST_ACL_SIM_MACHINE_DIR", " ")
        assert Machine.from_env().directory is None
