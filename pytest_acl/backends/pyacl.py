"""The ``pyacl`` backend: CANN's own ``import acl``, imported only when asked for.

pyACL offers no way to count live contexts and streams, so the leak check uses what the
interposition layer counts (``Backend.snapshot`` left None; results/calls.py): the handles
passing through ``acl.rt.create_*``/``destroy_*`` and the HBM in use from
``acl.rt.get_mem_info(ACL_HBM_MEM)`` of the current context.
"""

from __future__ import annotations

import importlib

from pytest_acl.backends import Backend, BackendUnavailable

INSTALL_HINT = (
    "install the CANN toolkit (it ships pyACL, the Python module 'acl') and source its "
    "environment before running pytest, e.g. 'source /usr/local/Ascend/ascend-toolkit/set_env.sh'"
    "; without an NPU use --acl-backend sim")


def load() -> Backend:
    try:
        real = importlib.import_module("acl")
    except ImportError as exc:
        raise BackendUnavailable(f"the pyacl backend cannot import 'acl' ({exc}): "
                                 f"{INSTALL_HINT}") from None
    if getattr(real, "rt", None) is None:
        where = getattr(real, "__file__", None)
        raise BackendUnavailable(f"the module 'acl' found at {where} is not pyACL (it has no "
                                 f"acl.rt): {INSTALL_HINT}")
    try:
        major, minor, patch, _ = real.get_version()
        version = f"pyACL (ACL interface {major}.{minor}.{patch})"
    except Exception as exc:  # an old pyACL without get_version still works as a backend
        version = f"pyACL (version unknown: {exc})"
    simulated = getattr(real, "__simulator__", None) is not None
    if simulated:
        version += " — the pytest-acl simulator, via run-sim"

    from pytest_acl.versions import find_cann_version, find_driver_version

    return Backend(name="pyacl", open_module=lambda: real, version=version, static_soc=None,
                   cann_version=find_cann_version(acl_file=getattr(real, "__file__", None)),
                   driver_version=find_driver_version(), simulated=simulated)
