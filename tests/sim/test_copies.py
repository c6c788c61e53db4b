"""aclrtMemcpy / aclrtMemset: data round trips, the order and codes of the argument checks
(research §7, §8; reference §3.1), and the simulator's bounds checks on device and host
memory."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_acl.constants import (
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_PARAM_INVALID,
    ACL_MEMCPY_DEFAULT,
    ACL_MEMCPY_DEVICE_TO_DEVICE,
    ACL_MEMCPY_DEVICE_TO_HOST,
    ACL_MEMCPY_HOST_TO_DEVICE,
    ACL_MEMCPY_HOST_TO_HOST,
)

H2H, H2D, D2H, D2D = (ACL_MEMCPY_HOST_TO_HOST, ACL_MEMCPY_HOST_TO_DEVICE,
                      ACL_MEMCPY_DEVICE_TO_HOST, ACL_MEMCPY_DEVICE_TO_DEVICE)
UNMAPPED = 0x1000  # the first pages of a process are never mapped
HYPOTHESIS = settings(max_examples=30, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def to_device(acl, array: np.ndarray) -> int:
    ptr, ret = acl.rt.malloc(array.nbytes, 0)
    assert ret == 0
    assert acl.rt.memcpy(ptr, array.nbytes, array.ctypes.data, array.nbytes, H2D) == 0
    return ptr


def from_device(acl, ptr: int, like: np.ndarray) -> np.ndarray:
    out = np.zeros_like(like)
    assert acl.rt.memcpy(out.ctypes.data, out.nbytes, ptr, out.nbytes, D2H) == 0
    return out


class TestRoundTrips:
    @pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float16, np.float32, np.float64])
    def test_host_device_device_host(self, sim_acl, dtype):
        data = (np.arange(1000) * 7 % 251).astype(dtype).reshape(10, 100)
        first = to_device(sim_acl, data)
        second, _ = sim_acl.rt.malloc(data.nbytes, 0)
        assert sim_acl.rt.memcpy(second, data.nbytes, first, data.nbytes, D2D) == 0
        np.testing.assert_array_equal(from_device(sim_acl, second, data), data)

    def test_host_to_host(self, sim_acl):
        src = np.arange(256, dtype=np.uint16)
        dst = np.zeros_like(src)
        assert sim_acl.rt.memcpy(dst.ctypes.data, dst.nbytes, src.ctypes.data, src.nbytes,
                                 H2H) == 0
        np.testing.assert_array_equal(dst, src)

    @HYPOTHESIS
    @given(data=st.binary(min_size=1, max_size=3000))
    def test_bytes_round_trip(self, sim_acl, data):
        ptr, _ = sim_acl.rt.malloc(len(data), 0)
        assert sim_acl.rt.memcpy(ptr, len(data), sim_acl.util.bytes_to_ptr(data), len(data),
                                 H2D) == 0
        out = np.zeros(len(data), dtype=np.uint8)
        assert sim_acl.rt.memcpy(out.ctypes.data, len(data), ptr, len(data), D2H) == 0
        assert out.tobytes() == data
        sim_acl.rt.free(ptr)

    def test_partial_copy_at_an_offset(self, sim_acl):
        data = np.arange(64, dtype=np.uint8)
        ptr = to_device(sim_acl, np.zeros(64, dtype=np.uint8))
        assert sim_acl.rt.memcpy(ptr + 10, 54, data.ctypes.data, 5, H2D) == 0
        expected = np.zeros(64, dtype=np.uint8)
        expected[10:15] = data[:5]
        np.testing.assert_array_equal(from_device(sim_acl, ptr, expected), expected)

    def test_kind_is_not_checked_against_the_addresses(self, sim_acl):
        """The runtime infers the direction (reference §4.4); ACL_MEMCPY_DEFAULT relies on it."""
        data = np.arange(32, dtype=np.uint8)
        ptr, _ = sim_acl.rt.malloc(32, 0)
        assert sim_acl.rt.memcpy(ptr, 32, data.ctypes.data, 32, ACL_MEMCPY_DEFAULT) == 0
        np.testing.assert_array_equal(from_device(sim_acl, ptr, data), data)

    def test_dst_equal_to_src(self, sim_acl):
        data = np.arange(32, dtype=np.uint8)
        ptr = to_device(sim_acl, data)
        assert sim_acl.rt.memcpy(ptr, 32, ptr, 32, D2D) == 0
        np.testing.assert_array_equal(from_device(sim_acl, ptr, data), data)

    @pytest.mark.parametrize(("dst_offset", "src_offset"), [(16, 0), (0, 16), (1, 0), (0, 63)])
    def test_overlapping_copy_within_one_allocation(self, sim_acl, dst_offset, src_offset):
        data = np.arange(256, dtype=np.uint8)
        ptr = to_device(sim_acl, data)
        count = 128
        assert sim_acl.rt.memcpy(ptr + dst_offset, count, ptr + src_offset, count, D2D) == 0
        expected = data.copy()
        expected[dst_offset:dst_offset + count] = data[src_offset:src_offset + count]
        np.testing.assert_array_equal(from_device(sim_acl, ptr, data), expected)

    def test_overlapping_host_copy(self, sim_acl):
        buf = np.arange(100, dtype=np.uint8)
        expected = buf.copy()
        expected[5:85] = buf[0:80]
        assert sim_acl.rt.memcpy(buf.ctypes.data + 5, 80, buf.ctypes.data, 80, H2H) == 0
        np.testing.assert_array_equal(buf, expected)


class TestMemcpyChecks:
    @pytest.mark.parametrize(("dst", "src", "kind"), [(0, 0, H2D), (0, UNMAPPED, 99),
                                                      (UNMAPPED, UNMAPPED, -1)])
    def test_count_zero_succeeds_before_any_check(self, sim, dst, src, kind):
        """No context either: count 0 returns before anything else (research §7)."""
        assert sim.acl.rt.memcpy(dst, 0, src, 0, kind) == 0

    def test_null_pointer(self, sim_acl):
        buf = np.zeros(8, dtype=np.uint8)
        assert sim_acl.rt.memcpy(0, 8, buf.ctypes.data, 8, H2H) == ACL_ERROR_INVALID_PARAM
        assert sim_acl.rt.memcpy(buf.ctypes.data, 8, 0, 8, H2H) == ACL_ERROR_INVALID_PARAM

    @pytest.mark.parametrize("kind", [99, -1, 1000])
    def test_bad_kind(self, sim_acl, kind):
        a, b = np.zeros(8, dtype=np.uint8), np.ones(8, dtype=np.uint8)
        assert sim_acl.rt.memcpy(a.ctypes.data, 8, b.ctypes.data, 8, kind) == \
            ACL_ERROR_INVALID_PARAM
        assert not a.any()

    def test_count_larger_than_dest_max(self, sim_acl):
        a, b = np.zeros(16, dtype=np.uint8), np.ones(16, dtype=np.uint8)
        assert sim_acl.rt.memcpy(a.ctypes.data, 8, b.ctypes.data, 16, H2H) == \
            ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.memcpy(a.ctypes.data, 0, b.ctypes.data, 1, H2H) == \
            ACL_ERROR_RT_PARAM_INVALID
        assert not a.any()

    def test_check_order(self, sim):
        """NULL, then kind (ACL layer, 100000), then count > dest_max (runtime decorator,
        107000), then the context (107002)."""
        rt = sim.acl.rt  # no context
        a, b = np.zeros(16, dtype=np.uint8), np.ones(16, dtype=np.uint8)
        assert rt.memcpy(0, 8, b.ctypes.data, 16, 99) == ACL_ERROR_INVALID_PARAM
        assert rt.memcpy(a.ctypes.data, 8, b.ctypes.data, 16, 99) == ACL_ERROR_INVALID_PARAM
        assert rt.memcpy(a.ctypes.data, 8, b.ctypes.data, 16, H2H) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.memcpy(a.ctypes.data, 16, b.ctypes.data, 16, H2H) == ACL_ERROR_RT_CONTEXT_NULL
        assert not a.any()

    @pytest.mark.parametrize("function", ["memcpy", "memcpy_async", "memset"])
    def test_no_context(self, sim, function):
        buf = np.zeros(16, dtype=np.uint8)
        args = {"memcpy": (buf.ctypes.data, 8, buf.ctypes.data + 8, 8, H2H),
                "memcpy_async": (buf.ctypes.data, 8, buf.ctypes.data + 8, 8, H2H, 0),
                "memset": (buf.ctypes.data, 16, 1, 16)}[function]
        assert getattr(sim.acl.rt, function)(*args) == ACL_ERROR_RT_CONTEXT_NULL
        assert not buf.any()


class TestBounds:
    def test_copy_may_use_the_padding_but_not_go_past_it(self, sim_acl):
        """malloc(100) really takes 160 bytes (§4.5): 160 may be written, 161 may not."""
        ptr, _ = sim_acl.rt.malloc(100, 0)
        src = np.ones(200, dtype=np.uint8)
        assert sim_acl.rt.memcpy(ptr, 200, src.ctypes.data, 160, H2D) == 0
        assert sim_acl.rt.memcpy(ptr, 200, src.ctypes.data, 161, H2D) == \
            ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.memcpy(ptr + 100, 100, src.ctypes.data, 60, H2D) == 0
        assert sim_acl.rt.memcpy(ptr + 100, 100, src.ctypes.data, 61, H2D) == \
            ACL_ERROR_RT_PARAM_INVALID
        out = np.zeros(200, dtype=np.uint8)
        assert sim_acl.rt.memcpy(out.ctypes.data, 200, ptr, 161, D2H) == \
            ACL_ERROR_RT_PARAM_INVALID

    def test_copy_may_not_run_into_the_next_allocation(self, sim_acl):
        rt = sim_acl.rt
        first, _ = rt.malloc(96, 0)  # takes 128 bytes, 64-aligned: the next one is adjacent
        second, _ = rt.malloc(96, 0)
        assert second == first + 128
        src = np.ones(256, dtype=np.uint8)
        assert rt.memcpy(first, 256, src.ctypes.data, 129, H2D) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.memcpy(first + 64, 192, second, 65, D2D) == ACL_ERROR_RT_PARAM_INVALID

    def test_unmapped_host_address(self, sim_acl):
        ptr, _ = sim_acl.rt.malloc(64, 0)
        assert sim_acl.rt.memcpy(ptr, 64, UNMAPPED, 64, H2D) == ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.memcpy(UNMAPPED, 64, ptr, 64, D2H) == ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.memcpy(UNMAPPED, 64, UNMAPPED + 64, 64, H2H) == \
            ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.memset(UNMAPPED, 64, 0, 64) == ACL_ERROR_RT_PARAM_INVALID

    def test_freed_device_pointer(self, sim_acl):
        data = np.arange(64, dtype=np.uint8)
        ptr = to_device(sim_acl, data)
        sim_acl.rt.free(ptr)
        out = np.zeros(64, dtype=np.uint8)
        assert sim_acl.rt.memcpy(out.ctypes.data, 64, ptr, 64, D2H) == ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.memcpy(ptr, 64, data.ctypes.data, 64, H2D) == ACL_ERROR_RT_PARAM_INVALID
        assert sim_acl.rt.memset(ptr, 64, 0, 64) == ACL_ERROR_RT_PARAM_INVALID
        assert not out.any()

    def test_never_allocated_device_address(self, sim_acl):
        ptr, _ = sim_acl.rt.malloc(64, 0)
        out = np.zeros(64, dtype=np.uint8)
        assert sim_acl.rt.memcpy(out.ctypes.data, 64, ptr + 2**20, 64, D2H) == \
            ACL_ERROR_RT_PARAM_INVALID


class TestMemset:
    def test_fills_device_memory(self, sim_acl):
        ptr = to_device(sim_acl, np.zeros(100, dtype=np.uint8))
        assert sim_acl.rt.memset(ptr, 100, 0x7F, 40) == 0
        expected = np.zeros(100, dtype=np.uint8)
        expected[:40] = 0x7F
        np.testing.assert_array_equal(from_device(sim_acl, ptr, expected), expected)

    def test_only_the_low_byte_of_value_counts(self, sim_acl):
        ptr, _ = sim_acl.rt.malloc(16, 0)
        assert sim_acl.rt.memset(ptr, 16, 0x1AB, 16) == 0
        assert sim_acl.rt.memset(ptr + 8, 8, -1, 8) == 0
        out = from_device(sim_acl, ptr, np.zeros(16, dtype=np.uint8))
        assert out.tobytes() == b"\xab" * 8 + b"\xff" * 8

    def test_large_fill(self, sim_acl):
        size = 3 * 2**20 + 5
        ptr, _ = sim_acl.rt.malloc(size, 0)
        assert sim_acl.rt.memset(ptr, size, 3, size) == 0
        out = from_device(sim_acl, ptr, np.zeros(size, dtype=np.uint8))
        assert (out == 3).all()

    def test_host_memory_is_allowed(self, sim_acl):
        buf = np.zeros(64, dtype=np.uint8)
        assert sim_acl.rt.memset(buf.ctypes.data, 64, 9, 32) == 0
        assert buf.tolist() == [9] * 32 + [0] * 32

    def test_count_zero_succeeds_before_any_check(self, sim):
        assert sim.acl.rt.memset(0, 0, 1, 0) == 0
        assert sim.acl.rt.memset(UNMAPPED, 0, 1, 0) == 0

    def test_null(self, sim_acl):
        assert sim_acl.rt.memset(0, 8, 1, 8) == ACL_ERROR_INVALID_PARAM

    def test_count_larger_than_max(self, sim_acl):
        ptr = to_device(sim_acl, np.zeros(64, dtype=np.uint8))
        assert sim_acl.rt.memset(ptr, 8, 1, 16) == ACL_ERROR_RT_PARAM_INVALID
        assert not from_device(sim_acl, ptr, np.zeros(64, dtype=np.uint8)).any()

    def test_past_the_end(self, sim_acl):
        ptr, _ = sim_acl.rt.malloc(100, 0)  # 160 bytes with padding
        assert sim_acl.rt.memset(ptr, 1000, 0, 160) == 0
        assert sim_acl.rt.memset(ptr, 1000, 0, 161) == ACL_ERROR_RT_PARAM_INVALID


class TestAsync:
    def test_memcpy_async_then_synchronize(self, sim_acl):
        rt = sim_acl.rt
        stream, _ = rt.create_stream()
        size = 1 << 16
        src, _ = rt.malloc_host(size)
        out, _ = rt.malloc_host(size)
        data = np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8)
        rt.memcpy(src, size, data.ctypes.data, size, H2H)
        dev, _ = rt.malloc(size, 0)
        assert rt.memcpy_async(dev, size, src, size, H2D, stream) == 0
        assert rt.memcpy_async(out, size, dev, size, D2H, stream) == 0
        assert rt.synchronize_stream(stream) == 0
        assert sim_acl.util.ptr_to_bytes(out, size) == data.tobytes()
        rt.destroy_stream(stream)

    def test_memcpy_async_checks_like_memcpy(self, sim_acl):
        rt = sim_acl.rt
        ptr, _ = rt.malloc(64, 0)
        buf = np.zeros(64, dtype=np.uint8)
        assert rt.memcpy_async(ptr, 64, 0, 64, H2D, 0) == ACL_ERROR_INVALID_PARAM
        assert rt.memcpy_async(ptr, 64, buf.ctypes.data, 64, 99, 0) == ACL_ERROR_INVALID_PARAM
        assert rt.memcpy_async(ptr, 32, buf.ctypes.data, 64, H2D, 0) == \
            ACL_ERROR_RT_PARAM_INVALID
        assert rt.memcpy_async(ptr, 64, UNMAPPED, 64, H2D, 0) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.synchronize_stream(0) == 0
