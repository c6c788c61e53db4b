"""Device and host memory: alignment, the real size aclrtMalloc takes (reference §4.5), the
device address space, lazy backing, OOM, free errors, get_mem_info, and release on
reset_device / finalize."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_acl.constants import (
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_INVALID_MEMORY_TYPE,
    ACL_ERROR_RT_MEMORY_ALLOCATION,
    ACL_ERROR_RT_PARAM_INVALID,
    ACL_HBM_MEM,
    ACL_HBM_MEM_HUGE,
    ACL_HBM_MEM_NORMAL,
    ACL_HBM_MEM_P2P_HUGE,
    ACL_HBM_MEM_P2P_NORMAL,
    ACL_MEM_MALLOC_HUGE1G_ONLY,
    ACL_MEM_MALLOC_HUGE1G_ONLY_P2P,
    ACL_MEMCPY_DEVICE_TO_HOST,
    MemAttr,
)
from pytest_acl.sim import Simulator
from pytest_acl.sim.hostmem import is_mapped

GiB, MiB = 2**30, 2**20
DEVICE_SPACE = 0x4000_0000_0000_0000
HYPOTHESIS = settings(max_examples=30, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def padded(size: int) -> int:
    """reference §4.5: the size rounded up to 32 bytes, plus 32 bytes."""
    return -(-size // 32) * 32 + 32


def in_use(rt, attr: int = ACL_HBM_MEM) -> int:
    free, total, ret = rt.get_mem_info(attr)
    assert ret == 0
    return total - free


class TestMalloc:
    @HYPOTHESIS
    @given(size=st.integers(min_value=1, max_value=4 * MiB))
    def test_alignment_and_real_size(self, sim_acl, size):
        rt = sim_acl.rt
        before = in_use(rt)
        ptr, ret = rt.malloc(size, 0)
        assert ret == 0
        assert ptr % 64 == 0
        assert in_use(rt) - before == padded(size)
        assert rt.free(ptr) == 0
        assert in_use(rt) == before

    @HYPOTHESIS
    @given(size=st.integers(min_value=1, max_value=MiB),
           policy=st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 0x100, 99, -1]))
    def test_policy_decides_padding(self, sim_acl, size, policy):
        """Any policy is accepted; the 1G huge-page ones are not padded (§4.5)."""
        rt = sim_acl.rt
        before = in_use(rt)
        ptr, ret = rt.malloc(size, policy)
        assert ret == 0
        huge1g = policy in (ACL_MEM_MALLOC_HUGE1G_ONLY, ACL_MEM_MALLOC_HUGE1G_ONLY_P2P)
        assert in_use(rt) - before == (-(-size // 32) * 32 if huge1g else padded(size))
        rt.free(ptr)

    @HYPOTHESIS
    @given(size=st.integers(min_value=1, max_value=MiB))
    def test_align32_and_cached(self, sim_acl, size):
        """aclrtMallocAlign32 rounds to 32 without padding; aclrtMallocCached pads as malloc
        (runtime memory.cpp)."""
        rt = sim_acl.rt
        before = in_use(rt)
        ptr, ret = rt.malloc_align32(size, 0)
        assert ret == 0 and ptr % 64 == 0
        assert in_use(rt) - before == -(-size // 32) * 32
        rt.free(ptr)
        ptr, ret = rt.malloc_cached(size, 0)
        assert ret == 0 and ptr % 64 == 0
        assert in_use(rt) - before == padded(size)
        rt.free(ptr)

    def test_allocations_do_not_overlap(self, sim_acl):
        rt = sim_acl.rt
        sizes = [1, 31, 32, 33, 100, 4096, 5000]
        ptrs = [rt.malloc(size, 0)[0] for size in sizes]
        spans = sorted(zip(ptrs, (padded(s) for s in sizes), strict=True))
        for (start, extent), (next_start, _) in itertools.pairwise(spans):
            assert start + extent <= next_start

    def test_device_pointers_are_not_host_memory(self, sim_acl):
        rt = sim_acl.rt
        first, _ = rt.malloc(64, 0)
        rt.set_device(1)
        second, _ = rt.malloc(64, 0)
        for ptr in (first, second):
            assert ptr >= DEVICE_SPACE
            assert not is_mapped(ptr, 1)
        assert first != second

    def test_addresses_are_never_reused(self, sim_acl):
        rt = sim_acl.rt
        seen = set()
        for _ in range(20):
            ptr, ret = rt.malloc(128, 0)
            assert ret == 0 and ptr not in seen
            seen.add(ptr)
            assert rt.free(ptr) == 0
        for ptr in seen:
            assert rt.free(ptr) == ACL_ERROR_RT_PARAM_INVALID

    def test_size_zero(self, sim_acl):
        assert sim_acl.rt.malloc(0, 0) == (0, ACL_ERROR_INVALID_PARAM)

    @pytest.mark.parametrize(("function", "size", "expected"), [
        ("malloc", 2**64 - 65, ACL_ERROR_RT_MEMORY_ALLOCATION),  # size + 64 still fits
        ("malloc", 2**64 - 64, ACL_ERROR_INVALID_PARAM),  # size + 64 overflows
        ("malloc", 2**64 - 1, ACL_ERROR_INVALID_PARAM),
        ("malloc_cached", 2**64 - 64, ACL_ERROR_INVALID_PARAM),
        ("malloc_align32", 2**64 - 33, ACL_ERROR_RT_MEMORY_ALLOCATION),  # append is 32 only
        ("malloc_align32", 2**64 - 32, ACL_ERROR_INVALID_PARAM),
    ])
    def test_size_overflow(self, sim_acl, function, size, expected):
        """GetAlignedAndPaddingSize refuses a size whose padded form overflows (100000)."""
        assert getattr(sim_acl.rt, function)(size, 0) == (0, expected)

    def test_no_context(self, sim):
        assert sim.acl.rt.malloc(64, 0) == (0, ACL_ERROR_RT_CONTEXT_NULL)


class TestOutOfMemory:
    def test_capacity_boundary(self, sim_acl):
        rt = sim_acl.rt
        assert rt.malloc(GiB, 0) == (0, ACL_ERROR_RT_MEMORY_ALLOCATION)
        assert rt.malloc(GiB - 31, 0) == (0, ACL_ERROR_RT_MEMORY_ALLOCATION)  # takes GiB + 32
        ptr, ret = rt.malloc(GiB - 32, 0)  # takes exactly GiB
        assert ret == 0
        assert rt.get_mem_info(ACL_HBM_MEM) == (0, GiB, 0)
        assert rt.malloc(1, 0) == (0, ACL_ERROR_RT_MEMORY_ALLOCATION)
        assert rt.free(ptr) == 0
        ptr, ret = rt.malloc(1, 0)
        assert ret == 0

    def test_devices_have_separate_capacity(self, sim_acl):
        rt = sim_acl.rt
        ptr, ret = rt.malloc(GiB - 32, 0)
        assert ret == 0
        rt.set_device(1)
        assert rt.malloc(GiB - 32, 0)[1] == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_backing_store_is_lazy():
    """16 GiB of simulated HBM costs no host memory until it is written."""

    def rss() -> int:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    acl = Simulator(devices=1, hbm="32GiB").acl
    acl.init()
    acl.rt.set_device(0)
    try:
        before = rss()
        ptr, ret = acl.rt.malloc(16 * GiB, 0)
        assert ret == 0
        assert rss() - before < 8 * MiB
        assert acl.rt.get_mem_info(ACL_HBM_MEM) == (32 * GiB - padded(16 * GiB), 32 * GiB, 0)
        # The far end is usable: write and read back its last bytes.
        end = ptr + 16 * GiB - 8
        assert acl.rt.memset(end, 8, 0x5A, 8) == 0
        out = bytearray(8)
        host = np.frombuffer(out, dtype=np.uint8)
        assert acl.rt.memcpy(host.ctypes.data, 8, end, 8, ACL_MEMCPY_DEVICE_TO_HOST) == 0
        assert out == b"\x5a" * 8
        assert acl.rt.free(ptr) == 0
    finally:
        acl.finalize()


class TestFree:
    def test_null(self, sim_acl):
        assert sim_acl.rt.free(0) == ACL_ERROR_INVALID_PARAM

    def test_double_free(self, sim_acl):
        ptr, _ = sim_acl.rt.malloc(64, 0)
        assert sim_acl.rt.free(ptr) == 0
        assert sim_acl.rt.free(ptr) == ACL_ERROR_RT_PARAM_INVALID

    def test_not_the_start_of_an_allocation(self, sim_acl):
        rt = sim_acl.rt
        ptr, _ = rt.malloc(256, 0)
        host, _ = rt.malloc_host(64)
        for bad in (ptr + 64, ptr + 1, DEVICE_SPACE + 2**43, host, 0x1000):
            assert rt.free(bad) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.free(ptr) == 0  # untouched by the failed calls
        rt.free_host(host)


class TestHostMemory:
    def test_malloc_host_gives_zeroed_host_memory(self, sim_acl, sim):
        rt = sim_acl.rt
        ptr, ret = rt.malloc_host(10000)
        assert ret == 0
        assert ptr < DEVICE_SPACE and is_mapped(ptr, 10000)
        assert sim_acl.util.ptr_to_bytes(ptr, 10000) == bytes(10000)
        assert sim.live_counts()["host_allocations"] == 1
        assert in_use(rt) == 0  # host memory is not device memory
        assert rt.free_host(ptr) == 0
        assert sim.live_counts()["host_allocations"] == 0

    def test_malloc_host_errors(self, sim_acl):
        assert sim_acl.rt.malloc_host(0) == (0, ACL_ERROR_INVALID_PARAM)

    def test_free_host_errors(self, sim_acl):
        rt = sim_acl.rt
        ptr, _ = rt.malloc_host(64)
        device, _ = rt.malloc(64, 0)
        assert rt.free_host(0) == ACL_ERROR_INVALID_PARAM
        assert rt.free_host(device) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.free_host(ptr + 8) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.free(ptr) == ACL_ERROR_RT_PARAM_INVALID  # not device memory
        assert rt.free_host(ptr) == 0
        assert rt.free_host(ptr) == ACL_ERROR_RT_PARAM_INVALID


class TestMemInfo:
    def test_all_hbm_attributes_report_the_device_hbm(self, sim_acl):
        rt = sim_acl.rt
        ptr, _ = rt.malloc(1000, 0)
        expected = (GiB - padded(1000), GiB, 0)
        for attr in (ACL_HBM_MEM, ACL_HBM_MEM_HUGE, ACL_HBM_MEM_NORMAL, ACL_HBM_MEM_P2P_HUGE,
                     ACL_HBM_MEM_P2P_NORMAL):
            assert rt.get_mem_info(attr) == expected

    @pytest.mark.parametrize("attr", list(MemAttr), ids=lambda a: a.name)
    def test_every_attribute_is_valid(self, sim_acl, attr):
        free, total, ret = sim_acl.rt.get_mem_info(attr)
        assert ret == 0 and 0 <= free <= total

    @pytest.mark.parametrize("attr", [10, 99, -1, 2**31 - 1])
    def test_invalid_attribute(self, sim_acl, attr):
        assert sim_acl.rt.get_mem_info(attr) == (0, 0, ACL_ERROR_RT_INVALID_MEMORY_TYPE)

    def test_no_context(self, sim):
        assert sim.acl.rt.get_mem_info(ACL_HBM_MEM) == (0, 0, ACL_ERROR_RT_CONTEXT_NULL)

    def test_per_device(self, sim_acl):
        rt = sim_acl.rt
        rt.malloc(4096, 0)
        rt.set_device(1)
        assert rt.get_mem_info(ACL_HBM_MEM) == (GiB, GiB, 0)
        rt.malloc(100, 0)
        assert in_use(rt) == padded(100)
        rt.set_device(0)
        assert in_use(rt) == padded(4096)


class TestRelease:
    def test_reset_device_frees_its_memory(self, sim_acl):
        rt = sim_acl.rt
        rt.set_device(1)
        ptr, _ = rt.malloc(4096, 0)
        assert rt.reset_device(1) == 0
        rt.set_device(1)
        assert rt.get_mem_info(ACL_HBM_MEM) == (GiB, GiB, 0)
        assert rt.free(ptr) == ACL_ERROR_RT_PARAM_INVALID

    def test_reset_device_keeps_memory_while_a_created_context_lives(self, sim_acl):
        rt = sim_acl.rt
        rt.set_device(1)
        context, _ = rt.create_context(1)
        ptr, _ = rt.malloc(4096, 0)
        assert rt.reset_device(1) == 0
        assert in_use(rt) == padded(4096)  # the created context is still current
        assert rt.destroy_context(context) == 0
        rt.set_device(1)
        assert in_use(rt) == 0
        assert rt.free(ptr) == ACL_ERROR_RT_PARAM_INVALID

    def test_reset_of_one_device_leaves_the_other(self, sim_acl):
        rt = sim_acl.rt
        ptr, _ = rt.malloc(4096, 0)
        rt.set_device(1)
        rt.reset_device(1)
        rt.set_device(0)
        assert rt.free(ptr) == 0

    def test_finalize_releases_everything(self, sim):
        acl = sim.acl
        acl.init()
        for device in (0, 1):
            acl.rt.set_device(device)
            acl.rt.malloc(10000, 0)
            acl.rt.create_stream()
        acl.rt.create_context(0)
        acl.rt.malloc_host(4096)
        acl.create_data_buffer(0, 16)  # a host-side descriptor: survives finalize
        assert acl.finalize() == 0
        assert sim.live_counts() == {
            "device0.bytes_in_use": 0, "device1.bytes_in_use": 0, "contexts": 0, "streams": 0,
            "host_allocations": 0, "data_buffers": 1, "datasets": 0, "report_subscriptions": 0,
            "util_threads": 0, "models": 0, "bundles": 0}
        acl.init()
        acl.rt.set_device(0)
        assert acl.rt.get_mem_info(ACL_HBM_MEM) == (GiB, GiB, 0)
        acl.finalize()
