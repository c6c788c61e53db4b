"""The completion-callback path: host callbacks launched on a stream, run by a user thread.

``acl.rt.launch_callback(fn, user_data, block_type, stream)`` queues a callback task on a
stream. When the stream reaches it, the callback is *reported* to the thread subscribed to
that stream (``acl.rt.subscribe_report(tid, stream)``), and runs **on that thread** when it
calls ``acl.rt.process_report(timeout_ms)``. ``ACL_CALLBACK_BLOCK`` holds the stream until the
callback has run; ``ACL_CALLBACK_NO_BLOCK`` lets it go on at once. ``acl.util.start_thread`` /
``stop_thread`` are pyACL's own thread helpers the samples use for that thread.

Sources (hicann/runtime; pyACL at 134e2edb, the runtime at the mirror's HEAD 681ef761):

- pyACL ``python/pyACL/rt/rt_synchronize.cpp``: ``WrapAclRtSubscribeReport`` /
  ``WrapAclRtUnSubscribeReport`` parse "Kk"; ``WrapAclRtProcessReport`` parses "i" and releases
  the GIL; ``WrapAclRtLaunchCallback`` parses "OOik", refuses a non-callable with
  ``TypeError("parameter must be callable")``, and its ``LaunchCallFunc`` calls
  ``fn(user_data)`` (always one argument, ``None`` included) and leaves an exception the
  callback raised set — so ``process_report`` then fails with CPython's SystemError
  "<built-in function process_report> returned a result with an exception set", chained from
  the callback's exception (CPython Objects/call.c ``_Py_CheckFunctionResult``; derived from
  the source, UNCONFIRMED on a device).
- ``src/acl/aclrt_impl/callback.cpp``: ``aclrtLaunchCallbackImpl`` refuses a block type other
  than 0/1 (100000); ``aclrtProcessReportImpl`` refuses a timeout < -1 or == 0 (100000).
- ``src/runtime/api/api_c.cc`` (``rtSubscribeReport``, ``rtCallbackLaunch``,
  ``rtUnSubscribeReport``: the stream handle guard, 107017), ``api/impl/api_impl.cc``
  (``ApiImpl::SubscribeReport`` / ``UnSubscribeReport``: NULL is the current context's default
  stream, 107002 without one; ``ApiImpl::CallbackLaunch``: 107002, 107003, and 107015 for a
  stream nobody subscribed; ``ApiImpl::ProcessReport``: the calling thread's subscription,
  then a wait for reports and a run of every report that arrived).
- ``src/runtime/core/src/utils/subscribe.cc`` (``CbSubscribe::CheckForInsert``, ``Insert``,
  ``Delete``, ``GetGroupIdByThreadId``): one thread per stream (a second subscribe of the
  stream, by any thread → 107011), one device per thread (→ 107012), unsubscribe of a stream
  nobody subscribed → 107011 and of another thread's stream → 107012, process_report from a
  thread with no subscription → 107012. ``errcode_manage.cc`` maps these internal codes and the
  driver's wait timeout (DRV_ERROR_WAIT_TIMEOUT → 507012).
- ``src/runtime/core/src/stream/stream.cc`` ``UnsubscribeStreamReportOnTearDown`` and the
  ``CbSubscribe`` destructor: destroying a stream (and so resetting a device or finalizing)
  removes its subscription.
- docs/zh/api_ref/12_execution_control.md: the protocol, "at most 1024 threads", and "do not
  synchronize a stream or device from a callback" (it deadlocks).

UNCONFIRMED, chosen so that nothing hangs: what happens to reports still queued for a stream
whose subscription goes away (the simulator drops them and lets the stream go on), and a
``process_report`` already waiting when its thread loses its last subscription (the simulator
wakes it with 107012, the code its next call gets).
"""

from __future__ import annotations

import errno
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_acl.constants import AclError
from pytest_acl.sim.pyargs import AclFail, raised_by_pyacl
from pytest_acl.sim.streams import Stream, Task

E = AclError
# The runtime's callback group ids are one per subscribed thread; the docs give 1024 as the
# current maximum (the runtime's own fallback, RT_THREAD_GROUP_ID_MAX, is 128). Running out is
# RT_ERROR_SUBSCRIBE_GROUP, which errcode_manage.cc maps to 507000. UNCONFIRMED per product.
MAX_SUBSCRIBED_THREADS = 1024
# What CPython's _Py_CheckFunctionResult says when pyACL's process_report returns with the
# callback's exception still set.
CALLBACK_RAISED = ("<built-in function process_report> returned a result with an exception "
                   "set")


@dataclass(eq=False)
class _Report:
    """One launched callback, from the moment the stream reaches it until it has run."""

    stream: Stream
    fn: Callable[[Any], object]
    user_data: Any
    block: bool
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class _Subscriber:
    """A thread subscribed to one or more streams of one device, and its reports not yet
    processed."""

    device_id: int
    streams: set[Stream] = field(default_factory=set)
    pending: deque[_Report] = field(default_factory=deque)


