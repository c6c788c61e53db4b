"""The ``pyacl`` backend: CANN's own ``import acl``, imported only when asked for.

pyACL offers no way to count live contexts and streams, so the backend hands out a thin
proxy that counts what passes through ``acl.rt.create_*``/``destroy_*``; device memory in use
comes from ``acl.rt.get_mem_info(ACL_HBM_MEM)`` of the current context.
"""

from __future__ import annotations

import importlib
import threading
import types
from typing import Any

from pytest_acl.backends import Backend, BackendUnavailable
from pytest_acl.constants import MemAttr

INSTALL_HINT = (
    "install the CANN toolkit (it ships pyACL, the Python module 'acl') and source its "
    "environment before running pytest, e.g. 'source /usr/local/Ascend/ascend-toolkit/set_env.sh'"
    "; without an NPU use --acl-backend sim")
_COUNTED = {"create_context": ("contexts", +1), "destroy_context": ("contexts", -1),
            "create_stream": ("streams", +1), "destroy_stream": ("streams", -1)}


class _CountingRt(types.ModuleType):
    """``acl.rt`` with the live context/stream handles counted; everything else passes."""

    def __init__(self, rt: Any) -> None:
        super().__init__(getattr(rt, "__name__", "acl.rt"))
        self._rt = rt
        self.live: dict[str, set[int]] = {"contexts": set(), "streams": set()}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._rt, name)
        if name not in _COUNTED:
            return target
        kind, direction = _COUNTED[name]

        def counted(*args: Any) -> Any:
            result = target(*args)
            with self._lock:
                if direction > 0 and result[-1] == 0:
                    self.live[kind].add(result[0])
                elif direction < 0 and result == 0 and args:
                    self.live[kind].discard(args[0])
            return result

        return counted


class _CountingAcl(types.ModuleType):
    def __init__(self, acl: Any) -> None:
        super().__init__(getattr(acl, "__name__", "acl"))
        self._acl = acl
        self.rt = _CountingRt(acl.rt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._acl, name)


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
    module = _CountingAcl(real)
    try:
        major, minor, patch, _ = real.get_version()
        version = f"pyACL (ACL interface {major}.{minor}.{patch})"
    except Exception as exc:  # an old pyACL without get_version still works as a backend
        version = f"pyACL (version unknown: {exc})"
    if getattr(real, "__simulator__", None) is not None:
        version += " — the pytest-acl simulator, via run-sim"

    def snapshot() -> dict[str, int]:
        counts = {kind: len(handles) for kind, handles in module.rt.live.items()}
        device, ret = real.rt.get_device()
        if ret == 0:
            free, total, ret = real.rt.get_mem_info(MemAttr.ACL_HBM_MEM)
            if ret == 0:
                counts[f"device{device}.bytes_in_use"] = total - free
        return counts

    from pytest_acl.versions import find_cann_version, find_driver_version

    versions = {"cann_version": find_cann_version(acl_file=getattr(real, "__file__", None)),
                "driver_version": find_driver_version()}
    return Backend(name="pyacl", open_module=lambda: module, version=version,
                   static_soc=None, snapshot=snapshot, extra=versions)
