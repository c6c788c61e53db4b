"""The simulator's C library, built once per test run into a temporary directory (shared by
the xdist workers), and a helper that compiles C and C++ programs against it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_acl.capi.simlib.build import Built, build, missing_prerequisites

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _skip_or_fail_without_a_compiler() -> None:
    problem = missing_prerequisites()
    if problem and not os.environ.get("CI"):
        pytest.skip(f"cannot build the simulator library here: {problem} "
                    "(.ci/run installs build-essential and python3-dev)")
    assert problem is None, f"CI must be able to build the simulator library: {problem}"


@pytest.fixture(scope="session")
def simlib(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """``pytest-acl sim-lib``'s build, once per run (about 3 s): xdist workers share one
    directory in the run's temporary root, and the builder's lock makes the second worker
    wait for and reuse the first's library instead of compiling its own."""
    _skip_or_fail_without_a_compiler()
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # basetemp is <run root>/popen-gwN
        root = root.parent
    return build(root / "simlib")


def compile_program(simlib: Built, source: Path, out: Path, cxx: bool = False) -> Path:
    """Compile ``source`` against the simulator's headers and library, warnings as errors."""
    compiler = shutil.which("c++" if cxx else "cc") or ("g++" if cxx else "gcc")
    result = subprocess.run(
        [compiler, "-Wall", "-Wextra", "-Werror", str(source), "-o", str(out),
         "-I", str(simlib.include), "-L", str(simlib.library.parent), "-lascendcl",
         f"-Wl,-rpath,{simlib.library.parent}", "-lm", "-pthread"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def compile_c():
    """:func:`compile_program`, for tests that compile their own programs."""
    return compile_program


@pytest.fixture(scope="session")
def model_from_mem(simlib: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The C example, compiled against the simulator library."""
    out = tmp_path_factory.mktemp("c-example") / "model_from_mem"
    return compile_program(simlib, EXAMPLES / "c" / "model_from_mem.c", out)
