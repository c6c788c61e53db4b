"""Build the simulator as ``libascendcl.so``, with our headers beside it.

cffi's embedding mode makes the library: every function the headers declare
(prototypes.py) is exported; the first call starts Python in a C program that has none (as
the Python that built the library: its program name is baked in, so its environment's
site-packages and this package are found), or uses the interpreter of a process that already
runs Python; then exports.py's implementations answer, on
``pytest_acl.sim.default_simulator()`` — configured by ``PYTEST_ACL_SIM_*`` as usual. Each
export is a C wrapper that refuses the call when Python or the exports could not be set up
(see ``_PREAMBLE``), so a broken library never answers ACL_SUCCESS by accident. The
variadic functions (aclAppLog) are plain C instead (:data:`IN_C`), needing no Python.

``build(out)`` writes ``out/lib/libascendcl.so`` and ``out/include/acl/*.h``. The compile
runs in a child process (setuptools, the compiler's output) in a temporary directory under
``out``; the results are moved into place with ``os.replace``, so a reader never sees half a
library; a stamp holding the build key (pytest-acl version, header contents, this builder,
the Python) lets a second build reuse an up-to-date library. Without a C compiler or
Python's headers the build stops with a :class:`BuildError` saying what to install.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pytest_acl import __version__
from pytest_acl.capi import prototypes

LIBRARY = "libascendcl.so"
MODULE = "_pytest_acl_simlib"
STAMP = ".pytest-acl-simlib"
LOCK = ".pytest-acl-simlib.lock"  # in ``out``: one builder at a time
INSTALL_HINT = ("install a C compiler and Python's headers (Debian/Ubuntu: "
                "apt-get install build-essential python3-dev)")


class BuildError(Exception):
    """Why the library could not be built, in one or a few lines for a person."""


class NotWritable(BuildError):
    """The output directory (or something in it) cannot be written."""


@dataclass(frozen=True)
class Built:
    """Where a build put things, and whether it compiled or reused them."""

    out: Path
    compiled: bool

    @property
    def library(self) -> Path:
        return self.out / "lib" / LIBRARY

    @property
    def include(self) -> Path:
        return self.out / "include"

    def compile_line(self, source: str = "app.c") -> str:
        lib, inc = shlex.quote(str(self.out / "lib")), shlex.quote(str(self.include))
        return f"cc {source} -I {inc} -L {lib} -lascendcl -Wl,-rpath,{lib}"


def search_paths() -> list[str]:
    """Directories the embedded Python needs on sys.path (baked in at build time): this
    package's parent and the site-packages holding numpy, onnx and cffi."""
    import cffi
    import numpy
    import onnx

    import pytest_acl

    paths = [Path(pytest_acl.__file__).resolve().parent.parent]
    paths += [Path(module.__file__).resolve().parent.parent  # type: ignore[arg-type]
              for module in (numpy, onnx, cffi)]
    return list(dict.fromkeys(str(path) for path in paths))


