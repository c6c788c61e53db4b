"""Simulated device memory (HBM): a fake address space with lazy backing store.

Why each rule is here:

- Device pointers live far above user space (``DEVICE_SPACE_BASE``), so a device pointer can
  never be read as host memory by mistake, and a host pointer is never taken for a device one.
- Addresses are 64-byte aligned, and each allocation really occupies its size rounded up to
  32 bytes plus 32 bytes of padding (reference/acl-api.md §4.5). The padding belongs to the
  allocation, as on the device: a copy may run into it, not past it. No padding for the 1G
  huge-page policies (§4.5) nor for aclrtMallocAlign32 (runtime ``memory.cpp``:
  ``aclrtMallocAlign32Impl`` calls ``aclMallocMemInner(..., isPadding=false, ...)``).
- Addresses are never reused, so a stale pointer after ``free`` is always recognised.
- Backing store is an anonymous ``MAP_NORESERVE`` mapping per allocation: the kernel gives it
  pages only when they are written, so 16 GiB of simulated HBM costs nothing until used.
- Accounting (bytes in use) feeds ``get_mem_info``, so leaks show up the way they do on a card.
"""

from __future__ import annotations

import bisect
import mmap
import threading
from dataclasses import dataclass, field

DEVICE_SPACE_BASE = 0x4000_0000_0000_0000
DEVICE_SPACE_STRIDE = 1 << 44  # one window per device id; capacity is at most 1 TiB
MALLOC_ALIGNMENT = 64
_ROUND = 32
_PADDING = 32
_MAP_NORESERVE = 0x4000  # Linux value on x86-64 and aarch64; mmap does not export it in 3.11
_HUGE_PAGE_THRESHOLD = 4 << 20  # transparent huge pages for large blocks (still lazily backed)


def real_size(size: int, padding: bool = True) -> int:
    """What aclrtMalloc really takes for ``size`` bytes: rounded up to 32, plus 32 (§4.5);
    without ``padding`` only rounded up to 32."""
    return (size + _ROUND - 1) // _ROUND * _ROUND + (_PADDING if padding else 0)


def is_device_address(address: int) -> bool:
    return address >= DEVICE_SPACE_BASE


def device_of(address: int) -> int:
    """The device id whose window holds ``address`` (meaningful for device addresses only)."""
    return (address - DEVICE_SPACE_BASE) // DEVICE_SPACE_STRIDE


@dataclass
class Allocation:
    address: int
    size: int  # what the caller asked for
    extent: int  # what it occupies: real_size(size)
    store: mmap.mmap = field(repr=False)
    accounted: bool = True

    @property
    def end(self) -> int:
        return self.address + self.extent


class OutOfMemory(Exception):
    pass


class DeviceHeap:
    """The memory of one simulated device."""

    def __init__(self, device_id: int, capacity: int) -> None:
        self.device_id = device_id
        self.capacity = capacity
        self._base = DEVICE_SPACE_BASE + device_id * DEVICE_SPACE_STRIDE
        self._next = self._base
        self._starts: list[int] = []
        self._allocations: dict[int, Allocation] = {}
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    @property
    def free_bytes(self) -> int:
        return self.capacity - self._used

    def allocate(self, size: int, padding: bool = True) -> int:
        extent = real_size(size, padding)
        with self._lock:
            if extent > self.capacity - self._used:
                raise OutOfMemory(f"device {self.device_id}: {extent} bytes requested, "
                                  f"{self.capacity - self._used} free")
            address = self._next
            if address + extent > self._base + DEVICE_SPACE_STRIDE:
                raise OutOfMemory(f"device {self.device_id}: address space exhausted")
            store = mmap.mmap(-1, extent, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
                              | _MAP_NORESERVE)
            if extent >= _HUGE_PAGE_THRESHOLD and hasattr(mmap, "MADV_HUGEPAGE"):
                store.madvise(mmap.MADV_HUGEPAGE)  # as NumPy does: 4x faster first writes
            self._allocations[address] = Allocation(address, size, extent, store)
            self._starts.append(address)  # addresses only grow, so the list stays sorted
            self._next = (address + extent + MALLOC_ALIGNMENT - 1) // MALLOC_ALIGNMENT \
                * MALLOC_ALIGNMENT
            self._used += extent
        return address

    def free(self, address: int) -> bool:
        """Release the allocation starting at ``address``; False if there is none."""
        with self._lock:
            allocation = self._allocations.pop(address, None)
            if allocation is None:
                return False
            del self._starts[bisect.bisect_left(self._starts, address)]
            if allocation.accounted:
                self._used -= allocation.extent
        return True

    def set_accounted(self, address: int, accounted: bool) -> None:
        """Count an allocation in ``used`` or not — only for the defect that hides weight
        memory from get_mem_info (defects.py)."""
        with self._lock:
            allocation = self._allocations[address]
            if allocation.accounted != accounted:
                allocation.accounted = accounted
                self._used += allocation.extent if accounted else -allocation.extent

    def find(self, address: int) -> Allocation | None:
        """The live allocation containing ``address``, if any."""
        with self._lock:
            index = bisect.bisect_right(self._starts, address) - 1
            if index < 0:
                return None
            allocation = self._allocations[self._starts[index]]
        return allocation if address < allocation.end else None

    def view(self, address: int, count: int) -> memoryview | None:
        """A view of ``count`` bytes at ``address``, or None when they are not all allocated."""
        allocation = self.find(address)
        if allocation is None or address + count > allocation.end:
            return None
        offset = address - allocation.address
        return memoryview(allocation.store)[offset:offset + count]

    def allocations(self) -> list[Allocation]:
        with self._lock:
            return [self._allocations[start] for start in self._starts]

    def release_all(self) -> None:
        with self._lock:
            self._allocations.clear()
            self._starts.clear()
            self._used = 0
