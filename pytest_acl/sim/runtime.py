"""The simulator's runtime state: initialisation, devices, contexts, streams, memory.

This layer knows the rules and raises :class:`AclFail` with the code CANN returns; the pyACL
surface (``acl_*.py``) only parses arguments and shapes return values. Sources of each rule:
reference/acl-api.md §5.13 (aclInit/aclFinalize reference counting), §3.1 (codes), §4.5
(aclrtMalloc), DESIGN.md "The simulator" (contexts per thread, default context on set_device).
A device lost in a crash (defect crash_loses_device, faults.py) cannot be set again: 507033.
Callback subscriptions (callbacks.py) end with their stream: destroy_stream, the context's or
device's teardown and aclFinalize remove them (stream.cc ``UnsubscribeStreamReportOnTearDown``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pytest_acl.constants import AclError
from pytest_acl.sim.callbacks import Reports, UtilThreads, check_no_deadlock
from pytest_acl.sim.config import SimConfig
from pytest_acl.sim.defects import Defects
from pytest_acl.sim.devmem import DeviceHeap, OutOfMemory, device_of, is_device_address
from pytest_acl.sim.faultpoints import FaultPoints
from pytest_acl.sim.faults import Machine
from pytest_acl.sim.handles import HandleTable, Kind
from pytest_acl.sim.hostmem import HostAllocations
from pytest_acl.sim.pyargs import AclFail
from pytest_acl.sim.releases import release
from pytest_acl.sim.streams import Stream

E = AclError
_ROUND_UP_APPEND = 32  # DATA_MEMORY_ALIGN_SIZE (runtime memory.cpp)
_PADDING_APPEND = 32  # DATA_MEMORY_PADDING_SIZE, the default padding (runtime memory.cpp)


@dataclass
class Context:
    handle: int
    device_id: int
    is_default: bool
    streams: set[int] = field(default_factory=set)
    default_stream: Stream | None = None


@dataclass
class Device:
    device_id: int
    heap: DeviceHeap
    set_count: int = 0  # aclrtSetDevice calls not yet matched by aclrtResetDevice
    default_context: int = 0


class Runtime:
    """All state of one simulated process's AscendCL runtime."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.release = release(config.cann)  # the CANN release whose rules apply
        self.lock = threading.RLock()
        self.init_count = 0
        self.finalized = False
        self.devices = [Device(i, DeviceHeap(i, config.hbm_bytes))
                        for i in range(config.device_count)]
        self.handles = HandleTable()
        self.host = HostAllocations()
        self._thread = threading.local()
        # Called by aclFinalize before device memory goes: the model manager's release, …
        self.release_hooks: list[Callable[[], None]] = []
        # Extra live-resource counters for the leak check (name → count function).
        self.counters: dict[str, Callable[[], int]] = {}
        # Called with (start, end) of a device allocation about to be freed (the sanitizer).
        self.free_hooks: list[Callable[[int, int], None]] = []
        from pytest_acl.sim.sanitizer import Sanitizer

        self.sanitizer = Sanitizer("off")  # replaced by the Simulator's
        self.defects = Defects()  # the Simulator's switched-on defects (replaced by its own)
        self.faults = FaultPoints(self)  # where they act (faultpoints.py)
        self.machine = Machine()  # replaced by the Simulator's
        self.reports = Reports()  # callback subscriptions and reports (acl.rt.*_report)
        self.threads = UtilThreads()  # acl.util.start_thread's; aclFinalize leaves them alone

    # -- aclInit / aclFinalize (reference §5.13; runtime acl.cpp) ---------------------------
    # aclInit counts; aclFinalize ignores the count and is refused only when it already ran
    # ("finalized" starts False, so a first aclFinalize without aclInit succeeds);
    # aclFinalizeReference decrements, the last one finalizes, and at 0 it is refused.
    def init(self) -> int:
        with self.lock:
            if self.init_count > 0:
                self.init_count += 1
                return E.ACL_ERROR_REPEAT_INITIALIZE
            self.init_count, self.finalized = 1, False
            return E.ACL_SUCCESS

    def finalize(self) -> None:
        with self.lock:
            if self.finalized:
                raise AclFail(E.ACL_ERROR_REPEAT_FINALIZE, "aclFinalize already called")
            self._finalize()

    def finalize_reference(self) -> int:
        with self.lock:
            if self.init_count == 0:
                raise AclFail(E.ACL_ERROR_REPEAT_FINALIZE, "aclFinalizeReference without aclInit")
            if self.init_count > 1:
                self.init_count -= 1
            else:
                self._finalize()
            return self.init_count

    def _finalize(self) -> None:
        self.init_count, self.finalized = 0, True
        self._release_all()

    def _release_all(self) -> None:
        self.reports.clear()
        for hook in self.release_hooks:
            hook()
        for handle in self.handles.live(Kind.STREAM):
            self._close_stream(handle)
        for handle in self.handles.live(Kind.CONTEXT):
            self._drop_context(handle)
        for device in self.devices:
            device.set_count = 0
            device.default_context = 0
            device.heap.release_all()
        self.host.release_all()

    # -- devices -----------------------------------------------------------------------------
    def device(self, device_id: int) -> Device:
        if not 0 <= device_id < len(self.devices):
            raise AclFail(E.ACL_ERROR_RT_INVALID_DEVICEID,
                          f"device {device_id} does not exist ({len(self.devices)} devices)")
        return self.devices[device_id]

    def set_device(self, device_id: int) -> None:
        with self.lock:
            device = self.device(device_id)
            if self.machine.device_lost(device_id):
                raise AclFail(E.ACL_ERROR_RT_DEV_SETUP_ERROR,
                              f"device {device_id} was lost in a crash and cannot be set up")
            if not device.default_context:
                device.default_context = self.handles.new(
                    Kind.CONTEXT, lambda h: Context(h, device_id, is_default=True))
            device.set_count += 1
            self._thread.context = device.default_context

    def reset_device(self, device_id: int) -> None:
        """The last reset releases the default context, its streams and the device's memory
        once no created context remains on it."""
        with self.lock:
            device = self.device(device_id)
            if device.set_count == 0:  # PrimaryContextRelease fails on a zero count
                raise AclFail(E.ACL_ERROR_RT_CONTEXT_RELEASE_ERROR,
                              f"device {device_id} was not set")
            device.set_count -= 1
            if device.set_count:
                return
            self._drop_context(device.default_context)
            device.default_context = 0
            if not any(ctx.device_id == device_id for ctx in self._contexts()):
                device.heap.release_all()

    def current_device(self) -> int:
        return self.current_context().device_id

    # -- contexts ----------------------------------------------------------------------------
    def _contexts(self) -> list[Context]:
        # A context destroyed by another thread between live() and get() is skipped.
        found = (self.handles.get(Kind.CONTEXT, h) for h in self.handles.live(Kind.CONTEXT))
        return [ctx for ctx in found if ctx is not None]

    def context(self, handle: int, unknown_code: int) -> Context:
        """The live context ``handle``: NULL → 100000, unknown or destroyed → ``unknown_code``."""
        if handle == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "NULL context")
        ctx = self.handles.get(Kind.CONTEXT, handle)
        if ctx is None:
            raise AclFail(unknown_code, f"{handle:#x} is not a live context")
        return ctx

    def current_context(self) -> Context:
        handle = getattr(self._thread, "context", 0)
        ctx = self.handles.get(Kind.CONTEXT, handle) if handle else None
        if ctx is None:
            raise AclFail(E.ACL_ERROR_RT_CONTEXT_NULL,
                          "no current context: call set_device or set_context first")
        return ctx

    def create_context(self, device_id: int) -> int:
        with self.lock:
            self.device(device_id)
            handle = self.handles.new(Kind.CONTEXT,
                                      lambda h: Context(h, device_id, is_default=False))
            self._thread.context = handle
            return handle

    def destroy_context(self, handle: int) -> None:
        with self.lock:
            # ContextDestroy: unknown → RT_ERROR_CONTEXT_NULL, and "Can not destroy primary ctx."
            ctx = self.context(handle, E.ACL_ERROR_RT_CONTEXT_NULL)
            if ctx.is_default:
                raise AclFail(E.ACL_ERROR_RT_CONTEXT_NULL,
                              "the default context is released by reset_device, not destroyed")
            self._drop_context(handle)
            device = self.devices[ctx.device_id]
            if device.set_count == 0 and not any(
                    c.device_id == ctx.device_id for c in self._contexts()):
                device.heap.release_all()

    def _drop_context(self, handle: int) -> None:
        ctx = self.handles.remove(Kind.CONTEXT, handle)
        if ctx is None:
            return
        for stream_handle in list(ctx.streams):
            self._close_stream(stream_handle)
        if ctx.default_stream is not None:
            self.reports.drop_stream(ctx.default_stream)
            ctx.default_stream.close()
        if getattr(self._thread, "context", 0) == handle:
            self._thread.context = 0

    def set_context(self, handle: int) -> None:
        self.context(handle, E.ACL_ERROR_RT_PARAM_INVALID)  # ContextSetCurrent: INVALID_VALUE
        self._thread.context = handle

    # -- streams -----------------------------------------------------------------------------
    def create_stream(self) -> int:
        with self.lock:
            ctx = self.current_context()
            handle = self.handles.new(Kind.STREAM, lambda h: Stream(h, ctx.handle))
            ctx.streams.add(handle)
            return handle

    def stream(self, handle: int) -> Stream:
        """The stream for ``handle``; 0 means the current context's default stream.

        A destroyed or unknown handle is refused by the runtime's handle guard (107017)."""
        if handle == 0:
            ctx = self.current_context()
            with self.lock:
                if ctx.default_stream is None:
                    ctx.default_stream = Stream(0, ctx.handle)
                return ctx.default_stream
        stream = self.handles.get(Kind.STREAM, handle)
        if stream is None:
            raise AclFail(E.ACL_ERROR_RT_INVALID_HANDLE, f"{handle:#x} is not a live stream")
        return stream

    def stream_in_current_context(self, handle: int) -> Stream:
        """A stream a task may be queued on: it must belong to the current context (107003)."""
        stream = self.stream(handle)
        if stream.context_handle != self.current_context().handle:
            raise AclFail(E.ACL_ERROR_RT_STREAM_CONTEXT,
                          f"stream {handle:#x} belongs to another context")
        return stream

    def destroy_stream(self, handle: int) -> None:
        """NULL (the default stream) cannot be destroyed (100000); pending tasks finish first."""
        with self.lock:
            if handle == 0:
                raise AclFail(E.ACL_ERROR_INVALID_PARAM, "the default stream cannot be destroyed")
            self.stream(handle)
            self._close_stream(handle)

    def _close_stream(self, handle: int) -> None:
        stream = self.handles.remove(Kind.STREAM, handle)
        if stream is None:
            return
        owner = self.handles.get(Kind.CONTEXT, stream.context_handle)
        if owner is not None:
            owner.streams.discard(handle)
        self.reports.drop_stream(stream)
        stream.close()

    def stream_device(self, stream: Stream) -> int:
        """The device of a live stream (its context's)."""
        ctx = self.handles.get(Kind.CONTEXT, stream.context_handle)
        if ctx is None:
            raise AclFail(E.ACL_ERROR_RT_INVALID_HANDLE, f"{stream.handle:#x} is not a live stream")
        return ctx.device_id

    def synchronize_stream(self, handle: int) -> int:
        stream = self.stream(handle)
        check_no_deadlock(self.reports, [stream], "acl.rt.synchronize_stream")
        return stream.synchronize()

    def synchronize_device(self) -> int:
        ctx = self.current_context()
        found = [self.handles.get(Kind.STREAM, h) for c in self._contexts()
                 if c.device_id == ctx.device_id for h in list(c.streams)]
        found += [c.default_stream for c in self._contexts()
                  if c.device_id == ctx.device_id and c.default_stream is not None]
        streams = [s for s in found if s is not None]
        check_no_deadlock(self.reports, streams, "acl.rt.synchronize_device")
        codes = [s.synchronize() for s in streams]
        return next((code for code in codes if code), 0)

    # -- device memory -----------------------------------------------------------------------
    def malloc(self, size: int, padding: bool = True) -> int:
        """aclrtMalloc: size 0 → 100000, no context → 107002, OOM → 207001 (memory.cpp).

        A size whose padded form overflows 64 bits → 100000 (``GetAlignedAndPaddingSize``:
        ``if ((size + appendSize) < size) return ACL_ERROR_INVALID_PARAM``, appendSize being
        32 plus the 32-byte padding when padding applies)."""
        if size == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "aclrtMalloc size must be > 0")
        if size + _ROUND_UP_APPEND + (_PADDING_APPEND if padding else 0) >= 1 << 64:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"aclrtMalloc size {size} is too large")
        device = self.devices[self.current_device()]
        try:
            return device.heap.allocate(size, padding)
        except OutOfMemory as exc:
            raise AclFail(E.ACL_ERROR_RT_MEMORY_ALLOCATION, str(exc)) from None

    def heap_of(self, address: int) -> DeviceHeap | None:
        if not is_device_address(address):
            return None
        device_id = device_of(address)
        return self.devices[device_id].heap if device_id < len(self.devices) else None

    def free(self, address: int) -> None:
        if address == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "aclrtFree(NULL)")
        heap = self.heap_of(address)
        allocation = heap.find(address) if heap is not None else None
        if allocation is not None and allocation.address == address:
            for hook in self.free_hooks:
                hook(allocation.address, allocation.end)
        if heap is None or not heap.free(address):
            # Decided by the driver (halMemFree); DRV_ERROR_INVALID_VALUE maps to 107000.
            # The exact driver answer is UNCONFIRMED.
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"{address:#x} is not the start of a live device allocation")

    def live_counts(self) -> dict[str, int]:
        """Objects alive now, by kind — what the plugin's leak check compares."""
        counts = {f"device{d.device_id}.bytes_in_use": d.heap.used for d in self.devices}
        counts["contexts"] = sum(1 for c in self._contexts() if not c.is_default)
        counts["streams"] = len(self.handles.live(Kind.STREAM))
        counts["host_allocations"] = self.host.count()
        counts["data_buffers"] = len(self.handles.live(Kind.DATA_BUFFER))
        counts["datasets"] = len(self.handles.live(Kind.DATASET))
        counts["report_subscriptions"] = self.reports.count()
        counts["util_threads"] = self.threads.count()
        counts |= {name: count() for name, count in self.counters.items()}
        return counts