def build_key() -> str:
    """What the library depends on: a change to any of these makes a new build."""
    digest = hashlib.sha256()
    for part in (__version__, sys.version, sys.prefix, *search_paths()):
        digest.update(part.encode() + b"\0")
    for path in [*prototypes.header_files(), Path(__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def default_build_dir() -> Path:
    """Where ``run-sim`` keeps a library it builds itself: ``./.acl-cache/simlib/<key>`` in
    the current directory, beside the fixture models' ``.acl-cache/acl-models`` (roles.py) —
    nothing is written outside the working tree (DESIGN.md, Constraints)."""
    return Path.cwd() / ".acl-cache" / "simlib" / build_key()


def missing_prerequisites() -> str | None:
    """What the build lacks (a compiler, Python.h, libpython), or None."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()
    if not compiler or shutil.which(compiler[0]) is None:
        return f"no C compiler ({compiler[0] if compiler else 'cc'} is not on PATH)"
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").is_file():
        return f"no Python headers ({include}/Python.h is missing)"
    if not sysconfig.get_config_var("Py_ENABLE_SHARED") and not _libpython():
        return "this Python has no shared libpython to embed"
    return None


def _libpython() -> Path | None:
    libdir, name = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    if libdir and name and (Path(libdir) / name).exists():
        return Path(libdir) / name
    return None


def up_to_date(out: Path) -> bool:
    stamp = out / "lib" / STAMP
    headers = [out / "include" / "acl" / path.name for path in prototypes.header_files()]
    return ((out / "lib" / LIBRARY).is_file() and stamp.is_file()
            and stamp.read_text().strip() == build_key()
            and all(path.is_file() for path in headers))


def build(out: Path, verbose: bool = False) -> Built:
    """Build (or reuse) ``out/lib/libascendcl.so`` and copy the headers to
    ``out/include/acl``. Concurrent builders of one ``out`` (xdist workers, two ``run-sim``)
    take turns on a lock file there: the second reuses the first's library."""
    out = Path(out).resolve()
    if up_to_date(out):
        return Built(out, compiled=False)
    problem = missing_prerequisites()
    if problem:
        raise BuildError(f"cannot build {LIBRARY}: {problem}; {INSTALL_HINT}")
    try:
        (out / "lib").mkdir(parents=True, exist_ok=True)
        (out / "include" / "acl").mkdir(parents=True, exist_ok=True)
        with open(out / LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
            if up_to_date(out):  # built while this builder waited
                return Built(out, compiled=False)
            with tempfile.TemporaryDirectory(prefix=".build-", dir=out) as scratch:
                _compile_in_child(Path(scratch), verbose)
                for header in prototypes.header_files():
                    staged = Path(scratch) / header.name
                    shutil.copyfile(header, staged)
                    os.replace(staged, out / "include" / "acl" / header.name)
                os.replace(Path(scratch) / LIBRARY, out / "lib" / LIBRARY)
                stamp = Path(scratch) / STAMP
                stamp.write_text(build_key() + "\n")
                os.replace(stamp, out / "lib" / STAMP)
    except OSError as exc:
        raise NotWritable(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    return Built(out, compiled=True)


def _compile_in_child(scratch: Path, verbose: bool) -> None:
    command = [sys.executable, "-c",
               "import sys; from pytest_acl.capi.simlib.build import compile_library; "
               "compile_library(sys.argv[1], sys.argv[2] == '1')", str(scratch),
               "1" if verbose else "0"]
    result = subprocess.run(command, capture_output=not verbose, text=True, cwd=scratch)
    if result.returncode != 0 or not (scratch / LIBRARY).is_file():
        tail = "\n".join(((result.stderr or "") + (result.stdout or "")).splitlines()[-15:])
        raise BuildError(f"compiling {LIBRARY} failed (exit {result.returncode}); "
                         f"{INSTALL_HINT} if it is missing, or run with --verbose"
                         + (f":\n{tail}" if tail else ""))


def _wide(text: str) -> str:
    """``text`` as a C wide-string literal."""
    escaped = "".join(c if c.isascii() and c.isprintable() and c not in '\\"'
                      else f"\\U{ord(c):08x}" for c in text)
    return f'L"{escaped}"'


# The exported functions are C wrappers (generated from prototypes.py's declarations): each
# first asks whether the simulator is ready — the first call starts Python (cffi's
# cffi_start_python) and runs the init code, which says whether install() succeeded — then
# calls the Python implementation, an ``extern "Python"`` function under an internal name.
# When Python cannot start or the exports could not be installed, every aclError function
# returns ACL_ERROR_INTERNAL_ERROR (500000; reference/acl-api.md §3, "500000 INTERNAL_ERROR"),
# a pointer NULL (aclGetRecentErrMsg: the reason), any other value 0, with out-parameters
# untouched, and one line on stderr says why and how to rebuild — never cffi's "Returning 0",
# which a C program reads as ACL_SUCCESS.
IMPLEMENTATION = "pytest_acl_simlib_impl_"  # + the C name: the Python implementation
READY = "pytest_acl_simlib_start"           # extern "Python": 1 when install() succeeded

# Before the first call starts Python in a program that has none, name the program as the
# Python that built the library, so the embedded interpreter finds that environment
# (pyvenv.cfg, site-packages) — unless PYTHONHOME says otherwise. If that Python is gone, the
# library does not start Python at all (a missing home can abort the process).
_PREAMBLE = """
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "acl/acl.h"

#define PYTEST_ACL_SIMLIB_PYTHON %(program)s

__attribute__((constructor)) static void pytest_acl_simlib_program(void)
{
    if (!Py_IsInitialized() && getenv("PYTHONHOME") == NULL)
        Py_SetProgramName(%(wide_program)s);
}

static int %(ready)s(char *why, size_t size);

static int pytest_acl_simlib_state;  /* 0: not started, 1: ready, -1: failed */
static char pytest_acl_simlib_why[768];
static pthread_once_t pytest_acl_simlib_once = PTHREAD_ONCE_INIT;

static void pytest_acl_simlib_begin(void)
{
    char *why = pytest_acl_simlib_why, out[512] = "DIR", *cut;
    size_t size = sizeof pytest_acl_simlib_why;
    int ready = 0;
    Dl_info self;

    if (!Py_IsInitialized() && getenv("PYTHONHOME") == NULL
            && access(PYTEST_ACL_SIMLIB_PYTHON, X_OK) != 0)
        snprintf(why, size, "the Python that built it (%%s) is gone or cannot be run",
                 PYTEST_ACL_SIMLIB_PYTHON);
    else {
        snprintf(why, size, "the embedded Python did not start or its init code failed "
                 "(cffi's message above)");
        if (cffi_start_python() == 0)
            ready = %(ready)s(why, size) == 1;
    }
    if (!ready) {
        if (dladdr((void *)&pytest_acl_simlib_begin, &self) && self.dli_fname
                && strlen(self.dli_fname) < sizeof out) {
            strcpy(out, self.dli_fname);  /* DIR/lib/libascendcl.so -> DIR */
            for (int up = 0; up < 2 && (cut = strrchr(out, '/')) != NULL; up++)
                *cut = '\\0';
        }
        fprintf(stderr, "libascendcl.so (pytest-acl simulator): cannot start the simulator: "
                "%%s; every aclError function returns ACL_ERROR_INTERNAL_ERROR (500000); "
                "rebuild the library: pytest-acl sim-lib --out %%s\\n", why, out);
        fflush(stderr);
    }
    __atomic_store_n(&pytest_acl_simlib_state, ready ? 1 : -1, __ATOMIC_RELEASE);
}

static int pytest_acl_simlib_ready(void)
{
    if (__atomic_load_n(&pytest_acl_simlib_state, __ATOMIC_ACQUIRE) == 0)
        pthread_once(&pytest_acl_simlib_once, pytest_acl_simlib_begin);
    return __atomic_load_n(&pytest_acl_simlib_state, __ATOMIC_ACQUIRE) == 1;
}
"""

# Runs once, when the first call starts Python (or in the process's own interpreter). It never
# raises: a failure is kept as one line, which the READY function hands to the library.
_INIT = """
import sys
from %(module)s import ffi

_failure = None
try:
    # Only a Python the library started needs the paths: in one already running (the capi
    # backend, ctypes) pytest_acl is imported, and another directory on its sys.path (a
    # checkout with an egg-info) would change what that process finds.
    if "pytest_acl" not in sys.modules:
        for _path in %(paths)r:
            if _path not in sys.path:
                sys.path.append(_path)
    from pytest_acl.capi.simlib.exports import install
    install(ffi)
except BaseException as _exc:
    _failure = " ".join(("%%s: %%s" %% (type(_exc).__name__, _exc)).split())[:500]


@ffi.def_extern(name=%(ready)r)
def _ready(why, size):
    if _failure is None:
        return 1
    text = _failure.encode("utf-8", "replace")[:size - 1]
    ffi.memmove(why, text + bytes(1), len(text) + 1)
    return 0
"""


def _narrow(text: str) -> str:
    """``text`` as a C string literal (UTF-8, non-ASCII bytes in octal)."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '\\"?' else f"\\{b:03o}"
                         for b in text.encode("utf-8", "surrogateescape")) + '"'


def _signature(function: prototypes.Function, name: str) -> str:
    """``function``'s C prototype under ``name``, without the semicolon."""
    return function.declaration()[:-1].replace(f"{function.name}(", f"{name}(", 1)


# The variadic functions the headers declare (prototypes.Api.variadic), defined in plain C:
# cffi's ``extern "Python"`` cannot take ``...``, and these need no simulator. aclAppLog: the
# simulator keeps no application log (its pyACL acl.app_log: "the message goes nowhere"), so
# the call is accepted and its arguments are ignored — the format is never read, so any
# format and arguments (or NULL) are safe, and logging before aclInit starts no Python.
IN_C = {
    "aclAppLog": """{
    (void)logLevel;
    (void)func;
    (void)file;
    (void)line;
    (void)fmt;
}
""",
}


def wrappers(api: prototypes.Api) -> str:
    """The exported C functions: each checks readiness, then calls its implementation; the
    variadic ones are defined in C (:data:`IN_C`)."""
    unknown = sorted(set(api.variadic) - set(IN_C))
    if unknown:
        raise BuildError(f"no C definition for the variadic {', '.join(unknown)} (build.IN_C)")
    chunks = [f"{_signature(function, function.name)}\n{IN_C[function.name]}"
              for function in api.variadic.values()]
    for function in api.functions.values():
        implementation = IMPLEMENTATION + function.name
        arguments = ", ".join(p.name for p in function.params)
        call = f"{implementation}({arguments})"
        if function.returns == "void":
            refused, body = "return;", f"{call};"
        else:
            refused = ("return ACL_ERROR_INTERNAL_ERROR;" if function.returns_error else
                       "return pytest_acl_simlib_why;" if function.name == "aclGetRecentErrMsg"
                       else "return NULL;" if function.returns.endswith("*") else "return 0;")
            body = f"return {call};"
        chunks.append(f"static {_signature(function, implementation)};\n"
                      f"{_signature(function, function.name)}\n{{\n"
                      f"    if (!pytest_acl_simlib_ready())\n        {refused}\n"
                      f"    {body}\n}}\n")
    return "\n".join(chunks)


def compile_library(scratch: str, verbose: bool = False) -> None:
    """Run cffi's embedding build into ``scratch`` (in the child process)."""
    import cffi

    api = prototypes.load()
    builder = cffi.FFI()
    builder.cdef(api.cdef_types())
    builder.cdef(f'extern "Python" int {READY}(char *, size_t);\n' + "".join(
        f'extern "Python" {_signature(function, IMPLEMENTATION + function.name)};\n'
        for function in api.functions.values()))
    builder.embedding_api("")  # nothing exported by cffi: the wrappers are the exports
    libdir = sysconfig.get_config_var("LIBDIR")
    preamble = _PREAMBLE % {"program": _narrow(sys.executable),
                            "wide_program": _wide(sys.executable), "ready": READY}
    builder.set_source(
        MODULE, preamble + wrappers(api),
        include_dirs=[str(prototypes.INCLUDE_DIR)],
        library_dirs=[libdir] if libdir else [],
        extra_compile_args=["-Wno-deprecated-declarations"],
        extra_link_args=[f"-Wl,-rpath,{libdir}"] if libdir else [])
    builder.embedding_init_code(_INIT % {"paths": search_paths(), "module": MODULE,
                                         "ready": READY})
    builder.compile(tmpdir=scratch, target=LIBRARY, verbose=verbose)
