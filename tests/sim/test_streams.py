"""Streams: creation rules and codes (research §5), FIFO order on one stream, real overlap of
two streams, the default stream (NULL), stream/context matching and synchronize_device.

Host buffers for async copies come from malloc_host (pinned): with pageable memory CANN turns
an async copy into a synchronous one (research §7), so only pinned or device memory shows
asynchrony the same way on a card and in the simulator.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_INTERNAL_ERROR,
    ACL_ERROR_RT_INVALID_HANDLE,
    ACL_ERROR_RT_PARAM_INVALID,
    ACL_ERROR_RT_STREAM_CONTEXT,
    ACL_MEMCPY_DEVICE_TO_DEVICE,
    ACL_MEMCPY_DEVICE_TO_HOST,
    ACL_MEMCPY_HOST_TO_DEVICE,
)
from pytest_acl.sim.pyargs import AclFail

SAFETY = 10  # seconds a gated task waits at most, so a broken simulator fails instead of hanging


def device_bytes(acl, data: bytes) -> int:
    ptr, ret = acl.rt.malloc(len(data), 0)
    assert ret == 0
    assert acl.rt.memcpy(ptr, len(data), acl.util.bytes_to_ptr(data), len(data),
                         ACL_MEMCPY_HOST_TO_DEVICE) == 0
    return ptr


def read_device(acl, ptr: int, size: int) -> bytes:
    out = bytearray(size)
    host = np.frombuffer(out, dtype=np.uint8)
    assert acl.rt.memcpy(host.ctypes.data, size, ptr, size, ACL_MEMCPY_DEVICE_TO_HOST) == 0
    return bytes(out)


class TestCreateDestroy:
    def test_create_without_context(self, sim):
        assert sim.acl.rt.create_stream() == (0, ACL_ERROR_RT_CONTEXT_NULL)

    def test_create_and_destroy(self, sim_acl, sim):
        stream, ret = sim_acl.rt.create_stream()
        assert ret == 0 and stream != 0
        assert sim.live_counts()["streams"] == 1
        assert sim_acl.rt.destroy_stream(stream) == 0
        assert sim.live_counts()["streams"] == 0

    def test_destroy_null(self, sim_acl):
        assert sim_acl.rt.destroy_stream(0) == ACL_ERROR_INVALID_PARAM

    def test_destroyed_stream(self, sim_acl):
        stream, _ = sim_acl.rt.create_stream()
        sim_acl.rt.destroy_stream(stream)
        assert sim_acl.rt.destroy_stream(stream) == ACL_ERROR_RT_INVALID_HANDLE
        assert sim_acl.rt.synchronize_stream(stream) == ACL_ERROR_RT_INVALID_HANDLE

    def test_unknown_handles(self, sim_acl):
        context, _ = sim_acl.rt.get_context()
        for handle in (0x1234, context, 2**64 - 1):
            assert sim_acl.rt.destroy_stream(handle) == ACL_ERROR_RT_INVALID_HANDLE
            assert sim_acl.rt.synchronize_stream(handle) == ACL_ERROR_RT_INVALID_HANDLE

    def test_destroying_a_context_destroys_its_streams(self, sim_acl, sim):
        context, _ = sim_acl.rt.create_context(1)
        stream, _ = sim_acl.rt.create_stream()
        assert sim_acl.rt.destroy_context(context) == 0
        assert sim.live_counts()["streams"] == 0
        sim_acl.rt.set_device(0)
        assert sim_acl.rt.synchronize_stream(stream) == ACL_ERROR_RT_INVALID_HANDLE

    def test_destroy_waits_for_pending_tasks(self, sim_acl, sim):
        stream, _ = sim_acl.rt.create_stream()
        gate, done = threading.Event(), []
        sim.runtime.stream(stream).submit(lambda: (gate.wait(SAFETY), done.append(1)))
        opener = threading.Timer(0.05, gate.set)
        opener.start()
        assert sim_acl.rt.destroy_stream(stream) == 0
        assert done == [1]
        opener.join()


class TestOrderAndConcurrency:
    def test_async_copies_on_one_stream_run_in_order(self, sim_acl):
        """Each payload goes host → shared device buffer → its own host buffer. Only FIFO
        order gives every output its own payload."""
        rt = sim_acl.rt
        stream, _ = rt.create_stream()
        size, count = 4096, 16
        shared, _ = rt.malloc(size, 0)
        sources, outputs = [], []
        for i in range(count):
            src, _ = rt.malloc_host(size)
            out, _ = rt.malloc_host(size)
            rt.memset(src, size, i + 1, size)
            sources.append(src)
            outputs.append(out)
        for src, out in zip(sources, outputs, strict=True):
            assert rt.memcpy_async(shared, size, src, size, ACL_MEMCPY_HOST_TO_DEVICE, stream) == 0
            assert rt.memcpy_async(out, size, shared, size, ACL_MEMCPY_DEVICE_TO_HOST, stream) == 0
        assert rt.synchronize_stream(stream) == 0
        for i, out in enumerate(outputs):
            assert sim_acl.util.ptr_to_bytes(out, size) == bytes([i + 1]) * size
        rt.destroy_stream(stream)

    def test_a_later_task_waits_for_an_earlier_one(self, sim_acl, sim):
        stream, _ = sim_acl.rt.create_stream()
        worker = sim.runtime.stream(stream)
        started, gate, second_done, seen = (threading.Event(), threading.Event(),
                                            threading.Event(), [])

        def first():
            started.set()
            gate.wait(SAFETY)
            seen.append(second_done.is_set())

        worker.submit(first)
        worker.submit(second_done.set)
        assert started.wait(SAFETY)
        gate.set()
        assert sim_acl.rt.synchronize_stream(stream) == 0
        assert seen == [False] and second_done.is_set()
        sim_acl.rt.destroy_stream(stream)

    def test_two_streams_run_on_two_worker_threads(self, sim_acl, sim):
        rt = sim_acl.rt
        streams = [rt.create_stream()[0] for _ in range(2)]
        threads = []
        for stream in streams:
            sim.runtime.stream(stream).submit(lambda: threads.append(threading.current_thread()))
            assert rt.synchronize_stream(stream) == 0
        assert len(set(threads)) == 2
        assert threading.current_thread() not in threads
        assert all(t.name.startswith("acl-sim-stream-") for t in threads)
        for stream in streams:
            rt.destroy_stream(stream)

    def test_two_streams_overlap(self, sim_acl, sim):
        """A task on stream A waits for an event that only a task on stream B sets: that can
        only finish if B runs while A's task is still running."""
        rt = sim_acl.rt
        a, _ = rt.create_stream()
        b, _ = rt.create_stream()
        a_started, from_b, outcome = threading.Event(), threading.Event(), []
        sim.runtime.stream(a).submit(
            lambda: (a_started.set(), outcome.append(from_b.wait(SAFETY))))
        assert a_started.wait(SAFETY)
        sim.runtime.stream(b).submit(from_b.set)
        assert rt.synchronize_stream(b) == 0
        assert rt.synchronize_stream(a) == 0
        assert outcome == [True]
        rt.destroy_stream(a)
        rt.destroy_stream(b)


