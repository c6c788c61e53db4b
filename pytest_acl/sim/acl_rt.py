"""``acl.rt``: devices, contexts, streams and memory, with pyACL's signatures (§4.2).

Each function parses its arguments as pyACL does and returns pyACL's shape; the rules and the
error codes live in :mod:`pytest_acl.sim.runtime` and :mod:`pytest_acl.sim.copies`.
No function here checks that ``acl.init`` ran: CANN's aclrt* calls do not either (they
forward to the runtime, which only needs a current context), so before init they behave as
after it — e.g. ``malloc`` without a device gives 107002, never 100001.
"""

from __future__ import annotations

import threading
from typing import Any

from pytest_acl.constants import AclError, CallbackBlockType, MemAttr, MemMallocPolicy, RunMode
from pytest_acl.sim.copies import Copier
from pytest_acl.sim.pyargs import AclFail, pyacl, raised_by_pyacl
from pytest_acl.sim.runtime import Runtime

E = AclError
STREAM_PRIORITY_LEAST, STREAM_PRIORITY_GREATEST = 7, 0
_HBM_ATTRS = {MemAttr.ACL_HBM_MEM, MemAttr.ACL_HBM_MEM_HUGE, MemAttr.ACL_HBM_MEM_NORMAL,
              MemAttr.ACL_HBM_MEM_P2P_HUGE, MemAttr.ACL_HBM_MEM_P2P_NORMAL}
_HUGE1G_POLICIES = {MemMallocPolicy.ACL_MEM_MALLOC_HUGE1G_ONLY,
                    MemMallocPolicy.ACL_MEM_MALLOC_HUGE1G_ONLY_P2P}


