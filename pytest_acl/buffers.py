"""Device and host buffers handed out by the ``device_memory`` / ``host_memory`` fixtures.

A device buffer sits between two guard regions filled with a canary pattern. The guards are
part of one ``acl.rt.malloc`` allocation, so a write that runs past the buffer lands in a
guard instead of faulting, and the fixture reports it at teardown: a conformance suite must
notice when an implementation writes outside the memory it was given (DESIGN.md, "Oracles").
Everything goes through the backend's pyACL functions, so it works the same on a card.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported when a buffer is used, not when the plugin loads
    import numpy as np

from pytest_acl.constants import MemcpyKind, describe

GUARD_BYTES = 64  # keeps the user pointer 64-byte aligned, like aclrtMalloc's own result
CANARY = bytes((0xA5 ^ (i * 7)) & 0xFF for i in range(GUARD_BYTES))


class AclCallError(AssertionError):
    """A pyACL call the fixture relied on returned an error code."""


def check(ret: int, what: str) -> None:
    if ret != 0:
        raise AclCallError(f"{what} returned {describe(ret)}")


def _host_array(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    import numpy as np

    return np.ascontiguousarray(np.frombuffer(data, np.uint8) if not isinstance(
        data, np.ndarray) else data).reshape(-1).view(np.uint8)


def copy_to_device(acl: ModuleType, address: int, capacity: int,
                   data: bytes | bytearray | memoryview | np.ndarray) -> None:
    host = _host_array(data)
    if host.nbytes:
        check(acl.rt.memcpy(address, capacity, host.ctypes.data, host.nbytes,
                            MemcpyKind.ACL_MEMCPY_HOST_TO_DEVICE), "acl.rt.memcpy (H2D)")


def copy_from_device(acl: ModuleType, address: int, size: int) -> bytes:
    import numpy as np

    host = np.empty(size, np.uint8)
    if size:
        check(acl.rt.memcpy(host.ctypes.data, size, address, size,
                            MemcpyKind.ACL_MEMCPY_DEVICE_TO_HOST), "acl.rt.memcpy (D2H)")
    return host.tobytes()


@dataclass
class DeviceBuffer:
    """``size`` bytes of device memory at ``ptr``, guarded on both sides by canaries.

    Do not pass ``ptr`` to ``acl.rt.free``: the fixture owns the allocation."""

    acl: ModuleType
    ptr: int
    size: int
    base: int  # the allocation, guards included

    def write(self, data: bytes | bytearray | memoryview | np.ndarray, offset: int = 0) -> None:
        """Copy host data into the buffer (H2D) at ``offset``."""
        copy_to_device(self.acl, self.ptr + offset, self.size - offset, data)

    def read(self, size: int | None = None, offset: int = 0) -> bytes:
        """Copy ``size`` bytes (default: all) out of the buffer (D2H)."""
        return copy_from_device(self.acl, self.ptr + offset,
                                self.size - offset if size is None else size)

    def arm_guards(self) -> None:
        copy_to_device(self.acl, self.base, GUARD_BYTES, CANARY)
        copy_to_device(self.acl, self.ptr + self.size, GUARD_BYTES, CANARY)

    def damaged_guards(self) -> list[str]:
        """One line per guard whose canary changed, with the first and last bad offsets."""
        problems = []
        for side, start in (("before", self.base), ("after", self.ptr + self.size)):
            seen = copy_from_device(self.acl, start, GUARD_BYTES)
            bad = [i for i, (a, b) in enumerate(zip(seen, CANARY, strict=True)) if a != b]
            if bad:
                where = (f"{GUARD_BYTES - bad[-1]} to {GUARD_BYTES - bad[0]} bytes before its "
                         "start" if side == "before" else
                         f"{bad[0] + 1} to {bad[-1] + 1} bytes past its end")
                problems.append(f"device buffer {self.ptr:#x} ({self.size} bytes): canary "
                                f"{side} the buffer overwritten, {where}")
        return problems


@dataclass
class HostBuffer:
    """``size`` bytes of host memory from ``acl.rt.malloc_host`` at ``ptr``."""

    acl: ModuleType
    ptr: int
    size: int

    def write(self, data: bytes | bytearray | memoryview | np.ndarray, offset: int = 0) -> None:
        host = _host_array(data)
        if offset + host.nbytes > self.size:
            raise ValueError(f"{host.nbytes} bytes at offset {offset} do not fit in "
                             f"{self.size} bytes")
        ctypes.memmove(self.ptr + offset, host.ctypes.data, host.nbytes)

    def read(self, size: int | None = None, offset: int = 0) -> bytes:
        count = self.size - offset if size is None else size
        if offset + count > self.size:
            raise ValueError(f"{count} bytes at offset {offset} exceed {self.size} bytes")
        return ctypes.string_at(self.ptr + offset, count)
