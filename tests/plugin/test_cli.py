"""The ``pytest-acl`` command: --version, and ``run-sim`` running unmodified pyACL programs
(and pytest with the pyacl backend) with the simulator as their ``acl`` module."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_acl import __version__

BIN = Path(sys.executable).parent
CLI = BIN / "pytest-acl"

ROUND_TRIP = """
import acl

ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2


def check(ret, what):
    if ret != 0:
        raise SystemExit(f"{what} returned {ret}")


check(acl.init(), "acl.init")
check(acl.rt.set_device(0), "acl.rt.set_device")
context, ret = acl.rt.create_context(0)
check(ret, "acl.rt.create_context")
data = b"hello from the device"
size = len(data)
device, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
check(ret, "acl.rt.malloc")
host, ret = acl.rt.malloc_host(size)
check(ret, "acl.rt.malloc_host")
check(acl.rt.memcpy(device, size, acl.util.bytes_to_ptr(data), size,
                    ACL_MEMCPY_HOST_TO_DEVICE), "acl.rt.memcpy H2D")
check(acl.rt.memcpy(host, size, device, size, ACL_MEMCPY_DEVICE_TO_HOST), "acl.rt.memcpy D2H")
print("round trip:", acl.util.ptr_to_bytes(host, size).decode())
print("soc:", acl.get_soc_name())
print("device count:", acl.rt.get_device_count()[0])
print("hbm:", acl.rt.get_mem_info(1)[1])
check(acl.rt.free_host(host), "acl.rt.free_host")
check(acl.rt.free(device), "acl.rt.free")
check(acl.rt.destroy_context(context), "acl.rt.destroy_context")
check(acl.rt.reset_device(0), "acl.rt.reset_device")
check(acl.finalize(), "acl.finalize")
print("done")
"""

SUBMODULE_IMPORTS = """
import sys
import acl.rt
from acl import rt
from acl import mdl, util
import acl.mdl as mdl2

assert rt is acl.rt is sys.modules["acl.rt"]
assert mdl is mdl2 is acl.mdl and util is acl.util
assert acl.init() == 0
assert rt.set_device(1) == 0
print("current device:", rt.get_device())
assert rt.reset_device(1) == 0
assert acl.finalize() == 0
print("module:", acl)
"""


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    """``pytest-acl ARGS`` with this venv's bin first on PATH and no PYTEST_ACL_* inherited."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_ACL_")}
    environ["PATH"] = os.pathsep.join([str(BIN), environ.get("PATH", "")])
    environ.update(env or {})
    return subprocess.run([str(CLI), *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120)


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def test_console_script_is_installed():
    assert CLI.is_file(), f"{CLI} missing: is the project installed (pip install -e .)?"


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"pytest-acl {__version__}"


def test_no_subcommand_is_a_usage_error(tmp_path):
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: pytest-acl" in result.stderr
    assert "run-sim" in run_cli("--help", cwd=tmp_path).stdout


@pytest.mark.parametrize("args", [("run-sim",), ("run-sim", "--"), ("run-sim", "--soc", "X")])
def test_run_sim_without_a_command(tmp_path, args):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("pytest-acl run-sim: no command given; use e.g. "
                                     "'pytest-acl run-sim -- python app.py'")


def test_run_sim_runs_a_pyacl_program(tmp_path):
    write(tmp_path, "prog.py", ROUND_TRIP)
    result = run_cli("run-sim", "--", "python", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "round trip: hello from the device", "soc: Ascend910B1", "device count: 2",
        f"hbm: {64 * 2**30}", "done"]


def test_run_sim_machine_options_and_bare_script(tmp_path):
    """A command that is a .py file runs with this Python; --devices/--soc/--hbm set the
    simulated machine (and beat PYTEST_ACL_SIM_* from the environment)."""
    write(tmp_path, "prog.py", ROUND_TRIP)
    result = run_cli("run-sim", "--devices", "3", "--soc", "Ascend310P3", "--hbm", "2GiB",
                     "prog.py", cwd=tmp_path, env={"PYTEST_ACL_SIM_DEVICES": "5"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:4] == ["soc: Ascend310P3", "device count: 3",
                                               f"hbm: {2 * 2**30}"]


def test_run_sim_takes_the_machine_from_the_environment(tmp_path):
    write(tmp_path, "prog.py", ROUND_TRIP)
    result = run_cli("run-sim", "--", sys.executable, "prog.py", cwd=tmp_path,
                     env={"PYTEST_ACL_SIM_DEVICES": "5", "PYTEST_ACL_SIM_SOC": "Ascend910B4"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:3] == ["soc: Ascend910B4", "device count: 5"]


def test_run_sim_submodule_imports(tmp_path):
    write(tmp_path, "prog.py", SUBMODULE_IMPORTS)
    result = run_cli("run-sim", "--", "python", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["current device: (1, 0)",
                                          "module: <module 'acl' (pytest-acl simulator)>"]


def test_run_sim_keeps_pythonpath_and_exit_status(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "helper.py", "MESSAGE = 'helper found'\n")
    write(tmp_path, "prog.py", """
        import sys
        import acl
        import helper
        print(helper.MESSAGE, acl.__name__)
        sys.exit(3)
    """)
    result = run_cli("run-sim", "--", "python", "prog.py", cwd=tmp_path,
                     env={"PYTHONPATH": str(lib)})
    assert result.returncode == 3
    assert result.stdout.strip() == "helper found acl"


def test_run_sim_command_not_found(tmp_path):
    result = run_cli("run-sim", "--", "no-such-command-for-pytest-acl", cwd=tmp_path)
    assert result.returncode == 127
    assert result.stderr.strip() == ("pytest-acl run-sim: command not found: "
                                     "no-such-command-for-pytest-acl")
    assert not (tmp_path / ".acl-cache").exists()  # said at once: no C library built first


def test_run_sim_runs_pytest_with_the_pyacl_backend(pytester):
    """The simulator stands in for CANN's pyACL: the pyacl backend's header says so."""
    pytester.makepyfile("""
        import pytest

        @pytest.mark.acl_leak_check
        def test_on_pyacl(acl, acl_backend, acl_stream, device_memory):
            assert acl_backend.name == "pyacl"
            buffer = device_memory(32)
            buffer.write(bytes(range(32)))
            assert buffer.read() == bytes(range(32))
    """)
    result = pytester.run(str(CLI), "run-sim", "--devices", "1", "--", sys.executable, "-m",
                          "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                          "--strict-markers", "--acl-backend", "pyacl", timeout=120)
    assert result.ret == 0
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "acl: backend pyacl (from command line): pyACL (ACL interface *) — the pytest-acl "
        "simulator, via run-sim"])
    assert not (pytester.path / ".acl-cache" / "simlib").exists()  # Python: no C library


@pytest.mark.parametrize("first_line, python", [
    (b"#!/usr/bin/env python3\n", True), (b"#!/opt/venv/bin/python3.11\n", True),
    (b"#!/bin/sh\n", False), (b"\x7fELF\x02\x01\x01", False)])
def test_run_sim_tells_python_programs_from_c_ones(tmp_path, first_line, python):
    """A Python script (pytest's, pip's entry points) gets the simulator as its acl module
    and no C library; anything else may be a C program and gets libascendcl.so."""
    from pytest_acl.cli import _is_python

    program = tmp_path / "program"
    program.write_bytes(first_line + b"rest\n")
    assert _is_python(str(program)) is python
    assert _is_python("/usr/bin/python3.12") and not _is_python(None)
