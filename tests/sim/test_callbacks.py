"""The completion-callback path (pytest_acl/sim/callbacks.py): acl.util.start_thread /
stop_thread and acl.rt.subscribe_report / unsubscribe_report / process_report /
launch_callback, with the codes and threading rules of pyACL and the CANN runtime
(hicann/runtime: python/pyACL/util/thread.cpp, rt/rt_synchronize.cpp; src/acl/aclrt_impl/
callback.cpp; src/runtime/api/impl/api_impl.cc; src/runtime/core/src/utils/subscribe.cc).

Nothing here may hang: every wait is bounded (SAFETY), callback threads are stopped before a
test ends, and the module has a hard time limit.
"""

from __future__ import annotations

import errno
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_CALLBACK_BLOCK,
    ACL_CALLBACK_NO_BLOCK,
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_INTERNAL_ERROR,
    ACL_ERROR_RT_INVALID_HANDLE,
    ACL_ERROR_RT_REPORT_TIMEOUT,
    ACL_ERROR_RT_STREAM_CONTEXT,
    ACL_ERROR_RT_STREAM_NO_CB_REG,
    ACL_ERROR_RT_STREAM_SUBSCRIBE,
    ACL_ERROR_RT_THREAD_SUBSCRIBE,
    ACL_MEMCPY_HOST_TO_DEVICE,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.sim import Simulator, callbacks

pytestmark = pytest.mark.timeout(120)
SAFETY = 10  # seconds any wait lasts at most, so a broken simulator fails instead of hanging


def in_thread(fn):
    """``fn()`` run on a new thread (no current context there); its result."""
    out = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join(SAFETY)
    assert not thread.is_alive()
    return out[0]


