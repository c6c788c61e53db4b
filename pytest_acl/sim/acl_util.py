"""``acl.util``: host pointers to and from Python objects (reference/acl-api.md §4.2).

Messages, warnings and exception types follow pyACL's ``util/bytes_convert.cpp`` and
``util/numpy_convert.cpp``: a wrong argument count is a TypeError "… args parse failed", a
wrong object a ValueError ("needs an byte as argument", "needs an ndarray as argument"), and
the numpy functions emit a plain ``Warning`` that they "will be deprecated".

These work on host memory only. Given a device pointer or an unmapped address, real pyACL
reads garbage or crashes the process; the simulator raises ``ValueError`` that says so and
what to do instead.
"""

from __future__ import annotations

import ctypes
import warnings
from typing import Any

import numpy as np

from pytest_acl.sim import hostmem
from pytest_acl.sim.devmem import is_device_address
from pytest_acl.sim.pyargs import parse_args

_NUMPY_TYPES = {np.dtype(t).num: np.dtype(t) for t in (
    np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
    np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128)}


def _deprecated(name: str, instead: str) -> None:
    warnings.warn(f"acl.util.{name} will be deprecated. Please use acl.util.{instead} instead.",
                  Warning, stacklevel=3)


def _ndarray(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise ValueError("needs an ndarray as argument")
    return value


def _host_range(name: str, ptr: int, size: int) -> None:
    if is_device_address(ptr):
        raise ValueError(f"{name}: {ptr:#x} is a device pointer; acl.util works on host memory "
                         "only — copy it to the host with acl.rt.memcpy first")
    if ptr == 0 or not hostmem.is_mapped(ptr, size):
        raise ValueError(f"{name}: {ptr:#x}+{size} is not mapped host memory")


class UtilApi:
    """The functions of ``acl.util``; they need no runtime state."""

    def bytes_to_ptr(self, *args: Any) -> int:
        """Address of the bytes' own buffer (no copy); the caller keeps the object alive."""
        (data,) = parse_args("acl.util.bytes_to_ptr", "O", args, {})
        if not isinstance(data, bytes):
            raise ValueError("needs an byte as argument")
        return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0

    def ptr_to_bytes(self, *args: Any) -> bytes:
        """A copy of ``size`` bytes of host memory at ``ptr`` (NULL gives zeros, as
        ``PyBytes_FromStringAndSize(NULL, size)`` does in pyACL)."""
        ptr, size = parse_args("acl.util.ptr_to_bytes", "kk", args, {})
        if ptr == 0 or size == 0:
            return bytes(size)
        _host_range("acl.util.ptr_to_bytes", ptr, size)
        return bytes(hostmem.view(ptr, size))

    def numpy_to_ptr(self, *args: Any) -> int:
        """Address of an ndarray's data; deprecated in pyACL, which warns about it."""
        (value,) = parse_args("acl.util.numpy_to_ptr", "O", args, {})
        _deprecated("numpy_to_ptr", "bytes_to_ptr")
        array = _ndarray(value)
        if not array.flags.c_contiguous:
            warnings.warn("The input ndarray is discontiguous. Please use acl.util.bytes_to_ptr "
                          "instead.", Warning, stacklevel=2)
        return int(array.ctypes.data)

    def numpy_contiguous_to_ptr(self, *args: Any) -> tuple[int, np.ndarray]:
        """``(ptr, array)`` where ``array`` is C-contiguous (copied only if it was not)."""
        (value,) = parse_args("acl.util.numpy_contiguous_to_ptr", "O", args, {})
        _deprecated("numpy_contiguous_to_ptr", "bytes_to_ptr")
        contiguous = np.ascontiguousarray(_ndarray(value))
        return int(contiguous.ctypes.data), contiguous

    def ptr_to_numpy(self, *args: Any) -> np.ndarray:
        """An ndarray viewing host memory at ``ptr`` (no copy); ``npy_type`` is a NumPy type
        number such as ``np.dtype(np.float32).num``. The shape ``()`` gives a 0-d array of one
        element (cann-behaviour.md §9)."""
        ptr, shape, npy_type = parse_args("acl.util.ptr_to_numpy", "kOi", args, {})
        _deprecated("ptr_to_numpy", "ptr_to_bytes")
        if not isinstance(shape, tuple):  # numpy_convert.cpp: PyTuple_Size fails, "is empty"
            raise ValueError("shape is empty")
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise TypeError("the second argument is not list of int")
        dtype = _NUMPY_TYPES.get(npy_type)
        if dtype is None:
            raise ValueError(f"acl.util.ptr_to_numpy: {npy_type} is not a supported NumPy "
                             f"type number; use one of {sorted(_NUMPY_TYPES)}")
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes == 0:
            return np.empty(shape, dtype)
        _host_range("acl.util.ptr_to_numpy", ptr, nbytes)
        return np.frombuffer(hostmem.view(ptr, nbytes), dtype=dtype).reshape(shape)
