"""``acl.util``: host pointers to and from Python objects (reference/acl-api.md §4.2), and the
thread helpers of the callback path (``start_thread``/``stop_thread``, callbacks.py).

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
from pytest_acl.sim.callbacks import UtilThreads
from pytest_acl.sim.devmem import is_device_address
from pytest_acl.sim.pyargs import parse_args, parses_own

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


def _cpython_parse(name: str, count: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The TypeErrors CPython itself raises for a METH_VARARGS function whose pyACL wrapper
    lets PyArg_ParseTuple's own error through (Objects/methodobject.c ``cfunction_call``,
    Python/getargs.c ``vgetargs1_impl``: the format has no ":name", hence "function")."""
    if kwargs:
        raise TypeError(f"{name.rsplit('.', 1)[-1]}() takes no keyword arguments")
    if len(args) != count:
        raise TypeError(f"function takes exactly {count} arguments ({len(args)} given)")


class UtilApi:
    """The functions of ``acl.util``; the thread helpers keep their threads in ``threads``
    (the runtime's, so the leak check sees them)."""

    def __init__(self, threads: UtilThreads) -> None:
        self._threads = threads

    @parses_own("acl.util.start_thread", "OO", outputs=1)
    def start_thread(self, *args: Any, **kwargs: Any) -> tuple[int, int]:
        """``(tid, ret)``: a thread running ``fn(args)`` (``fn()`` if ``args`` is None).

        pyACL util/thread.cpp ``WrapStartThread`` (cann-behaviour.md §9): format "OO" — and a
        failed parse only logs "acl.util.start_thread args parse failed", so the TypeError is
        CPython's own; a non-callable ``fn`` → TypeError "parameter must be callable"; ``ret``
        is pthread_create's answer. ``tid`` is what acl.rt.subscribe_report takes."""
        _cpython_parse("acl.util.start_thread", 2, args, kwargs)
        fn, fn_args = args
        if not callable(fn):
            raise TypeError("parameter must be callable")
        return self._threads.start(fn, fn_args), 0

    @parses_own("acl.util.stop_thread", "K")
    def stop_thread(self, *args: Any) -> int:
        """``ret``: waits for the thread to end (pthread_join, the GIL released). If ``fn``
        raised, its traceback was printed then and this raises RuntimeError
        "exception=<type>,msg=thread call failed;" (util/thread.cpp ``WrapStopThread``)."""
        (tid,) = parse_args("acl.util.stop_thread", "K", args, {})
        return self._threads.stop(tid)

    @parses_own("acl.util.bytes_to_ptr", "O", returns_ret=False)
    def bytes_to_ptr(self, *args: Any) -> int:
        """Address of the bytes' own buffer (no copy); the caller keeps the object alive."""
        (data,) = parse_args("acl.util.bytes_to_ptr", "O", args, {})
        if not isinstance(data, bytes):
            raise ValueError("needs an byte as argument")
        return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0

    @parses_own("acl.util.ptr_to_bytes", "kk", returns_ret=False)
    def ptr_to_bytes(self, *args: Any) -> bytes:
        """A copy of ``size`` bytes of host memory at ``ptr`` (NULL gives zeros, as
        ``PyBytes_FromStringAndSize(NULL, size)`` does in pyACL)."""
        ptr, size = parse_args("acl.util.ptr_to_bytes", "kk", args, {})
        if ptr == 0 or size == 0:
            return bytes(size)
        _host_range("acl.util.ptr_to_bytes", ptr, size)
        return bytes(hostmem.view(ptr, size))

    @parses_own("acl.util.numpy_to_ptr", "O", returns_ret=False)
    def numpy_to_ptr(self, *args: Any) -> int:
        """Address of an ndarray's data; deprecated in pyACL, which warns about it."""
        (value,) = parse_args("acl.util.numpy_to_ptr", "O", args, {})
        _deprecated("numpy_to_ptr", "bytes_to_ptr")
        array = _ndarray(value)
        if not array.flags.c_contiguous:
            warnings.warn("The input ndarray is discontiguous. Please use acl.util.bytes_to_ptr "
                          "instead.", Warning, stacklevel=2)
        return int(array.ctypes.data)

    @parses_own("acl.util.numpy_contiguous_to_ptr", "O", returns_ret=False)
    def numpy_contiguous_to_ptr(self, *args: Any) -> tuple[int, np.ndarray]:
        """``(ptr, array)`` where ``array`` is C-contiguous (copied only if it was not)."""
        (value,) = parse_args("acl.util.numpy_contiguous_to_ptr", "O", args, {})
        _deprecated("numpy_contiguous_to_ptr", "bytes_to_ptr")
        contiguous = np.ascontiguousarray(_ndarray(value))
        return int(contiguous.ctypes.data), contiguous

    @parses_own("acl.util.ptr_to_numpy", "kOi", returns_ret=False)
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
