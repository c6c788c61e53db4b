"""The ``capi`` backend: ``libascendcl.so`` through a cffi binding in pyACL's shape
(capi/binding.py), found as capi/discovery.py says — on an NPU host CANN's own library, without
one the simulator's (``pytest-acl sim-lib --out DIR``).

The library to use comes from ``--acl-capi-lib`` (``PYTEST_ACL_CAPI_LIB``, ini
``acl_capi_lib``): the plugin hands the resolved setting to :func:`configure` before loading
the backend, since a backend's ``load()`` takes no arguments. Live contexts and streams are
counted by the interposition layer, as for pyACL (``snapshot`` left None).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from types import ModuleType

from pytest_acl.backends import Backend, BackendUnavailable
from pytest_acl.capi.discovery import BUILD_HINT, Found, LibraryNotFound, find_library

# Exported only by the simulator's library (pytest-acl sim-lib; cffi's embedding names its
# module's init function so): it runs the in-process simulator, whose model builds load on it.
SIMULATOR_MARKER = "PyInit__pytest_acl_simlib"
_configured: tuple[Path | None, str] = (None, "")


def configure(path: Path | None, source: str) -> None:
    """The library the session's ``--acl-capi-lib`` names (None: discover it), and where
    that setting came from ("command line", "env PYTEST_ACL_CAPI_LIB", …)."""
    global _configured
    _configured = (path, source)


def child_environment() -> dict[str, str]:
    """This process's environment, naming the configured library for a child process that
    loads the backend without the session's options (the health probe)."""
    env = dict(os.environ)
    if _configured[0] is not None:
        env["PYTEST_ACL_CAPI_LIB"] = str(_configured[0])
    return env


def _setting() -> tuple[Path | None, str]:
    """The configured library, else ``PYTEST_ACL_CAPI_LIB`` (a process the plugin did not
    configure: the health probe), checked as the option is."""
    if _configured[0] is not None:
        return _configured
    text = os.environ.get("PYTEST_ACL_CAPI_LIB", "")
    if not text.strip():
        return None, ""
    from pytest_acl.options import parse_capi_lib

    try:
        return parse_capi_lib(text), "env PYTEST_ACL_CAPI_LIB"
    except ValueError as exc:
        raise BackendUnavailable(f"--acl-capi-lib: invalid value {text!r} (from env "
                                 f"PYTEST_ACL_CAPI_LIB): {exc}") from None


def find() -> Found:
    path, source = _setting()
    try:
        return find_library(path, source)
    except LibraryNotFound as exc:
        raise BackendUnavailable(str(exc)) from None


def _interface_version(library: ctypes.CDLL) -> str:
    """``aclrtGetVersion``'s answer, as pyACL's get_version gives it."""
    major, minor, patch = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
    try:
        function = library.aclrtGetVersion
    except AttributeError:
        return "ACL interface version unknown: no aclrtGetVersion"
    function.restype = ctypes.c_int
    ret = function(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch))
    if ret != 0:
        return f"ACL interface version unknown: aclrtGetVersion returned {ret}"
    return f"ACL interface {major.value}.{minor.value}.{patch.value}"


def load() -> Backend:
    found = find()
    try:
        library = ctypes.CDLL(str(found.path))
    except OSError as exc:
        raise BackendUnavailable(f"cannot open {found.path} ({found.how}): {exc}; give a "
                                 f"libascendcl.so with --acl-capi-lib; {BUILD_HINT}") from None
    simulated = hasattr(library, SIMULATOR_MARKER)
    version = f"libascendcl.so at {found.path} ({found.how}; {_interface_version(library)})"
    from pytest_acl.versions import find_cann_version, find_driver_version

    cann = find_cann_version(acl_file=str(found.path))
    if simulated:
        from pytest_acl.sim import SimConfigError, check_env

        version += " — the pytest-acl simulator's library"
        try:
            cann = check_env().cann  # the release the in-process simulator follows
        except SimConfigError as exc:
            raise BackendUnavailable(f"simulator configuration: {exc}") from None

    def open_module() -> ModuleType:
        from pytest_acl.capi.binding import open_library

        return open_library(found.path)

    return Backend(name="capi", open_module=open_module, version=version, static_soc=None,
                   cann_version=cann, driver_version=None if simulated else find_driver_version(),
                   simulated=simulated)