class RtApi:
    """The functions of ``acl.rt`` bound to one simulated runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._copier = Copier(runtime)

    # -- devices -----------------------------------------------------------------------------
    @pyacl("acl.rt.set_device", "i")
    def set_device(self, device_id: int) -> None:
        self._rt.set_device(device_id)

    @pyacl("acl.rt.reset_device", "i")
    def reset_device(self, device_id: int) -> None:
        self._rt.reset_device(device_id)

    @pyacl("acl.rt.get_device", "", outputs=1, parses_args=False)
    def get_device(self) -> int:
        return self._rt.current_device()

    @pyacl("acl.rt.get_device_count", "", outputs=1, parses_args=False)
    def get_device_count(self) -> int:
        return len(self._rt.devices)

    @pyacl("acl.rt.get_run_mode", "", outputs=1, parses_args=False)
    def get_run_mode(self) -> int:
        """Always ACL_HOST: the simulated cards are EP devices in a host (§4.4)."""
        return RunMode.ACL_HOST.value

    # -- contexts ----------------------------------------------------------------------------
    @pyacl("acl.rt.create_context", "i", outputs=1)
    def create_context(self, device_id: int) -> int:
        return self._rt.create_context(device_id)

    @pyacl("acl.rt.destroy_context", "k")
    def destroy_context(self, context: int) -> None:
        self._rt.destroy_context(context)

    @pyacl("acl.rt.set_context", "k")
    def set_context(self, context: int) -> None:
        self._rt.set_context(context)

    @pyacl("acl.rt.get_context", "", outputs=1, parses_args=False)
    def get_context(self) -> int:
        return self._rt.current_context().handle

    # -- streams -----------------------------------------------------------------------------
    @pyacl("acl.rt.create_stream", "", outputs=1, parses_args=False)
    def create_stream(self) -> int:
        return self._rt.create_stream()

    @pyacl("acl.rt.destroy_stream", "k")
    def destroy_stream(self, stream: int) -> None:
        self._rt.destroy_stream(stream)

    @pyacl("acl.rt.synchronize_stream", "k")
    def synchronize_stream(self, stream: int) -> int:
        """Waits for every task queued so far, a blocking callback's run included. Called by
        the very thread that must run such a callback it would never return (a real NPU
        deadlocks): the simulator raises RuntimeError instead (callbacks.py)."""
        return self._rt.synchronize_stream(stream)

    @pyacl("acl.rt.synchronize_device", "", parses_args=False)
    def synchronize_device(self) -> int:
        return self._rt.synchronize_device()

    # -- host callbacks (callbacks.py; cann-behaviour.md §9; pyACL rt/rt_synchronize.cpp) ---
    @pyacl("acl.rt.subscribe_report", "Kk")
    def subscribe_report(self, thread_id: int, stream: int) -> None:
        """Thread ``thread_id`` will run the callbacks launched on ``stream`` (NULL: the
        current context's default stream). No current context is needed for a non-NULL
        stream (``ApiImpl::SubscribeReport``); the thread id is not checked."""
        target = self._rt.stream(stream)
        self._rt.reports.subscribe(thread_id, target, self._rt.stream_device(target))

    @pyacl("acl.rt.unsubscribe_report", "Kk")
    def unsubscribe_report(self, thread_id: int, stream: int) -> None:
        self._rt.reports.unsubscribe(thread_id, self._rt.stream(stream))

    @pyacl("acl.rt.process_report", "i")
    def process_report(self, timeout: int) -> None:
        """Runs, on the calling thread, the callbacks reported to it; waits up to ``timeout``
        ms (-1: forever) for the first. 0 and values below -1 → 100000
        (``aclrtProcessReportImpl``); a thread with no subscription → 107012; nothing within
        the timeout → 507012. A callback that raised makes it raise SystemError (callbacks.py)."""
        if timeout < -1 or timeout == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"process_report timeout {timeout}: -1 (forever) or > 0 ms")
        self._rt.reports.process(threading.get_ident(), timeout)

    @pyacl("acl.rt.launch_callback", "OOik")
    def launch_callback(self, fn: Any, user_data: Any, block_type: int, stream: int) -> None:
        """Queues ``fn(user_data)`` on ``stream`` for its subscribed thread. Checks in CANN's
        order: callable (TypeError, pyACL), block type 0/1 (100000), the stream handle
        (107017), a current context (107002), the stream in it (107003), a subscribed thread
        (107015)."""
        if not callable(fn):
            raise raised_by_pyacl(TypeError("parameter must be callable"))
        if block_type not in (CallbackBlockType.ACL_CALLBACK_NO_BLOCK,
                              CallbackBlockType.ACL_CALLBACK_BLOCK):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"block_type {block_type}: ACL_CALLBACK_NO_BLOCK (0) or "
                          "ACL_CALLBACK_BLOCK (1)")
        target = self._rt.stream_in_current_context(stream)
        block = block_type == CallbackBlockType.ACL_CALLBACK_BLOCK
        target.submit(self._rt.reports.launch(target, fn, user_data, block))

    # -- memory ------------------------------------------------------------------------------
    @pyacl("acl.rt.malloc", "ki", outputs=1)
    def malloc(self, size: int, policy: int) -> int:
        """Any policy value is accepted: one outside the enum means "huge if ≥ 2 MB" (§4.5).
        The 1G huge-page policies get no padding (§4.5; memory.cpp ``aclMallocMemInner``)."""
        return self._rt.malloc(size, padding=policy not in _HUGE1G_POLICIES)

    @pyacl("acl.rt.malloc_align32", "ki", outputs=1)
    def malloc_align32(self, size: int, policy: int) -> int:
        """Rounded up to 32 bytes without padding (memory.cpp ``aclrtMallocAlign32Impl``)."""
        return self._rt.malloc(size, padding=False)

    @pyacl("acl.rt.malloc_cached", "ki", outputs=1)
    def malloc_cached(self, size: int, policy: int) -> int:
        """Padded as ``malloc`` (memory.cpp ``aclrtMallocCachedImpl``)."""
        return self._rt.malloc(size, padding=policy not in _HUGE1G_POLICIES)

    @pyacl("acl.rt.free", "k")
    def free(self, dev_ptr: int) -> None:
        self._rt.free(dev_ptr)

    @pyacl("acl.rt.malloc_host", "k", outputs=1)
    def malloc_host(self, size: int) -> int:
        if size == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "aclrtMallocHost size must be > 0")
        address = self._rt.host.allocate(size)
        if address is None:  # more than the host has (size is unsigned: -1 is 2^64-1)
            raise AclFail(E.ACL_ERROR_RT_MEMORY_ALLOCATION,
                          f"aclrtMallocHost({size}): the host cannot provide that much")
        return address

    @pyacl("acl.rt.free_host", "k")
    def free_host(self, host_ptr: int) -> None:
        if host_ptr == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "aclrtFreeHost(NULL)")
        if not self._rt.host.free(host_ptr):  # HostFree: PtrGetAttributes fails → 107000
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"{host_ptr:#x} was not returned by malloc_host")

    @pyacl("acl.rt.memcpy", "kkkki")
    def memcpy(self, dst: int, dest_max: int, src: int, count: int, kind: int) -> None:
        copy = self._copier.plan_copy(dst, dest_max, src, count, kind)
        if copy is not None:
            copy()

    @pyacl("acl.rt.memcpy_async", "kkkkik")
    def memcpy_async(self, dst: int, dest_max: int, src: int, count: int, kind: int,
                     stream: int) -> None:
        """A NULL stream is the default stream; the stream must be in the current context."""
        copy = self._copier.plan_copy(dst, dest_max, src, count, kind)
        if copy is not None:
            self._rt.stream_in_current_context(stream).submit(copy)

    @pyacl("acl.rt.memset", "kkik")
    def memset(self, dev_ptr: int, max_count: int, value: int, count: int) -> None:
        fill = self._copier.plan_fill(dev_ptr, max_count, value, count)
        if fill is not None:
            fill()

    @pyacl("acl.rt.device_get_stream_priority_range", "", outputs=2, parses_args=False)
    def device_get_stream_priority_range(self) -> tuple[int, int]:
        """(least, greatest): 0 is the highest priority, 7 the lowest (the docs' [0, 7];
        UNCONFIRMED per product). Config loading checks ACL_MDL_PRIORITY_INT32 against it
        (cann-behaviour.md §7)."""
        return STREAM_PRIORITY_LEAST, STREAM_PRIORITY_GREATEST

    @pyacl("acl.rt.get_mem_info", "i", outputs=2)
    def get_mem_info(self, attr: int) -> tuple[int, int]:
        """HBM attributes report the device's HBM; the simulated SoC has no device DDR, so DDR
        attributes report 0 free of 0 (UNCONFIRMED against a real 910B). An attribute outside
        the enum → 107016 (MemGetInfoEx), no current context → 107002."""
        if attr not in {int(a) for a in MemAttr}:
            raise AclFail(E.ACL_ERROR_RT_INVALID_MEMORY_TYPE, f"memory attribute {attr} is unknown")
        device = self._rt.devices[self._rt.current_device()]
        if attr in _HBM_ATTRS:
            return device.heap.free_bytes, device.heap.capacity
        return 0, 0
