"""The example pyACL programs run unmodified under ``pytest-acl run-sim`` (as a new user
would run them: the installed console script, a plain ``import acl`` in the program)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPT = Path(sys.executable).with_name("pytest-acl")


def run_sim(program: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest-acl run-sim -- python PROGRAM`` with no environment activated: ``python`` on
    PATH is not the one that has pytest-acl, and run-sim must still run the simulator."""
    env = dict(os.environ, PATH=os.pathsep.join(["/usr/bin", "/bin"]))
    return subprocess.run([str(SCRIPT), "run-sim", "--", "python", str(program), *args],
                          capture_output=True, text=True, timeout=120, cwd=program.parent,
                          env=env)


def test_memcpy_round_trip_sample_prints_verified_data():
    result = run_sim(EXAMPLES / "memcpy_round_trip.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [
        "verified 4096 bytes host->device->host: [0.0, 0.5, 1.0, 1.5] ... [511.0, 511.5]",
        "verified 4096 bytes async device->device->host on one stream: "
        "[0.0, 0.5, 1.0, 1.5] ... [511.0, 511.5]",
    ]


def test_sample_fails_loudly_without_the_simulator():
    """Without run-sim there is no 'acl' module here: the sample cannot silently pass."""
    result = subprocess.run([sys.executable, str(EXAMPLES / "memcpy_round_trip.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "No module named 'acl'" in result.stderr


@pytest.mark.parametrize("name", ["mlp", "multi_io", "noweights"])
def test_model_with_mem_sample_runs_and_matches_the_reference(built_catalog, name):
    directory, manifest = built_catalog
    entry = manifest["models"][name]
    result = run_sim(EXAMPLES / "model_with_mem.py", str(directory / entry["file"]),
                     str(directory / entry["reference"]))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [o["name"] for o in entry["outputs"]]
    assert all("matches the reference" in line for line in lines[:-1])
    assert lines[-1].endswith(f"work {entry['work_size']} bytes, weight "
                              f"{entry['weight_size']} bytes, verified")


def test_async_callbacks_sample_reads_outputs_in_callbacks(built_catalog):
    """execute_async on a stream with a callback after each execution, run by a callback thread
    that loops on process_report: every callback read its execution's outputs on that thread,
    and they match the reference."""
    directory, manifest = built_catalog
    entry = manifest["models"]["mlp"]
    result = run_sim(EXAMPLES / "async_callbacks.py", str(directory / entry["file"]),
                     str(directory / entry["reference"]))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    names = [o["name"] for o in entry["outputs"]]
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"execution {i}" for i in range(3) for _ in names]
    assert [line.split()[3] for line in lines[:-1]] == names * 3
    assert all("read in its callback matches the reference" in line for line in lines[:-1])
    assert lines[-1].endswith("3 asynchronous executions, each read in a callback on the "
                              "callback thread, verified")


@pytest.mark.parametrize(("flag", "seen"), [([], "9.1.0"), (["--cann", "8.5"], "8.5.0")])
def test_run_sim_follows_the_cann_release_it_is_given(tmp_path, flag, seen):
    program = tmp_path / "which.py"
    program.write_text("import acl\nprint(acl.__simulator__.config.cann)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ACL_SIM_CANN"}
    result = subprocess.run([str(SCRIPT), "run-sim", *flag, "--", "python", str(program)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == seen


def test_run_sim_refuses_an_unknown_cann_release():
    result = subprocess.run([str(SCRIPT), "run-sim", "--cann", "7", "--", "python", "-c", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "use one of 8.5, 9.0, 9.1" in result.stderr


def test_dynamic_batch_sample_runs_every_gear_to_the_reference(built_catalog):
    """The samples' dynamic-batch flow: gears from get_dynamic_batch, the extra input by
    name, set_dynamic_batch_size per gear, outputs at get_cur_output_dims' shape; a batch
    that is not a gear refused."""
    directory, manifest = built_catalog
    entry = manifest["models"]["dyn_batch"]
    result = run_sim(EXAMPLES / "dynamic_batch.py", str(directory / entry["file"]),
                     str(directory / entry["reference"]))
    assert result.returncode == 0, result.stderr
    gears = [values[0] for values in entry["gears"]["values"]]
    assert result.stdout.splitlines() == [
        *(f"batch {b}: output y [{b}, 10] matches the reference" for b in gears),
        f"batch {max(gears) + 1} (not a gear) refused with 145013",
        f"model {directory / entry['file']}: gears {gears}, each verified"]