def stopped(acl, tid) -> None:
    """Wait (bounded) for a start_thread thread to end, then stop it."""
    deadline = time.monotonic() + SAFETY
    while any(t.ident == tid for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the callback thread did not end"
        time.sleep(0.005)
    assert acl.util.stop_thread(tid) == 0


@contextmanager
def callback_thread(acl, context, timeout_ms=20):
    """The samples' callback thread: start_thread, set_context, process_report in a loop until
    told to stop. Yields (tid, codes the loop got)."""
    running, codes = [True], []

    def loop(args):
        ctx, timeout = args
        assert acl.rt.set_context(ctx) == 0
        while running[0]:
            codes.append(acl.rt.process_report(timeout))

    tid, ret = acl.util.start_thread(loop, [context, timeout_ms])
    assert ret == 0
    try:
        yield tid, codes
    finally:
        running[0] = False
        stopped(acl, tid)


@pytest.fixture
def stream(sim_acl):
    handle, ret = sim_acl.rt.create_stream()
    assert ret == 0
    yield handle
    sim_acl.rt.destroy_stream(handle)  # already destroyed by some tests: 107017, ignored


@pytest.fixture
def context(sim_acl):
    handle, ret = sim_acl.rt.get_context()
    assert ret == 0
    return handle


def nothing(user_data):
    pass


# -- acl.util.start_thread / stop_thread ---------------------------------------------------

class TestUtilThreads:
    def test_runs_fn_with_args_on_a_new_thread_whose_id_is_the_tid(self, sim):
        acl, seen = sim.acl, []
        tid, ret = acl.util.start_thread(lambda args: seen.append((args, threading.get_ident())),
                                         ["a", 1])
        assert ret == 0 and type(tid) is int and tid != threading.get_ident()
        stopped(acl, tid)
        assert seen == [(["a", 1], tid)]

    def test_args_none_calls_fn_without_arguments(self, sim):
        seen = []
        tid, _ = sim.acl.util.start_thread(lambda: seen.append("no args"), None)
        stopped(sim.acl, tid)
        assert seen == ["no args"]

    def test_a_raising_fn_is_reported_by_stop_thread(self, sim, capsys):
        def fails(args):
            raise ValueError("broken")

        tid, ret = sim.acl.util.start_thread(fails, [])
        assert ret == 0
        deadline = time.monotonic() + SAFETY
        while any(t.ident == tid for t in threading.enumerate()):
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert "ValueError: broken" in capsys.readouterr().err  # PyErr_Display, at the time
        with pytest.raises(RuntimeError, match=r"^exception=ValueError,msg=thread call failed;$"):
            sim.acl.util.stop_thread(tid)
        assert sim.acl.util.stop_thread(tid) == errno.ESRCH  # the error went with the join

    def test_type_names_are_c_tp_names(self):
        class Custom(Exception):
            pass

        assert callbacks._tp_name(Custom) == "Custom"
        assert callbacks._tp_name(KeyError) == "KeyError"
        assert callbacks._tp_name(np.ndarray) == "numpy.ndarray"

    def test_stop_thread_answers_as_pthread_join(self, sim):
        acl = sim.acl
        tid, _ = acl.util.start_thread(nothing, [])
        stopped(acl, tid)
        assert acl.util.stop_thread(tid) == errno.ESRCH  # already stopped
        assert acl.util.stop_thread(12345) == errno.ESRCH  # never started
        assert acl.util.stop_thread(threading.get_ident()) == errno.EDEADLK

    def test_a_thread_stopping_itself_is_a_deadlock_it_survives(self, sim):
        acl, answers = sim.acl, []
        tid, _ = acl.util.start_thread(
            lambda args: answers.append(acl.util.stop_thread(threading.get_ident())), [])
        stopped(acl, tid)
        assert answers == [errno.EDEADLK]

    @pytest.mark.parametrize(("args", "kwargs", "message"), [
        ((nothing,), {}, "function takes exactly 2 arguments (1 given)"),
        ((nothing, [], 1), {}, "function takes exactly 2 arguments (3 given)"),
        ((), {"fn": nothing, "args": []}, "start_thread() takes no keyword arguments"),
        ((1, []), {}, "parameter must be callable"),
    ])
    def test_start_thread_type_errors(self, sim, args, kwargs, message):
        """The parse failure is CPython's own message: thread.cpp only logs its "args parse
        failed" and returns NULL with PyArg_ParseTuple's error set."""
        with pytest.raises(TypeError) as info:
            sim.acl.util.start_thread(*args, **kwargs)
        assert str(info.value) == message
        assert sim.live_counts()["util_threads"] == 0

    @pytest.mark.parametrize("args", [(), (1, 2), ("1",), (np.uint64(1),)])
    def test_stop_thread_parses_K(self, sim, args):
        with pytest.raises(TypeError, match=r"^acl.util.stop_thread args parse failed$"):
            sim.acl.util.stop_thread(*args)

    def test_the_leak_check_counts_threads_not_stopped(self, sim):
        gate = threading.Event()
        tid, _ = sim.acl.util.start_thread(lambda args: gate.wait(SAFETY), [])
        assert sim.live_counts()["util_threads"] == 1
        gate.set()
        stopped(sim.acl, tid)
        assert sim.live_counts()["util_threads"] == 0

    def test_finalize_leaves_the_threads_alone(self, sim_acl, sim):
        gate = threading.Event()
        tid, _ = sim_acl.util.start_thread(lambda args: gate.wait(SAFETY), [])
        assert sim_acl.finalize() == 0
        assert sim.live_counts()["util_threads"] == 1
        gate.set()
        stopped(sim_acl, tid)
        assert sim_acl.init() == 0  # for the fixture's finalize


# -- subscribe_report / unsubscribe_report ---------------------------------------------------

class TestSubscribe:
    def test_subscribe_and_unsubscribe(self, sim_acl, sim, stream):
        tid = threading.get_ident()
        assert sim_acl.rt.subscribe_report(tid, stream) == 0
        assert sim.live_counts()["report_subscriptions"] == 1
        assert sim_acl.rt.unsubscribe_report(tid, stream) == 0
        assert sim.live_counts()["report_subscriptions"] == 0

    def test_a_stream_has_one_thread(self, sim_acl, stream):
        """CbSubscribe::CheckForInsert: the stream map is checked first, so a repeat by the
        same thread and a second thread both get 107011."""
        assert sim_acl.rt.subscribe_report(1, stream) == 0
        assert sim_acl.rt.subscribe_report(1, stream) == ACL_ERROR_RT_STREAM_SUBSCRIBE
        assert sim_acl.rt.subscribe_report(2, stream) == ACL_ERROR_RT_STREAM_SUBSCRIBE
        assert sim_acl.rt.unsubscribe_report(1, stream) == 0

    def test_a_thread_serves_many_streams_of_one_device(self, sim_acl, context, stream):
        rt = sim_acl.rt
        second, _ = rt.create_stream()
        assert rt.subscribe_report(7, stream) == 0
        assert rt.subscribe_report(7, second) == 0
        assert rt.set_device(1) == 0
        other_device, _ = rt.create_stream()
        assert rt.subscribe_report(7, other_device) == ACL_ERROR_RT_THREAD_SUBSCRIBE
        assert rt.subscribe_report(8, other_device) == 0
        assert rt.unsubscribe_report(8, other_device) == 0
        assert rt.destroy_stream(other_device) == 0
        assert rt.reset_device(1) == 0
        assert rt.set_context(context) == 0
        assert rt.unsubscribe_report(7, stream) == 0
        assert rt.unsubscribe_report(7, second) == 0
        assert rt.destroy_stream(second) == 0

    def test_unsubscribe_errors(self, sim_acl, stream):
        """CbSubscribe::Delete: a stream nobody subscribed → 107011; another thread's
        stream → 107012."""
        assert sim_acl.rt.unsubscribe_report(1, stream) == ACL_ERROR_RT_STREAM_SUBSCRIBE
        assert sim_acl.rt.subscribe_report(1, stream) == 0
        assert sim_acl.rt.unsubscribe_report(2, stream) == ACL_ERROR_RT_THREAD_SUBSCRIBE
        assert sim_acl.rt.unsubscribe_report(1, stream) == 0
        assert sim_acl.rt.unsubscribe_report(1, stream) == ACL_ERROR_RT_STREAM_SUBSCRIBE

    def test_stream_handles(self, sim_acl, sim, stream):
        """The runtime's handle guard (107017); NULL is the current context's default stream
        (107002 without one); a real stream needs no current context (ApiImpl::
        SubscribeReport)."""
        rt = sim_acl.rt
        for call in (rt.subscribe_report, rt.unsubscribe_report):
            assert call(1, 0x1234) == ACL_ERROR_RT_INVALID_HANDLE
            assert in_thread(lambda call=call: call(1, 0)) == ACL_ERROR_RT_CONTEXT_NULL
        assert in_thread(lambda: rt.subscribe_report(1, stream)) == 0
        assert in_thread(lambda: rt.unsubscribe_report(1, stream)) == 0
        assert rt.subscribe_report(1, 0) == 0
        assert rt.unsubscribe_report(1, 0) == 0

    @pytest.mark.parametrize("args", [(1,), (1.0, 0), (1, "0"), (np.int64(1), 0), (1, 0, 0)])
    def test_parse_Kk(self, sim_acl, args):
        for name in ("subscribe_report", "unsubscribe_report"):
            with pytest.raises(TypeError, match=rf"^acl.rt.{name} args parse failed$"):
                getattr(sim_acl.rt, name)(*args)

    def test_the_thread_limit(self, sim_acl, stream, monkeypatch):
        """A new group id per thread; none left → RT_ERROR_SUBSCRIBE_GROUP → 507000."""
        monkeypatch.setattr(callbacks, "MAX_SUBSCRIBED_THREADS", 1)
        second, _ = sim_acl.rt.create_stream()
        assert sim_acl.rt.subscribe_report(1, stream) == 0
        assert sim_acl.rt.subscribe_report(2, second) == ACL_ERROR_RT_INTERNAL_ERROR
        assert sim_acl.rt.subscribe_report(1, second) == 0  # the same thread: no new group
        assert sim_acl.rt.destroy_stream(second) == 0


# -- process_report ---------------------------------------------------------------------------

class TestProcessReport:
    @pytest.mark.parametrize("timeout", [0, -2, -(2**31)])
    def test_timeout_must_be_minus_one_or_positive(self, sim_acl, stream, timeout):
        """aclrtProcessReportImpl checks the timeout before anything else."""
        assert sim_acl.rt.process_report(timeout) == ACL_ERROR_INVALID_PARAM
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.process_report(timeout) == ACL_ERROR_INVALID_PARAM

    def test_a_thread_without_subscription(self, sim_acl, sim, stream):
        assert sim_acl.rt.process_report(1) == ACL_ERROR_RT_THREAD_SUBSCRIBE
        assert sim_acl.rt.process_report(-1) == ACL_ERROR_RT_THREAD_SUBSCRIBE  # no wait
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert in_thread(lambda: sim_acl.rt.process_report(1)) == ACL_ERROR_RT_THREAD_SUBSCRIBE
        assert Simulator().acl.rt.process_report(1) == ACL_ERROR_RT_THREAD_SUBSCRIBE

    def test_nothing_reported_within_the_timeout(self, sim_acl, stream):
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        start = time.monotonic()
        assert sim_acl.rt.process_report(50) == ACL_ERROR_RT_REPORT_TIMEOUT
        assert time.monotonic() - start >= 0.045

    @pytest.mark.parametrize("args", [(), (1.0,), ("1",), (2**31,), (1, 2)])
    def test_parse_i(self, sim_acl, args):
        with pytest.raises(TypeError, match=r"^acl.rt.process_report args parse failed$"):
            sim_acl.rt.process_report(*args)

    def test_a_waiting_thread_is_woken_when_its_stream_goes(self, sim_acl, stream):
        """UNCONFIRMED on a device: the simulator answers a waiting process_report(-1) whose
        thread lost its last subscription with 107012, the code its next call gets."""
        answers, subscribed = [], threading.Event()

        def wait_forever(args):
            subscribed.wait(SAFETY)
            answers.append(sim_acl.rt.process_report(-1))

        tid, _ = sim_acl.util.start_thread(wait_forever, [])
        assert sim_acl.rt.subscribe_report(tid, stream) == 0
        subscribed.set()
        time.sleep(0.05)
        assert answers == []  # waiting
        assert sim_acl.rt.destroy_stream(stream) == 0
        stopped(sim_acl, tid)
        assert answers == [ACL_ERROR_RT_THREAD_SUBSCRIBE]


# -- launch_callback ---------------------------------------------------------------------------

class TestLaunchCallback:
    def test_callbacks_run_in_order_on_the_subscribed_thread(self, sim_acl, context, stream):
        seen = []
        with callback_thread(sim_acl, context) as (tid, codes):
            assert sim_acl.rt.subscribe_report(tid, stream) == 0
            for i, block in enumerate([ACL_CALLBACK_BLOCK, ACL_CALLBACK_NO_BLOCK] * 3):
                assert sim_acl.rt.launch_callback(
                    lambda data: seen.append((data, threading.get_ident())), i, block,
                    stream) == 0
            assert sim_acl.rt.synchronize_stream(stream) == 0
            deadline = time.monotonic() + SAFETY
            while len(seen) < 6:  # the last one does not block: sync may return before it
                assert time.monotonic() < deadline
                time.sleep(0.005)
            assert sim_acl.rt.unsubscribe_report(tid, stream) == 0
        assert seen == [(i, tid) for i in range(6)]
        assert set(codes) <= {0, ACL_ERROR_RT_REPORT_TIMEOUT, ACL_ERROR_RT_THREAD_SUBSCRIBE}

    def test_user_data_is_always_the_one_argument(self, sim_acl, stream):
        """LaunchCallFunc builds "(O)": None is passed, not left out."""
        seen = []
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.launch_callback(seen.append, None, ACL_CALLBACK_NO_BLOCK, stream) == 0
        payload = {"any": "object"}
        assert sim_acl.rt.launch_callback(seen.append, payload, ACL_CALLBACK_NO_BLOCK,
                                          stream) == 0
        assert sim_acl.rt.synchronize_stream(stream) == 0
        assert sim_acl.rt.process_report(SAFETY * 1000) == 0
        assert seen[0] is None and seen[1] is payload

    def test_one_process_report_runs_every_report_that_arrived(self, sim_acl, stream):
        seen = []
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        for i in range(3):
            assert sim_acl.rt.launch_callback(seen.append, i, ACL_CALLBACK_NO_BLOCK, stream) == 0
        assert sim_acl.rt.synchronize_stream(stream) == 0
        assert sim_acl.rt.process_report(SAFETY * 1000) == 0
        assert seen == [0, 1, 2]
        assert sim_acl.rt.process_report(10) == ACL_ERROR_RT_REPORT_TIMEOUT

    def test_a_stream_nobody_subscribed(self, sim_acl, stream):
        assert sim_acl.rt.launch_callback(nothing, None, ACL_CALLBACK_BLOCK,
                                          stream) == ACL_ERROR_RT_STREAM_NO_CB_REG
        assert sim_acl.rt.launch_callback(nothing, None, ACL_CALLBACK_BLOCK,
                                          0) == ACL_ERROR_RT_STREAM_NO_CB_REG
        assert sim_acl.rt.synchronize_stream(stream) == 0  # nothing was queued

    def test_checks_in_cann_order(self, sim_acl, context, stream):
        """pyACL's callable check, then aclrtLaunchCallbackImpl's block type, the handle
        guard, the current context, the stream's context (ApiImpl::CallbackLaunch)."""
        rt = sim_acl.rt
        with pytest.raises(TypeError, match=r"^parameter must be callable$"):
            rt.launch_callback(None, None, 7, 0x1234)
        assert rt.launch_callback(nothing, None, 2, 0x1234) == ACL_ERROR_INVALID_PARAM
        assert rt.launch_callback(nothing, None, -1, stream) == ACL_ERROR_INVALID_PARAM
        assert rt.launch_callback(nothing, None, 1, 0x1234) == ACL_ERROR_RT_INVALID_HANDLE
        assert in_thread(lambda: rt.launch_callback(nothing, None, 1,
                                                    stream)) == ACL_ERROR_RT_CONTEXT_NULL
        assert rt.subscribe_report(1, stream) == 0
        other, _ = rt.create_context(0)
        assert rt.launch_callback(nothing, None, 1, stream) == ACL_ERROR_RT_STREAM_CONTEXT
        assert rt.destroy_context(other) == 0
        assert rt.set_context(context) == 0

    @pytest.mark.parametrize("args", [(nothing, None, 1), (nothing, None, "1", 0),
                                      (nothing, None, 1, -1.0), (nothing, None, 2**31, 0)])
    def test_parse_OOik(self, sim_acl, args):
        with pytest.raises(TypeError, match=r"^acl.rt.launch_callback args parse failed$"):
            sim_acl.rt.launch_callback(*args)

    def test_the_default_stream(self, sim_acl):
        seen = []
        assert sim_acl.rt.subscribe_report(threading.get_ident(), 0) == 0
        assert sim_acl.rt.launch_callback(seen.append, "on NULL", ACL_CALLBACK_NO_BLOCK, 0) == 0
        assert sim_acl.rt.process_report(SAFETY * 1000) == 0
        assert seen == ["on NULL"]
        assert sim_acl.rt.unsubscribe_report(threading.get_ident(), 0) == 0


# -- blocking ----------------------------------------------------------------------------------

class TestBlocking:
    def _sync_in_background(self, acl, stream):
        result = []
        thread = threading.Thread(target=lambda: result.append(acl.rt.synchronize_stream(stream)))
        thread.start()
        return thread, result

    def test_a_blocking_callback_holds_the_stream_until_it_has_run(self, sim_acl, sim, stream):
        """Here the test's own thread is the callback thread: synchronize_stream (on another
        thread) does not return before process_report has run the callback, and the task
        after the callback runs after it."""
        order = []
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.launch_callback(order.append, "callback", ACL_CALLBACK_BLOCK,
                                          stream) == 0
        sim.runtime.stream(stream).submit(lambda: order.append("next task"))
        thread, result = self._sync_in_background(sim_acl, stream)
        time.sleep(0.1)
        assert result == [] and order == []  # held by the callback nobody has run yet
        assert sim_acl.rt.process_report(SAFETY * 1000) == 0
        thread.join(SAFETY)
        assert result == [0] and order == ["callback", "next task"]

    def test_a_non_blocking_callback_lets_the_stream_go_on(self, sim_acl, sim, stream):
        order = []
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.launch_callback(order.append, "callback", ACL_CALLBACK_NO_BLOCK,
                                          stream) == 0
        sim.runtime.stream(stream).submit(lambda: order.append("next task"))
        assert sim_acl.rt.synchronize_stream(stream) == 0
        assert order == ["next task"]
        assert sim_acl.rt.process_report(SAFETY * 1000) == 0
        assert order == ["next task", "callback"]

    def test_synchronize_waits_while_the_callback_thread_keeps_polling(self, sim_acl, context,
                                                                       stream):
        """The samples' shape: a callback thread polling with a short timeout, the main
        thread synchronizing — no deadlock, and the callback has run when sync returns."""
        ran = []

        def slow(data):
            time.sleep(0.05)
            ran.append(data)

        with callback_thread(sim_acl, context, timeout_ms=5) as (tid, _):
            assert sim_acl.rt.subscribe_report(tid, stream) == 0
            for i in range(5):
                assert sim_acl.rt.launch_callback(slow, i, ACL_CALLBACK_BLOCK, stream) == 0
            assert sim_acl.rt.synchronize_stream(stream) == 0
            assert ran == list(range(5))
            assert sim_acl.rt.synchronize_device() == 0
            assert sim_acl.rt.unsubscribe_report(tid, stream) == 0

    def test_the_callback_thread_synchronizing_would_deadlock(self, sim_acl, stream):
        """On an NPU this hangs (the docs forbid it); the simulator refuses with an error."""
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.launch_callback(nothing, None, ACL_CALLBACK_BLOCK, stream) == 0
        with pytest.raises(RuntimeError, match="would wait forever"):
            sim_acl.rt.synchronize_stream(stream)
        with pytest.raises(RuntimeError, match="would wait forever"):
            sim_acl.rt.synchronize_device()
        assert sim_acl.rt.process_report(SAFETY * 1000) == 0
        assert sim_acl.rt.synchronize_stream(stream) == 0  # nothing left to wait for

    def test_a_non_blocking_callback_never_deadlocks_a_sync(self, sim_acl, stream):
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.launch_callback(nothing, None, ACL_CALLBACK_NO_BLOCK, stream) == 0
        assert sim_acl.rt.synchronize_stream(stream) == 0
        assert sim_acl.rt.process_report(SAFETY * 1000) == 0


# -- a callback that raises ---------------------------------------------------------------------

def test_a_raising_callback_fails_process_report_with_system_error(sim_acl, stream):
    """LaunchCallFunc leaves the exception set; CPython then turns process_report's result into
    SystemError chained from it. The rest of the batch still runs and the stream goes on."""
    seen = []

    def fails(data):
        raise KeyError(data)

    assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
    assert sim_acl.rt.launch_callback(fails, "bad", ACL_CALLBACK_NO_BLOCK, stream) == 0
    assert sim_acl.rt.launch_callback(seen.append, "good", ACL_CALLBACK_NO_BLOCK, stream) == 0
    assert sim_acl.rt.synchronize_stream(stream) == 0
    with pytest.raises(SystemError, match="^<built-in function process_report> returned a "
                                          "result with an exception set$") as info:
        sim_acl.rt.process_report(SAFETY * 1000)
    assert isinstance(info.value.__cause__, KeyError)
    assert seen == ["good"]
    thread = threading.Thread(target=lambda: sim_acl.rt.synchronize_stream(stream))
    assert sim_acl.rt.launch_callback(fails, "bad", ACL_CALLBACK_BLOCK, stream) == 0
    thread.start()
    with pytest.raises(SystemError):
        sim_acl.rt.process_report(SAFETY * 1000)
    thread.join(SAFETY)
    assert not thread.is_alive()  # the blocking callback released its stream


# -- clean-up -----------------------------------------------------------------------------------

class TestCleanUp:
    def test_destroy_stream_ends_its_subscription(self, sim_acl, sim, stream):
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.destroy_stream(stream) == 0
        assert sim.live_counts()["report_subscriptions"] == 0
        assert sim_acl.rt.process_report(1) == ACL_ERROR_RT_THREAD_SUBSCRIBE

    def test_destroy_stream_with_a_blocking_callback_nobody_runs(self, sim_acl, sim, stream):
        """A blocking callback still queued does not hold destroy_stream forever: the
        subscription goes first and the callback is dropped (UNCONFIRMED on a device)."""
        ran = []
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        for _ in range(2):
            assert sim_acl.rt.launch_callback(ran.append, 1, ACL_CALLBACK_BLOCK, stream) == 0
        assert in_thread(lambda: sim_acl.rt.destroy_stream(stream)) == 0
        assert ran == [] and sim.live_counts()["report_subscriptions"] == 0

    def test_unsubscribe_lets_a_held_stream_go(self, sim_acl, stream):
        ran = []
        assert sim_acl.rt.subscribe_report(threading.get_ident(), stream) == 0
        assert sim_acl.rt.launch_callback(ran.append, 1, ACL_CALLBACK_BLOCK, stream) == 0
        assert sim_acl.rt.unsubscribe_report(threading.get_ident(), stream) == 0
        assert in_thread(lambda: sim_acl.rt.synchronize_stream(stream)) == 0
        assert ran == []

    def test_reset_device_ends_the_subscriptions_of_its_streams(self, sim):
        acl = sim.acl
        assert acl.init() == 0 and acl.rt.set_device(1) == 0
        stream, _ = acl.rt.create_stream()
        assert acl.rt.subscribe_report(5, stream) == 0
        assert acl.rt.subscribe_report(5, 0) == 0  # the default stream too
        assert acl.rt.launch_callback(nothing, None, ACL_CALLBACK_BLOCK, 0) == 0
        assert acl.rt.reset_device(1) == 0
        assert sim.live_counts()["report_subscriptions"] == 0
        assert acl.finalize() == 0

    def test_destroy_context_ends_the_subscriptions_of_its_streams(self, sim_acl, sim,
                                                                   context):
        other, _ = sim_acl.rt.create_context(1)
        stream, _ = sim_acl.rt.create_stream()
        assert sim_acl.rt.subscribe_report(5, stream) == 0
        assert sim_acl.rt.destroy_context(other) == 0
        assert sim.live_counts()["report_subscriptions"] == 0
        assert sim_acl.rt.set_context(context) == 0

    def test_finalize_ends_every_subscription(self, sim):
        acl = sim.acl
        assert acl.init() == 0 and acl.rt.set_device(0) == 0
        stream, _ = acl.rt.create_stream()
        assert acl.rt.subscribe_report(5, stream) == 0
        assert acl.rt.launch_callback(nothing, None, ACL_CALLBACK_BLOCK, stream) == 0
        assert acl.finalize() == 0
        assert sim.live_counts()["report_subscriptions"] == 0 == sim.live_counts()["streams"]


# -- the samples' use: outputs read in the callback ------------------------------------------

def test_execute_async_outputs_are_read_in_the_callback(sim_acl, sim, context, stream,
                                                        built_catalog):
    """The official asynchronous-inference shape: execute_async, then launch_callback on the
    same stream; each callback reads that execution's outputs on the callback thread."""
    directory, manifest = built_catalog
    entry = ModelEntry(directory, manifest["models"]["mlp"])
    model_id, _ = sim_acl.mdl.load_from_file(str(entry.path))
    x = entry.inputs()["x"]
    expected = entry.outputs()["y"]
    runs = []
    for scale in (1.0, 2.0, 0.5):
        io = ModelIO.prepare(sim_acl, model_id, [x * scale])
        runs.append((scale, io))
    results = {}
    with callback_thread(sim_acl, context) as (tid, _):
        assert sim_acl.rt.subscribe_report(tid, stream) == 0
        for scale, io in runs:
            assert sim_acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream) == 0
            assert sim_acl.rt.launch_callback(
                lambda data: results.__setitem__(data[0], (data[1].outputs()["y"],
                                                           threading.get_ident())),
                (scale, io), ACL_CALLBACK_BLOCK, stream) == 0
        assert sim_acl.rt.synchronize_stream(stream) == 0
        assert sim_acl.rt.unsubscribe_report(tid, stream) == 0
    np.testing.assert_allclose(results[1.0][0], expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(results[2.0][0], expected)  # each callback saw its own execution
    assert {thread for _, thread in results.values()} == {tid}
    for _, io in runs:
        io.release()
    assert sim_acl.mdl.unload(model_id) == 0
    assert sim.live_counts()["util_threads"] == sim.live_counts()["report_subscriptions"] == 0


def test_host_memory_copied_on_a_stream_is_there_for_the_callback(sim_acl, stream):
    """A callback sees the effects of the tasks before it on its stream."""
    rt = sim_acl.rt
    payload = bytes(range(256))
    host, _ = rt.malloc_host(len(payload))
    back, _ = rt.malloc_host(len(payload))
    dev, _ = rt.malloc(len(payload), 0)
    rt.memcpy(host, len(payload), sim_acl.util.bytes_to_ptr(payload), len(payload), 0)
    assert rt.subscribe_report(threading.get_ident(), stream) == 0
    assert rt.memcpy_async(dev, len(payload), host, len(payload), ACL_MEMCPY_HOST_TO_DEVICE,
                           stream) == 0
    assert rt.memcpy_async(back, len(payload), dev, len(payload), 2, stream) == 0
    seen = []
    assert rt.launch_callback(lambda _: seen.append(sim_acl.util.ptr_to_bytes(back, 256)), None,
                              ACL_CALLBACK_NO_BLOCK, stream) == 0
    assert rt.process_report(SAFETY * 1000) == 0
    assert seen == [payload]
    for ptr in (host, back):
        assert rt.free_host(ptr) == 0
    assert rt.free(dev) == 0
