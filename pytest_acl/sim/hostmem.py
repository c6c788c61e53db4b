"""Host memory, as pyACL sees it: real addresses of this process.

pyACL hands out real host addresses (``malloc_host``, ``bytes_to_ptr``, ``numpy_to_ptr``) and
copies from any address a program passes (reference/acl-api.md §4.1). A wrong address there
crashes a real pyACL program; the simulator instead checks that the whole range is mapped
(one ``mincore`` call, which fails with ENOMEM on any unmapped page) and refuses it with an
error code, so a bad pointer in a test is a failed assertion, not a dead interpreter.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import threading

_PAGE = mmap.PAGESIZE
# The process's own symbols, libc's among them: ctypes.util.find_library would run
# ``ldconfig -p`` in a child process in every process that imports the simulator.
_libc = ctypes.CDLL(None, use_errno=True)
_mincore = getattr(_libc, "mincore", None)
if _mincore is not None:
    _mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
    _mincore.restype = ctypes.c_int
# User-space addresses end below 2**47 on x86-64 and 2**48 on aarch64; anything above can
# never be host memory (the simulator's device addresses live there, see devmem.py).
_USER_SPACE_END = 1 << 48
_WINDOW = 4096  # pages per mincore call
# The most malloc_host hands out in one block: the host's physical memory.
try:
    HOST_LIMIT = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):  # not POSIX: a generous bound
    HOST_LIMIT = 1 << 40


def is_mapped(address: int, size: int) -> bool:
    """True when every byte of ``[address, address + size)`` lies in mapped host memory."""
    if address <= 0 or size < 0 or address + size > _USER_SPACE_END:
        return False
    if size == 0:
        return True
    start = address - address % _PAGE
    length = address + size - start
    if _mincore is None:  # not Linux-like: trust the caller, as pyACL does
        return True
    # in windows of _WINDOW pages: the check takes O(1) memory whatever the size, and a
    # range that runs off its mapping fails in the first window that leaves it
    vec = ctypes.create_string_buffer(_WINDOW)
    end = start + length
    while start < end:
        step = min(end - start, _WINDOW * _PAGE)
        if _mincore(start, step, vec) != 0:
            return False
        start += step
    return True


def view(address: int, size: int) -> memoryview:
    """A writable view of host memory; the caller has checked it with :func:`is_mapped`."""
    return memoryview((ctypes.c_char * size).from_address(address)).cast("B")


class HostAllocations:
    """Blocks from ``malloc_host``: page-aligned, zero-filled, owned until ``free_host``."""

    def __init__(self) -> None:
        self._blocks: dict[int, mmap.mmap] = {}
        self._lock = threading.Lock()

    def allocate(self, size: int) -> int | None:
        """A new block's address, or None when the host cannot provide ``size`` bytes."""
        if size > HOST_LIMIT:
            return None
        try:
            block = mmap.mmap(-1, size)
        except (OSError, OverflowError, MemoryError):
            return None
        address = ctypes.addressof(ctypes.c_char.from_buffer(block))
        with self._lock:
            self._blocks[address] = block
        return address

    def view(self, address: int, size: int) -> memoryview | None:
        """A view of ``[address, address + size)`` when it lies in one live block, else None.

        The view is taken from the block's own mapping, so while it lives (e.g. in a copy
        queued on a stream) ``free`` cannot unmap the block: a ``free_host`` before the stream
        is synchronized leaves the copy writing to memory that is still mapped instead of
        killing the interpreter."""
        with self._lock:
            for start, block in self._blocks.items():
                if start <= address and address + size <= start + len(block):
                    return memoryview(block)[address - start:address - start + size]
        return None

    def free(self, address: int) -> bool:
        """Release a block; False when ``address`` is not the start of a live block."""
        with self._lock:
            block = self._blocks.pop(address, None)
        if block is None:
            return False
        # A view from view() may still live (a queued copy): then GC unmaps it later.
        with contextlib.suppress(BufferError):
            block.close()
        return True

    def count(self) -> int:
        return len(self._blocks)

    def total_bytes(self) -> int:
        return sum(len(block) for block in self._blocks.values())

    def release_all(self) -> None:
        for address in list(self._blocks):
            self.free(address)