class Reports:
    """The runtime's subscription table (CbSubscribe) and each thread's report queue."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: dict[Stream, int] = {}  # stream → the thread subscribed to it
        self._threads: dict[int, _Subscriber] = {}
        self._blocking: dict[Stream, int] = {}  # blocking callbacks launched, not yet run

    # -- aclrtSubscribeReport / aclrtUnSubscribeReport ----------------------------------------
    def subscribe(self, tid: int, stream: Stream, device_id: int) -> None:
        with self._cond:
            if stream in self._owner:  # CheckForInsert: already in the stream map
                raise AclFail(E.ACL_ERROR_RT_STREAM_SUBSCRIBE,
                              f"stream {stream.handle:#x} already has a callback thread "
                              f"({self._owner[stream]:#x}); a stream has one")
            subscriber = self._threads.get(tid)
            if subscriber is not None and subscriber.device_id != device_id:
                raise AclFail(E.ACL_ERROR_RT_THREAD_SUBSCRIBE,
                              f"thread {tid:#x} handles callbacks of device "
                              f"{subscriber.device_id}; a thread serves one device")
            if subscriber is None:
                if len(self._threads) >= MAX_SUBSCRIBED_THREADS:  # AssignGroupId: no group
                    raise AclFail(E.ACL_ERROR_RT_INTERNAL_ERROR,
                                  f"more than {MAX_SUBSCRIBED_THREADS} callback threads")
                subscriber = self._threads[tid] = _Subscriber(device_id)
            subscriber.streams.add(stream)
            self._owner[stream] = tid

    def unsubscribe(self, tid: int, stream: Stream) -> None:
        with self._cond:
            owner = self._owner.get(stream)
            if owner is None:  # CbSubscribe::Delete: not in the stream map
                raise AclFail(E.ACL_ERROR_RT_STREAM_SUBSCRIBE,
                              f"stream {stream.handle:#x} has no callback thread")
            if owner != tid:  # … in the stream map, not under this thread
                raise AclFail(E.ACL_ERROR_RT_THREAD_SUBSCRIBE,
                              f"stream {stream.handle:#x} is subscribed by thread {owner:#x}, "
                              f"not {tid:#x}")
            self._remove(stream)

    def drop_stream(self, stream: Stream) -> None:
        """The stream is being torn down: forget its subscription (UnsubscribeStreamReport-
        OnTearDown), before its worker finishes its tasks — so none of them waits for a
        callback nobody will run."""
        with self._cond:
            if stream in self._owner:
                self._remove(stream)

    def clear(self) -> None:
        """aclFinalize: every subscription goes (the CbSubscribe destructor)."""
        with self._cond:
            for stream in list(self._owner):
                self._remove(stream)

    def _remove(self, stream: Stream) -> None:
        """With the lock held: end ``stream``'s subscription, drop the reports it left
        queued (their streams go on: UNCONFIRMED) and wake its thread's process_report."""
        tid = self._owner.pop(stream)
        subscriber = self._threads[tid]
        subscriber.streams.discard(stream)
        for report in [r for r in subscriber.pending if r.stream is stream]:
            subscriber.pending.remove(report)
            self._finish(report)
        if not subscriber.streams:
            del self._threads[tid]
        self._cond.notify_all()

    # -- aclrtLaunchCallback -----------------------------------------------------------------
    def launch(self, stream: Stream, fn: Callable[[Any], object], user_data: Any,
               block: bool) -> Task:
        """The stream task for a callback launched now: it reports the callback to the
        stream's thread when the stream reaches it, and for a blocking one waits until the
        callback has run."""
        with self._cond:
            if stream not in self._owner:  # ApiImpl::CallbackLaunch: !IsHostFuncCbReg
                raise AclFail(E.ACL_ERROR_RT_STREAM_NO_CB_REG,
                              f"stream {stream.handle:#x} has no callback thread: "
                              "subscribe_report a thread to it first")
            report = _Report(stream, fn, user_data, block)
            if block:
                self._blocking[stream] = self._blocking.get(stream, 0) + 1
        return lambda: self._deliver(report)

    def _deliver(self, report: _Report) -> None:
        with self._cond:
            tid = self._owner.get(report.stream)
            if tid is None:  # the subscription went away meanwhile: dropped (UNCONFIRMED)
                self._finish(report)
                return
            self._threads[tid].pending.append(report)
            self._cond.notify_all()
        if report.block:
            report.done.wait()

    def _finish(self, report: _Report) -> None:
        """With the lock held: the report has run or was dropped; release its stream."""
        if report.done.is_set():
            return
        if report.block:
            left = self._blocking[report.stream] - 1
            if left:
                self._blocking[report.stream] = left
            else:
                del self._blocking[report.stream]
        report.done.set()

    # -- aclrtProcessReport ------------------------------------------------------------------
    def process(self, tid: int, timeout_ms: int) -> None:
        """Wait up to ``timeout_ms`` (-1: forever) for reports to thread ``tid``, then run
        every one that arrived, on this thread."""
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        with self._cond:
            while True:
                subscriber = self._threads.get(tid)
                if subscriber is None:  # GetGroupIdByThreadId: RT_ERROR_SUBSCRIBE_THREAD
                    raise AclFail(E.ACL_ERROR_RT_THREAD_SUBSCRIBE,
                                  f"thread {tid:#x} is subscribed to no stream")
                if subscriber.pending:
                    batch = list(subscriber.pending)
                    subscriber.pending.clear()
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise AclFail(E.ACL_ERROR_RT_REPORT_TIMEOUT,
                                  f"no callback reported within {timeout_ms} ms")
                self._cond.wait(remaining)
        raised: list[BaseException] = []
        for report in batch:
            try:
                report.fn(report.user_data)
            except BaseException as exc:  # noqa: BLE001 (pyACL's C caller cannot tell them apart)
                raised.append(exc)
            finally:
                with self._cond:
                    self._finish(report)
        if raised:
            raise raised_by_pyacl(SystemError(CALLBACK_RAISED)) from raised[0]

    # -- helpers for the rest of the runtime -------------------------------------------------
    def would_deadlock(self, stream: Stream, tid: int) -> bool:
        """Whether thread ``tid`` waiting for ``stream`` would wait forever: it is the thread
        that must run a blocking callback the stream has not got past."""
        with self._cond:
            return self._owner.get(stream) == tid and self._blocking.get(stream, 0) > 0

    def count(self) -> int:
        """Live subscriptions (one per subscribed stream), for the leak check."""
        with self._cond:
            return len(self._owner)


