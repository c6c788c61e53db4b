"""aclrtMemcpy / aclrtMemset: argument checks now, the copy itself now or on a stream.

``plan_copy`` and ``plan_fill`` validate what the ACL layer and the runtime validate at call
time, in their order, and return the data movement as a callable (None when nothing moves).
``memcpy`` runs it at once; ``memcpy_async`` queues it on a stream, so a bad argument is an
immediate error code and the data moves in stream order.

Order and codes (runtime memory.cpp / api_error.cc, summarised from the open-source CANN
runtime; reference/acl-api.md §3.1 for the first two):
count 0 → success before anything else; NULL dst/src → 100000; kind outside
HOST_TO_HOST..HOST_TO_BUF_TO_DEVICE → 100000; count > dest_max → 107000; no current context →
107002; dst == src → success without copying. The kind is not checked against where the
memory is (the runtime infers the direction, §4.4).

Where memory is decides what is legal: an address in the simulator's device window must lie
inside one live allocation (its extent, padding included — §4.5); any other address must be
mapped host memory of this process (see hostmem.py). On a card either mistake is a driver
fault with no documented code; the simulator answers 107000 (RT_PARAM_INVALID, what the
driver's DRV_ERROR_INVALID_VALUE maps to) — a simulator choice, UNCONFIRMED on hardware.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_acl.constants import AclError, MemcpyKind
from pytest_acl.sim import hostmem
from pytest_acl.sim.devmem import is_device_address
from pytest_acl.sim.pyargs import AclFail
from pytest_acl.sim.runtime import Runtime

E = AclError
_VALID_KINDS = range(MemcpyKind.ACL_MEMCPY_HOST_TO_HOST,
                     MemcpyKind.ACL_MEMCPY_HOST_TO_BUF_TO_DEVICE + 1)
_FILL_CHUNK = 1 << 20


class Copier:
    """Validates and performs copies and fills against one runtime's memory."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def _memory(self, address: int, count: int, role: str) -> memoryview:
        if is_device_address(address):
            heap = self._rt.heap_of(address)
            view = heap.view(address, count) if heap is not None else None
            if view is None:
                raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                              f"{role} {address:#x}+{count} is not inside one live device "
                              "allocation")
            return view
        pinned = self._rt.host.view(address, count)  # malloc_host memory: keeps it mapped
        if pinned is not None:
            return pinned
        if not hostmem.is_mapped(address, count):
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"{role} {address:#x}+{count} is not mapped host memory")
        return hostmem.view(address, count)

    def plan_copy(self, dst: int, dest_max: int, src: int, count: int,
                  kind: int) -> Callable[[], None] | None:
        if count == 0:
            return None
        if dst == 0 or src == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "memcpy with a NULL dst or src")
        if kind not in _VALID_KINDS:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"memcpy kind {kind} is unknown")
        if count > dest_max:
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"count {count} is larger than dest_max {dest_max}")
        self._rt.current_context()
        if dst == src:
            return None
        target = self._memory(dst, count, "dst")
        source = self._memory(src, count, "src")

        def copy() -> None:
            if dst < src + count and src < dst + count:  # overlapping: go through a copy
                target[:] = bytes(source)
            else:
                target[:] = source

        return copy

    def plan_fill(self, address: int, max_count: int, value: int,
                  count: int) -> Callable[[], None] | None:
        """aclrtMemset: count 0 → success first; NULL → 100000; count > max_count → 107000.
        Host or device memory, told apart by the address; only the low byte of value counts."""
        if count == 0:
            return None
        if address == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "memset of NULL")
        if count > max_count:
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"count {count} is larger than max_count {max_count}")
        self._rt.current_context()
        target = self._memory(address, count, "dst")
        chunk = bytes([value & 0xFF]) * min(count, _FILL_CHUNK)

        def fill() -> None:
            for offset in range(0, count, len(chunk)):
                piece = target[offset:offset + len(chunk)]
                piece[:] = chunk[:len(piece)]

        return fill
