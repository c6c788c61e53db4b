"""The simulator as ``libascendcl.so``: built by ``pytest-acl sim-lib``, C and C++ programs
compile against our headers unmodified and run on it, C-only calls (NULL out-parameters,
config values by address) get the documented answers, and ``run-sim`` gives a C program the
library."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from pytest_acl import cli
from pytest_acl.capi import prototypes
from pytest_acl.capi.simlib import build as builder

SCRIPT = Path(sys.executable).with_name("pytest-acl")
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
PROGRAMS = Path(__file__).resolve().parent / "programs"


def run_program(program: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a compiled program with no Python environment active (as a C user would); the
    Python it embeds writes no byte code into the checkout."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
                   "PYTHONDONTWRITEBYTECODE": "1", **env}
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=120,
                          env=environment)


def raw_files(reference: Path, out: Path) -> list[str]:
    """examples/c/raw_files.py: the inputs, then the references, as the C example takes them."""
    result = subprocess.run([sys.executable, str(EXAMPLES / "c" / "raw_files.py"),
                             str(reference), str(out)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_build_has_every_declared_function_and_the_headers(simlib):
    library = ctypes.CDLL(str(simlib.library))  # loading runs no Python: nothing is called
    api = prototypes.load()
    missing = [name for name in [*api.functions, *api.variadic] if not hasattr(library, name)]
    assert missing == []
    shipped = {path.name: path.read_bytes() for path in prototypes.header_files()}
    copied = {path.name: path.read_bytes() for path in (simlib.include / "acl").glob("*.h")}
    assert copied == shipped and "acl.h" in copied


def test_a_second_build_reuses_the_library_and_a_stale_one_is_rebuilt(simlib, tmp_path):
    again = builder.build(simlib.out)
    assert not again.compiled and again.library == simlib.library
    copy = tmp_path / "copy"
    shutil.copytree(simlib.out, copy)
    assert builder.up_to_date(copy)
    (copy / "lib" / builder.STAMP).write_text("an older build\n")
    assert not builder.up_to_date(copy)
    (copy / "lib" / builder.STAMP).write_text(builder.build_key())
    (copy / "include" / "acl" / "acl_mdl.h").unlink()
    assert not builder.up_to_date(copy)


@pytest.mark.parametrize("name", ["mlp", "multi_io", "noweights"])
def test_the_c_example_runs_and_matches_the_reference(model_from_mem, built_catalog, tmp_path,
                                                      name):
    directory, manifest = built_catalog
    entry = manifest["models"][name]
    files = raw_files(directory / entry["reference"], tmp_path)
    result = run_program(model_from_mem, str(directory / entry["file"]), *files)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    outputs = [o["name"] for o in entry["outputs"]]
    assert [line.split()[2] for line in lines[:-1]] == [f"({n}):" for n in outputs]
    assert all("matches the reference" in line for line in lines[:-1])
    assert lines[-1] == (f"model {directory / entry['file']} (run mode host): work "
                         f"{entry['work_size']} bytes, weight {entry['weight_size']} bytes, "
                         "verified")


def test_the_c_example_fails_on_a_wrong_reference(model_from_mem, built_catalog, tmp_path):
    directory, manifest = built_catalog
    entry = manifest["models"]["mlp"]
    inputs, reference = raw_files(directory / entry["reference"], tmp_path)
    wrong = np.fromfile(reference, np.float32)
    wrong[3] += 0.5
    wrong.tofile(reference)
    result = run_program(model_from_mem, str(directory / entry["file"]), inputs, reference)
    assert result.returncode == 1
    assert "max abs error 0.5, DOES NOT MATCH the reference" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("MISMATCH")


def test_the_c_example_reports_an_acl_error_with_its_code(model_from_mem, tmp_path):
    not_a_model = tmp_path / "x.om"
    not_a_model.write_bytes(b"\0" * 300)
    result = run_program(model_from_mem, str(not_a_model))
    assert result.returncode == 2
    assert result.stderr.startswith("aclmdlQuerySizeFromMem(model, modelSize, &workSize, "
                                    "&weightSize) failed, ret=145000: ")




def test_c_only_calls_get_the_documented_answers(simlib, compile_c, built_catalog, tmp_path):
    """NULL out-parameters and a NULL path are refused with 100000 before anything happens
    (acl-api.md §3.1: "Any required pointer argument NULL … → 100000", "aclrtMalloc … NULL
    devPtr → 100000"); config values go by address with the size C gives (§2, §2.1)."""
    directory, manifest = built_catalog
    program = compile_c(simlib, PROGRAMS / "c_only.c", tmp_path / "c_only")
    result = run_program(program, str(directory / manifest["models"]["mlp"]["file"]))
    assert result.returncode == 0, result.stderr
    answers = dict(line.rsplit(" = ", 1) for line in result.stdout.splitlines() if " = " in line)
    for call in ("aclmdlQuerySize(argv[1], NULL, &weight)",
                 "aclmdlQuerySize(argv[1], &work, NULL)",
                 "aclmdlLoadFromFile(argv[1], NULL)",
                 "aclmdlLoadFromFileWithMem(argv[1], NULL, NULL, 0, NULL, 0)",
                 "aclmdlLoadFromFile(NULL, &id)",
                 "aclrtMalloc(NULL, 64, ACL_MEM_MALLOC_HUGE_FIRST)",
                 "aclrtCreateContext(NULL, 0)", "aclrtGetRunMode(NULL)",
                 "aclmdlSetConfigOpt(handle, ACL_MDL_LOAD_TYPE_SIZET, &type, 4)",
                 "aclmdlSetConfigOpt(handle, ACL_MDL_PATH_PTR, NULL, sizeof(path))",
                 "aclmdlSetConfigOpt(handle, ACL_MDL_WITHOUT_GRAPH_INT32, &eight, "
                 "sizeof(eight))",
                 "aclmdlGetInputDims(desc, 9, &dims)"):
        assert answers[call] == "100000", call
    for call in ("aclInit(NULL)", "aclmdlQuerySize(argv[1], &work, &weight)",
                 "aclmdlSetConfigOpt(handle, ACL_MDL_LOAD_TYPE_SIZET, &type, sizeof(type))",
                 "aclmdlSetConfigOpt(handle, ACL_MDL_PATH_PTR, &path, sizeof(path))",
                 "aclmdlSetConfigOpt(handle, ACL_MDL_WITHOUT_GRAPH_INT32, &without, "
                 "sizeof(without))",
                 "aclmdlLoadWithConfig(handle, &id)", "aclmdlGetDesc(desc, id)",
                 "aclmdlGetInputDims(desc, 0, &dims)", "aclFinalize()"):
        assert answers[call] == "0", call
    assert "device memory unchanged: 1" in result.stdout
    assert "sizes set: 1" in result.stdout
    assert "recent: aclrtGetRunMode failed with aclError 100000: the out-parameter runMode " \
           "is NULL" in result.stdout
    assert "input 0: x, 2 dims, first 4" in result.stdout
    # the model loaded with the config unloads; a second unload: 145003 (cann-behaviour.md §3)
    assert [line for line in result.stdout.splitlines() if line.startswith("aclmdlUnload")] \
        == ["aclmdlUnload(id) = 0", "aclmdlUnload(id) = 145003"]




# What a program sees from a library that cannot start the simulator: every aclError function
# ACL_ERROR_INTERNAL_ERROR (500000, acl-api.md §3), out-parameters untouched, NULL pointers,
# the reason as the recent error message (not cffi's "Returning 0", which reads as success).
NOT_READY = ["aclInit(NULL) = 500000", "aclrtSetDevice(0) = 500000",
             "aclmdlLoadFromFile(path, &modelId) = 500000, modelId 7",
             "aclrtMalloc(&devPtr, 64, ACL_MEM_MALLOC_HUGE_FIRST) = 500000, devPtr unchanged",
             "aclmdlCreateDesc() NULL"]


def _not_ready_line(why: str, out: Path) -> str:
    return (f"libascendcl.so (pytest-acl simulator): cannot start the simulator: {why}; every "
            "aclError function returns ACL_ERROR_INTERNAL_ERROR (500000); rebuild the library: "
            f"pytest-acl sim-lib --out {out}")


def test_a_library_whose_init_fails_refuses_every_call(simlib, compile_c, built_catalog,
                                                       tmp_path):
    """The embedded init fails (an environment whose numpy cannot be imported, put first by
    PYTHONPATH): no call succeeds by accident, and stderr says why once."""
    directory, manifest = built_catalog
    model = str(directory / manifest["models"]["mlp"]["file"])
    program = compile_c(simlib, PROGRAMS / "not_ready.c", tmp_path / "not_ready")
    healthy = run_program(program, model)
    assert healthy.returncode == 0 and healthy.stderr == ""
    assert healthy.stdout.splitlines()[:3] == ["aclInit(NULL) = 0", "aclrtSetDevice(0) = 0",
                                               "aclmdlLoadFromFile(path, &modelId) = 0, "
                                               "modelId 1"]
    (tmp_path / "broken" / "numpy").mkdir(parents=True)
    (tmp_path / "broken" / "numpy" / "__init__.py").write_text(
        'raise ImportError("numpy is broken here")\n')
    result = run_program(program, model, PYTHONPATH=str(tmp_path / "broken"))
    assert result.returncode == 0, result.stderr
    why = "ImportError: numpy is broken here"
    assert result.stdout.splitlines() == [*NOT_READY, f"aclGetRecentErrMsg() = {why}",
                                          "aclFinalize() = 500000"]
    assert result.stderr.splitlines() == [_not_ready_line(why, simlib.out)]


def test_a_library_whose_python_is_gone_does_not_start_it(simlib, compile_c, tmp_path):
    """A copy of the library naming a Python that no longer exists (the building environment
    removed): Python is not started (a missing home can abort the process), every call is
    refused as above."""
    copy = tmp_path / "copy"
    shutil.copytree(simlib.out, copy)
    library = copy / "lib" / builder.LIBRARY
    python = sys.executable.encode()
    gone = python[:-1] + (b"X" if python[-1:] != b"X" else b"Y")
    data = library.read_bytes()
    assert data.count(python + b"\0") == 1  # the narrow C literal the library checks
    library.write_bytes(data.replace(python + b"\0", gone + b"\0"))
    program = compile_c(simlib, PROGRAMS / "not_ready.c", tmp_path / "not_ready")
    result = run_program(program, LD_LIBRARY_PATH=str(copy / "lib"))
    why = f"the Python that built it ({gone.decode()}) is gone or cannot be run"
    assert result.stdout.splitlines() == [*NOT_READY, f"aclGetRecentErrMsg() = {why}",
                                          "aclFinalize() = 500000"]
    assert result.stderr.splitlines() == [_not_ready_line(why, copy)]


def test_a_cpp_program_in_the_samples_style_compiles_and_runs(simlib, compile_c, built_catalog,
                                                            tmp_path):
    if shutil.which("c++") is None and shutil.which("g++") is None and not os.environ.get("CI"):
        pytest.skip("no C++ compiler")
    directory, manifest = built_catalog
    program = compile_c(simlib, PROGRAMS / "sample_style.cpp", tmp_path / "sample", cxx=True)
    result = run_program(program, str(directory / manifest["models"]["mlp"]["file"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "execute async 0, sync 0", "output 0 of y: 40 floats", "unload 0", "finalize 0"]


@pytest.mark.parametrize("cxx", [False, True], ids=["c", "c++"])
def test_the_headers_alone_compile_strictly(simlib, tmp_path, cxx):
    """Every header on its own and all together, as C99 and C++, warnings as errors."""
    compiler = shutil.which("c++" if cxx else "cc")
    if compiler is None:
        pytest.skip("no C++ compiler" if cxx else "no C compiler")
    for header in ["acl.h", "acl_base.h", "acl_rt.h", "acl_mdl.h"]:
        source = tmp_path / ("t.cpp" if cxx else "t.c")
        source.write_text(f'#include "acl/{header}"\n#include "acl/acl.h"\n'
                          "int main(void) { return ACL_SUCCESS; }\n")
        result = subprocess.run(
            [compiler, "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic",
             *([] if cxx else ["-std=c99"]), "-I", str(simlib.include), str(source)],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (header, result.stderr)


def test_a_python_process_loading_the_library_shares_its_simulator(simlib):
    """Loaded into a process that runs Python (ctypes here; the capi backend), the library
    uses that interpreter: memory allocated through C is the Python simulator's."""
    script = (
        "import ctypes, sys\n"
        "lib = ctypes.CDLL(sys.argv[1])\n"
        "from pytest_acl.sim import acl\n"
        "assert acl.init() == 0 and acl.rt.set_device(0) == 0\n"
        "ptr = ctypes.c_void_p()\n"
        "assert lib.aclrtMalloc(ctypes.byref(ptr), 100, 0) == 0\n"
        "print(acl.__simulator__.live_counts()['device0.bytes_in_use'])\n"
        "print(acl.rt.free(ptr.value), lib.aclrtFree(ptr))\n")
    result = subprocess.run([sys.executable, "-c", script, str(simlib.library)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # 100 bytes rounded to 32 plus 32 of padding (acl-api.md §4.5); then freed in Python,
    # so C's free of the same pointer is refused (107000, the runtime's)
    assert result.stdout.split() == ["160", "0", "107000"]


def test_sim_lib_command_prints_where_things_are_and_how_to_compile(simlib, capsys):
    assert cli.main(["sim-lib", "--out", str(simlib.out)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"library: {simlib.library} (up to date, reused)"
    assert out[1] == f'headers: {simlib.include / "acl"} (#include "acl/acl.h")'
    assert out[2] == f"compile: {simlib.compile_line()}"
    assert f"-I {simlib.include} -L {simlib.library.parent} -lascendcl" in out[2]


def test_sim_lib_without_a_compiler_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(builder.shutil, "which", lambda name: None)
    assert cli.main(["sim-lib", "--out", str(tmp_path / "lib")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pytest-acl sim-lib: cannot build libascendcl.so: no C compiler")
    assert "apt-get install build-essential python3-dev" in err
    assert not (tmp_path / "lib").exists()


@pytest.mark.parametrize("out", ["file", "file/x"])
def test_sim_lib_refuses_an_out_that_is_a_file(tmp_path, capsys, out):
    """DIR, or a directory it would be made in, is a file: a usage error, nothing built."""
    (tmp_path / "file").write_text("")
    assert cli.main(["sim-lib", "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"pytest-acl sim-lib: --out {tmp_path / out}: {tmp_path / 'file'} is a file, "
                   "not a directory; give a directory for the library and headers (it is made "
                   "if missing)\n")
    assert (tmp_path / "file").read_text() == ""


def test_sim_lib_needs_out(capsys):
    """A missing or empty --out is a usage error (exit 2), never a build in the current
    directory."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["sim-lib"])
    assert exited.value.code == 2
    assert "pytest-acl sim-lib: error: the following arguments are required: --out" \
        in capsys.readouterr().err
    assert cli.main(["sim-lib", "--out", ""]) == 2
    assert capsys.readouterr().err.startswith("pytest-acl sim-lib: --out '': empty; give a "
                                              "directory")


def _not_writable(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """``directory`` refuses writes: by its mode, or (root writes anyway) as the kernel would
    refuse them on a read-only file system."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return
    mkdir = Path.mkdir

    def refuse(self: Path, *args, **kwargs):
        if self.parent == directory:  # what mkdir(2) refuses there
            raise PermissionError(13, "Permission denied", str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)


def test_sim_lib_into_a_directory_it_cannot_write(tmp_path, capsys, monkeypatch):
    """DIR not writable: one clear line and exit 2, no traceback, nothing written."""
    monkeypatch.setattr(builder, "missing_prerequisites", lambda: None)
    directory = tmp_path / "ro"
    directory.mkdir()
    _not_writable(monkeypatch, directory)
    try:
        assert cli.main(["sim-lib", "--out", str(directory / "simlib")]) == 2
    finally:
        directory.chmod(0o755)
    assert capsys.readouterr().err == (
        f"pytest-acl sim-lib: cannot write {directory / 'simlib'}: Permission denied; give "
        "--out a directory you can write\n")
    assert list(directory.iterdir()) == []


def test_run_sim_refuses_a_sim_lib_that_is_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert cli.main(["run-sim", "--sim-lib", str(tmp_path / "file"), "--", "true"]) == 2
    assert capsys.readouterr().err == (
        f"pytest-acl run-sim: --sim-lib {tmp_path / 'file'}: {tmp_path / 'file'} is a file, not "
        "a directory; give the directory of 'pytest-acl sim-lib --out DIR'\n")


def test_concurrent_builds_of_one_directory_compile_once(tmp_path, monkeypatch):
    """Two builders of one directory at once (the xdist workers' shared build): the lock makes
    the second wait and reuse the first's library instead of compiling its own."""
    compiles = []
    both_started = threading.Barrier(2)

    def fake_compile(scratch: Path, verbose: bool) -> None:
        compiles.append(scratch)
        time.sleep(0.3)  # long enough for the other builder to find no library yet
        (scratch / builder.LIBRARY).write_bytes(b"a library")

    monkeypatch.setattr(builder, "missing_prerequisites", lambda: None)
    monkeypatch.setattr(builder, "_compile_in_child", fake_compile)

    def one_builder() -> builder.Built:
        both_started.wait(timeout=10)
        return builder.build(tmp_path / "shared")

    with ThreadPoolExecutor(2) as pool:
        results = [future.result(timeout=30) for future in
                   [pool.submit(one_builder) for _ in range(2)]]
    assert len(compiles) == 1
    assert sorted(result.compiled for result in results) == [False, True]
    assert builder.up_to_date(tmp_path / "shared")
    assert (tmp_path / "shared" / "lib" / builder.LIBRARY).read_bytes() == b"a library"


def _run_sim(*args: str, cwd: Path | None = None,
             **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "LD_LIBRARY_PATH": "/elsewhere", **env}
    return subprocess.run([str(SCRIPT), "run-sim", *args], capture_output=True, text=True,
                          timeout=120, env=environment, cwd=cwd)


def test_run_sim_puts_the_chosen_library_first(simlib, model_from_mem, built_catalog, tmp_path):
    result = _run_sim("--sim-lib", str(simlib.out), "--", "sh", "-c", "echo $LD_LIBRARY_PATH")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{simlib.library.parent}:/elsewhere"
    # and a C program runs under it with the simulator's settings
    directory, manifest = built_catalog
    files = raw_files(directory / manifest["models"]["mlp"]["reference"], tmp_path)
    result = _run_sim("--sim-lib", str(simlib.out), "--soc", "Ascend310P3", "--",
                      str(model_from_mem), str(directory / "mlp.om"), *files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("verified")


def test_run_sim_builds_a_c_programs_library_in_the_working_tree(simlib, tmp_path):
    """Without --sim-lib a command that is not Python gets the library from
    ./.acl-cache/simlib/<key> in the current directory (reused here: a copy of the session's
    build), and nothing is written to the user's cache (DESIGN.md: only the working tree)."""
    tree, home = tmp_path / "tree", tmp_path / "home"
    built = tree / ".acl-cache" / "simlib" / builder.build_key()
    shutil.copytree(simlib.out, built)
    home.mkdir()
    result = _run_sim("--", "sh", "-c", "echo $LD_LIBRARY_PATH", cwd=tree, HOME=str(home),
                      XDG_CACHE_HOME=str(home / ".cache"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{built / 'lib'}:/elsewhere"
    assert list(home.iterdir()) == []
    python = _run_sim("--", "python", "-c", "import os; print(os.environ['LD_LIBRARY_PATH'])",
                      cwd=tree)
    assert python.stdout.strip() == "/elsewhere"  # a Python program needs no library


def test_c_callbacks_run_on_the_thread_that_processes_reports(simlib, compile_c, tmp_path):
    """aclrtLaunchCallback with a C function: run, with its userData, by the thread
    aclrtSubscribeReport named, inside its aclrtProcessReport; a NULL fn is 100000."""
    program = compile_c(simlib, PROGRAMS / "callbacks.c", tmp_path / "callbacks")
    result = run_program(program)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "init 0", "set device 0", "create stream 0", "subscribe 0", "launch 0", "launch 0",
        "launch NULL 100000", "synchronize 0", "calls 2, on the reporting thread 2",
        "unsubscribe 0", "destroy stream 0", "reset 0", "finalize 0"]


def test_acl_app_log_links_runs_and_keeps_nothing(simlib, compile_c, tmp_path):
    """ACL_APP_LOG / aclAppLog (acl_base.h): the library exports aclAppLog in plain C that
    ignores its arguments, as the simulator's acl.app_log keeps no log — the program links,
    returns normally, aclInit and aclFinalize still answer 0, no message appears anywhere, a
    format is never read (missing arguments, NULL), and logging alone starts no Python (with
    a broken numpy first on PYTHONPATH a start would print the "cannot start" line)."""
    program = compile_c(simlib, PROGRAMS / "app_log.c", tmp_path / "app_log")
    result = run_program(program)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["aclInit 0", "aclFinalize 0", "done"]
    (tmp_path / "broken" / "numpy").mkdir(parents=True)
    (tmp_path / "broken" / "numpy" / "__init__.py").write_text(
        'raise ImportError("numpy is broken here")\n')
    alone = run_program(program, "only", PYTHONPATH=str(tmp_path / "broken"))
    assert (alone.returncode, alone.stdout, alone.stderr) == (0, "logged only\n", "")


def test_a_variadic_declaration_without_a_c_definition_stops_the_build():
    """A variadic function cannot be an ``extern "Python"`` wrapper: one the builder has no C
    definition for (build.IN_C) is a BuildError, not a library that lacks it."""
    api = prototypes.load()
    log = api.variadic["aclAppLog"]
    other = prototypes.Api(variadic={"aclOtherLog": prototypes.Function(
        "aclOtherLog", log.returns, log.params, log.header, variadic=True)})
    with pytest.raises(builder.BuildError, match="no C definition for the variadic aclOtherLog"):
        builder.wrappers(other)
    assert "void aclAppLog(aclLogLevel logLevel, const char *func, const char *file, " \
        "uint32_t line, const char *fmt, ...)\n{" in builder.wrappers(api)