def check_no_deadlock(reports: Reports, streams: list[Stream], what: str) -> None:
    """Refuse a wait that can never end (a real NPU hangs in it): the calling thread is the
    callback thread of a stream holding a blocking callback only it can run (docs: no stream
    or device synchronization in a callback or its thread)."""
    tid = threading.get_ident()
    for stream in streams:
        if reports.would_deadlock(stream, tid):
            raise raised_by_pyacl(RuntimeError(
                f"{what} would wait forever: stream {stream.handle:#x} holds an "
                "ACL_CALLBACK_BLOCK callback that only this thread (its subscribed callback "
                "thread) can run with acl.rt.process_report; a real NPU deadlocks here"))


# -- acl.util.start_thread / stop_thread (pyACL python/pyACL/util/thread.cpp) ----------------
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE


def _tp_name(cls: type) -> str:
    """A type's C ``tp_name``, which thread.cpp puts in its message: the bare name for a
    class made at run time (and for builtins), ``module.Name`` for other static types."""
    if cls.__flags__ & _HEAPTYPE or cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


@dataclass(eq=False)
class _Started:
    thread: threading.Thread
    errors: list[str] = field(default_factory=list)


class UtilThreads:
    """Threads started by ``acl.util.start_thread`` and not yet stopped.

    thread.cpp ``ThrFunc`` calls ``fn(args)`` — ``fn()`` when ``args`` is None; an exception
    is printed (``PyErr_Display``) and kept as "exception=<tp_name>,msg=thread call failed";
    ``WrapStopThread`` joins and then raises ``RuntimeError`` with the kept messages, each
    followed by ";". The thread id is the pthread_t, which CPython's ``threading.get_ident``
    also returns on Linux, so ``subscribe_report`` and ``process_report`` agree on it. The
    threads do not hold the process open at exit (pthreads, not Python non-daemon threads).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[int, list[_Started]] = {}

    def start(self, fn: Callable[..., object], args: Any) -> int:
        thread = threading.Thread(target=lambda: self._run(started, fn, args),
                                  name="acl-util-thread", daemon=True)
        started = _Started(thread)
        with self._lock:  # registered before it can end, so stop_thread always finds it
            thread.start()
            tid = thread.ident or 0
            # A detached Python thread's id can be reused once it ends: keep them in order.
            self._started.setdefault(tid, []).append(started)
        return tid

    @staticmethod
    def _run(started: _Started, fn: Callable[..., object], args: Any) -> None:
        try:
            if args is None:
                fn()
            else:
                fn(args)
        except BaseException as exc:  # noqa: BLE001 (ThrFunc keeps whatever was raised)
            traceback.print_exception(exc)
            started.errors.append(f"exception={_tp_name(type(exc))},msg=thread call failed")

    def stop(self, tid: int) -> int:
        """pthread_join's answer: 0, EDEADLK for the calling thread itself (glibc, documented
        in pthread_join(3)), ESRCH for an id start_thread did not return or that was already
        stopped (joining those is undefined behaviour in glibc: UNCONFIRMED what pyACL gets)."""
        if tid == threading.get_ident():
            return errno.EDEADLK
        with self._lock:
            queue = self._started.get(tid)
            if not queue:
                return errno.ESRCH
            started = queue.pop(0)
            if not queue:
                del self._started[tid]
        started.thread.join()
        if started.errors:
            raise raised_by_pyacl(
                RuntimeError("".join(f"{message};" for message in started.errors)))
        return 0

    def count(self) -> int:
        """Threads started and not stopped, for the leak check."""
        with self._lock:
            return sum(len(queue) for queue in self._started.values())
