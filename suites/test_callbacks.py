"""Completion callbacks (CANN Runtime API reference, execution control): a callback launched
on a stream runs on the thread subscribed to the stream, once per launch, in stream order,
after the executions queued before it; a blocking callback holds the stream."""

from __future__ import annotations

import threading

import pytest

from pytest_acl.constants import (
    ACL_ERROR_RT_REPORT_TIMEOUT,
    ACL_ERROR_RT_STREAM_NO_CB_REG,
    ACL_ERROR_RT_STREAM_SUBSCRIBE,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.oracles import distinct_inputs, outputs_match, reference_outputs

pytestmark = pytest.mark.acl_requires("rt.subscribe_report", "rt.unsubscribe_report",
                                      "rt.process_report", "rt.launch_callback")
BLOCK, NO_BLOCK = 1, 0
EXECUTIONS = 3


class CallbackThread:
    """A thread that serves a stream's callbacks with process_report (the documented
    protocol, steps 2-3): it starts, the test subscribes it (``ident``), then ``serve()``
    lets it loop on process_report until ``stop()``."""

    def __init__(self, acl, context) -> None:
        self.acl, self.context = acl, context
        self.ident = 0
        self._started, self._serving = threading.Event(), threading.Event()
        self._stop = threading.Event()
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._started.wait(30), "the callback thread did not start"

    def _run(self) -> None:
        self.ident = threading.get_ident()
        if self.acl.rt.set_context(self.context) != 0:
            self.errors.append("set_context failed in the callback thread")
        self._started.set()
        self._serving.wait(60)
        while not self._stop.is_set():
            ret = self.acl.rt.process_report(50)
            if ret not in (0, ACL_ERROR_RT_REPORT_TIMEOUT) and not self._stop.is_set():
                self.errors.append(f"process_report returned {ret}")
                return

    def serve(self) -> None:
        self._serving.set()

    def stop(self) -> None:
        self._stop.set()
        self._serving.set()
        self._thread.join(30)


@pytest.mark.acl_clause("callback.runs_on_the_subscribed_thread",
                        "callback.each_launch_runs_once_in_stream_order",
                        "callback.block_holds_the_stream", "load.outputs_match_reference")
@pytest.mark.parametrize("block", [BLOCK, NO_BLOCK], ids=["block", "no_block"])
def test_callbacks_after_async_executions_run_on_the_subscribed_thread_in_order(
        acl, acl_device, acl_stream, acl_models, block):
    entry = acl_models["mlp"]
    inputs = distinct_inputs(entry.inputs(), EXECUTIONS)
    sizes = [a.nbytes for a in entry.outputs().values()]
    expected = reference_outputs(acl, str(entry.path), inputs, sizes)
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    assert ret == 0
    ios = [ModelIO.prepare(acl, model_id, list(i.values()), sizes) for i in inputs]
    context, _ = acl.rt.get_context()
    server = CallbackThread(acl, context)
    seen: list[tuple[int, object]] = []
    all_ran = threading.Event()

    def callback(user_data) -> None:
        seen.append((threading.get_ident(), user_data))
        if len(seen) == EXECUTIONS:
            all_ran.set()

    try:
        assert acl.rt.subscribe_report(server.ident, acl_stream) == 0
        server.serve()
        for index, io in enumerate(ios):
            assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, acl_stream) == 0
            assert acl.rt.launch_callback(callback, index, block, acl_stream) == 0
        assert acl.rt.synchronize_stream(acl_stream) == 0
        if block == BLOCK:  # the stream was held until each callback had run
            assert len(seen) == EXECUTIONS, f"after synchronize_stream only {seen} ran"
        assert all_ran.wait(30), f"callbacks that ran: {seen}"
        assert [data for _, data in seen] == list(range(EXECUTIONS)), "not once each, in order"
        assert {tid for tid, _ in seen} == {server.ident}, "a callback ran on another thread"
        for io, reference in zip(ios, expected, strict=True):
            outputs_match(io.outputs(), reference)
    finally:
        server.stop()  # before unsubscribing: a served thread then has no subscription
        assert acl.rt.unsubscribe_report(server.ident, acl_stream) == 0
        for io in ios:
            io.release()
        acl.mdl.unload(model_id)
    assert server.errors == []


@pytest.mark.acl_clause("callback.one_thread_per_stream", "callback.one_thread_per_stream_code")
def test_a_second_callback_thread_for_one_stream_is_refused(acl, acl_device, acl_stream,
                                                            acl_expect):
    context, _ = acl.rt.get_context()
    first, second = CallbackThread(acl, context), CallbackThread(acl, context)
    try:
        assert acl.rt.subscribe_report(first.ident, acl_stream) == 0
        ret = acl.rt.subscribe_report(second.ident, acl_stream)
        acl_expect.refusal(ret, ACL_ERROR_RT_STREAM_SUBSCRIBE, "callback.one_thread_per_stream",
                           "callback.one_thread_per_stream_code")
        if ret == 0:
            acl.rt.unsubscribe_report(second.ident, acl_stream)
        assert acl.rt.unsubscribe_report(first.ident, acl_stream) == 0
    finally:
        first.stop()
        second.stop()


@pytest.mark.acl_clause("callback.unsubscribed_stream_refused")
def test_a_callback_on_a_stream_nobody_serves_is_refused(acl, acl_device, acl_stream,
                                                         acl_expect):
    ret = acl.rt.launch_callback(lambda _: None, None, NO_BLOCK, acl_stream)
    acl_expect.code(ret, ACL_ERROR_RT_STREAM_NO_CB_REG, "callback.unsubscribed_stream_refused")
    assert acl.rt.synchronize_stream(acl_stream) == 0


@pytest.mark.acl_clause("callback.process_report_times_out")
def test_process_report_with_nothing_to_run_times_out(acl, acl_device, acl_stream, acl_expect):
    context, _ = acl.rt.get_context()
    result: list[int] = []
    subscribed = threading.Event()

    def serve() -> None:
        acl.rt.set_context(context)
        subscribed.wait(30)
        result.append(acl.rt.process_report(100))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert acl.rt.subscribe_report(thread.ident, acl_stream) == 0
    subscribed.set()
    thread.join(30)
    assert not thread.is_alive(), "process_report(100) did not return"
    acl_expect.code(result[0], ACL_ERROR_RT_REPORT_TIMEOUT, "callback.process_report_times_out")
    assert acl.rt.unsubscribe_report(thread.ident, acl_stream) == 0