class TestDefaultStream:
    def test_null_stream_is_the_default_stream(self, sim_acl, sim):
        """A copy queued on stream 0 waits behind a task held on the default stream, and
        synchronize_stream(0) waits for both."""
        rt = sim_acl.rt
        payload = bytes(range(256)) * 16
        src = device_bytes(sim_acl, payload)
        dst, _ = rt.malloc(len(payload), 0)
        rt.memset(dst, len(payload), 0, len(payload))
        gate = threading.Event()
        sim.runtime.stream(0).submit(lambda: gate.wait(SAFETY))
        assert rt.memcpy_async(dst, len(payload), src, len(payload),
                               ACL_MEMCPY_DEVICE_TO_DEVICE, 0) == 0
        assert read_device(sim_acl, dst, len(payload)) == bytes(len(payload))  # held back
        gate.set()
        assert rt.synchronize_stream(0) == 0
        assert read_device(sim_acl, dst, len(payload)) == payload

    def test_synchronize_null_stream_without_context(self, sim):
        assert sim.acl.rt.synchronize_stream(0) == ACL_ERROR_RT_CONTEXT_NULL


class TestContextsAndStreams:
    def test_memcpy_async_onto_a_stream_of_another_context(self, sim_acl):
        rt = sim_acl.rt
        src = device_bytes(sim_acl, b"x" * 64)
        dst, _ = rt.malloc(64, 0)
        context, _ = rt.create_context(0)
        foreign, _ = rt.create_stream()
        rt.set_device(0)  # back to the default context
        assert rt.memcpy_async(dst, 64, src, 64, ACL_MEMCPY_DEVICE_TO_DEVICE,
                               foreign) == ACL_ERROR_RT_STREAM_CONTEXT
        rt.set_context(context)
        assert rt.memcpy_async(dst, 64, src, 64, ACL_MEMCPY_DEVICE_TO_DEVICE, foreign) == 0
        assert rt.synchronize_stream(foreign) == 0
        rt.destroy_context(context)

    def test_memcpy_async_onto_a_destroyed_stream(self, sim_acl):
        rt = sim_acl.rt
        src = device_bytes(sim_acl, b"x" * 64)
        dst, _ = rt.malloc(64, 0)
        stream, _ = rt.create_stream()
        rt.destroy_stream(stream)
        assert rt.memcpy_async(dst, 64, src, 64, ACL_MEMCPY_DEVICE_TO_DEVICE,
                               stream) == ACL_ERROR_RT_INVALID_HANDLE

    def test_bad_arguments_fail_at_the_call_not_at_sync(self, sim_acl):
        rt = sim_acl.rt
        stream, _ = rt.create_stream()
        src = device_bytes(sim_acl, b"x" * 64)
        dst, _ = rt.malloc(64, 0)
        assert rt.memcpy_async(dst, 32, src, 64, ACL_MEMCPY_DEVICE_TO_DEVICE,
                               stream) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.memcpy_async(0, 64, src, 64, ACL_MEMCPY_DEVICE_TO_DEVICE,
                               stream) == ACL_ERROR_INVALID_PARAM
        assert rt.synchronize_stream(stream) == 0
        rt.destroy_stream(stream)

    def test_count_zero_is_success_before_the_stream_is_looked_at(self, sim_acl):
        assert sim_acl.rt.memcpy_async(0, 0, 0, 0, ACL_MEMCPY_DEVICE_TO_DEVICE, 0x1234) == 0


class TestSynchronizeDevice:
    def test_waits_for_every_stream_of_the_device(self, sim_acl, sim):
        rt = sim_acl.rt
        streams = [rt.create_stream()[0] for _ in range(2)] + [0]
        gate, done = threading.Event(), []
        for stream in streams:
            sim.runtime.stream(stream).submit(
                lambda s=stream: (gate.wait(SAFETY), done.append(s)))
        gate.set()
        assert rt.synchronize_device() == 0
        assert sorted(done) == sorted(streams)
        for stream in streams[:2]:
            rt.destroy_stream(stream)

    def test_without_context(self, sim):
        assert sim.acl.rt.synchronize_device() == ACL_ERROR_RT_CONTEXT_NULL


class TestAsyncErrors:
    """A task that fails on a stream is reported by the next synchronize, then cleared."""

    def test_error_code_reported_once(self, sim_acl, sim):
        stream, _ = sim_acl.rt.create_stream()

        def failing():
            raise AclFail(ACL_ERROR_RT_PARAM_INVALID)

        sim.runtime.stream(stream).submit(failing)
        assert sim_acl.rt.synchronize_stream(stream) == ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.synchronize_stream(stream) == 0
        sim_acl.rt.destroy_stream(stream)

    def test_unexpected_exception_is_an_internal_error_not_a_dead_stream(self, sim_acl, sim):
        stream, _ = sim_acl.rt.create_stream()
        sim.runtime.stream(stream).submit(lambda: 1 / 0)
        assert sim_acl.rt.synchronize_device() == ACL_ERROR_RT_INTERNAL_ERROR
        ran = []
        sim.runtime.stream(stream).submit(lambda: ran.append(1))
        assert sim_acl.rt.synchronize_stream(stream) == 0
        assert ran == [1]
        sim_acl.rt.destroy_stream(stream)


@pytest.mark.parametrize("count", [1, 3])
def test_finalize_stops_stream_workers(sim, count):
    acl = sim.acl
    acl.init()
    acl.rt.set_device(0)
    workers = []
    for _ in range(count):
        stream, _ = acl.rt.create_stream()
        workers.append(sim.runtime.stream(stream)._worker)
    acl.rt.synchronize_stream(0)
    workers.append(sim.runtime.stream(0)._worker)
    assert acl.finalize() == 0
    assert not any(worker.is_alive() for worker in workers)


def test_free_host_before_synchronize_does_not_crash(tmp_path):
    """A copy queued into malloc_host memory that is freed before the stream runs it must not
    write to unmapped memory (on a card that is a user bug; in the simulator it must not kill
    the interpreter). Run in a child process so a regression fails this test only."""
    code = textwrap.dedent("""
        import threading
        from pytest_acl.sim import Simulator
        sim = Simulator(devices=1, hbm="1GiB")
        acl = sim.acl
        acl.init()
        acl.rt.set_device(0)
        stream, _ = acl.rt.create_stream()
        gate = threading.Event()
        sim.runtime.stream(stream).submit(lambda: gate.wait(10))
        size = 1 << 22
        host, _ = acl.rt.malloc_host(size)
        dev, _ = acl.rt.malloc(size, 0)
        acl.rt.memset(dev, size, 7, size)
        assert acl.rt.memcpy_async(host, size, dev, size, 2, stream) == 0
        assert acl.rt.free_host(host) == 0
        gate.set()
        assert acl.rt.synchronize_stream(stream) == 0
        assert acl.finalize() == 0
        print("survived")
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "survived"
