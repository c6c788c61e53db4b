"""Runtime smoke suite: the runtime calls every model-loading test depends on.

These run unchanged on the simulator and on a card (``--acl-backend pyacl``). They check the
documented behaviour the later suites stand on: devices, contexts, streams, device memory
round trips, async copies in stream order, and data buffers and datasets.
"""

from __future__ import annotations

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_ERROR_INVALID_PARAM,
    ACL_HBM_MEM,
    ACL_MEMCPY_DEVICE_TO_DEVICE,
    ACL_MEMCPY_DEVICE_TO_HOST,
    ACL_SUCCESS,
)


@pytest.mark.acl_clause("runtime.current_device_and_context")
def test_device_is_current(acl, acl_device):
    device, ret = acl.rt.get_device()
    assert (device, ret) == (acl_device, ACL_SUCCESS)


@pytest.mark.acl_clause("runtime.current_device_and_context")
def test_device_count_covers_the_selected_device(acl, acl_device):
    count, ret = acl.rt.get_device_count()
    assert ret == ACL_SUCCESS
    assert acl_device < count


@pytest.mark.acl_clause("runtime.current_device_and_context")
def test_created_context_is_current(acl, acl_context):
    context, ret = acl.rt.get_context()
    assert (context, ret) == (acl_context, ACL_SUCCESS)


@pytest.mark.acl_clause("runtime.memcpy_round_trip")
@pytest.mark.parametrize("size", [1, 4096, 3 * 2**20 + 5])
def test_host_device_host_round_trip(acl, device_memory, size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8)
    buffer = device_memory(size)
    buffer.write(data)
    assert np.array_equal(np.frombuffer(buffer.read(), np.uint8), data)


@pytest.mark.acl_clause("runtime.memcpy_round_trip")
def test_device_to_device_copy(acl, device_memory):
    data = np.arange(1024, dtype=np.float32)
    src, dst = device_memory(data.nbytes), device_memory(data.nbytes)
    src.write(data)
    ret = acl.rt.memcpy(dst.ptr, dst.size, src.ptr, data.nbytes, ACL_MEMCPY_DEVICE_TO_DEVICE)
    assert ret == ACL_SUCCESS
    assert np.array_equal(np.frombuffer(dst.read(), np.float32), data)


@pytest.mark.acl_clause("runtime.async_copies_in_stream_order")
def test_async_copies_on_one_stream_run_in_order(acl, acl_stream, device_memory, host_memory):
    """Two async copies into the same host buffer on one stream: the second one wins."""
    first, second = device_memory(256), device_memory(256)
    first.write(bytes([1]) * 256)
    second.write(bytes([2]) * 256)
    host = host_memory(256)
    for source in (first, second):
        ret = acl.rt.memcpy_async(host.ptr, 256, source.ptr, 256, ACL_MEMCPY_DEVICE_TO_HOST,
                                  acl_stream)
        assert ret == ACL_SUCCESS
    assert acl.rt.synchronize_stream(acl_stream) == ACL_SUCCESS
    assert host.read() == bytes([2]) * 256


@pytest.mark.acl_clause("runtime.memcpy_round_trip")
def test_memset_fills_device_memory(acl, device_memory):
    buffer = device_memory(100)
    assert acl.rt.memset(buffer.ptr, buffer.size, 0x5A, 100) == ACL_SUCCESS
    assert buffer.read() == b"\x5a" * 100


@pytest.mark.acl_clause("runtime.memory_accounting")
def test_malloc_takes_memory_and_free_returns_it(acl, acl_device):
    free_before, total, ret = acl.rt.get_mem_info(ACL_HBM_MEM)
    assert ret == ACL_SUCCESS
    ptr, ret = acl.rt.malloc(2**20, 0)
    assert ret == ACL_SUCCESS and ptr != 0
    free_during, _, _ = acl.rt.get_mem_info(ACL_HBM_MEM)
    assert acl.rt.free(ptr) == ACL_SUCCESS
    free_after, _, _ = acl.rt.get_mem_info(ACL_HBM_MEM)
    assert free_during <= free_before - 2**20
    assert free_after == free_before


@pytest.mark.acl_clause("runtime.malloc_zero_refused", "runtime.malloc_zero_code")
def test_malloc_of_zero_bytes_is_refused(acl, acl_device, acl_expect):
    ptr, ret = acl.rt.malloc(0, 0)
    acl_expect.refusal(ret, ACL_ERROR_INVALID_PARAM, "runtime.malloc_zero_refused",
                       "runtime.malloc_zero_code")
    assert ptr == 0, f"a refused malloc returned pointer {ptr:#x}"


@pytest.mark.acl_clause("runtime.dataset_keeps_buffers")
def test_dataset_keeps_buffers_in_insertion_order(acl, device_memory):
    buffers = [acl.create_data_buffer(device_memory(64 * (i + 1)).ptr, 64 * (i + 1))
               for i in range(3)]
    dataset = acl.mdl.create_dataset()
    for buffer in buffers:
        _, ret = acl.mdl.add_dataset_buffer(dataset, buffer)
        assert ret == ACL_SUCCESS
    assert acl.mdl.get_dataset_num_buffers(dataset) == 3
    assert [acl.mdl.get_dataset_buffer(dataset, i) for i in range(3)] == buffers
    assert [acl.get_data_buffer_size_v2(b) for b in buffers] == [64, 128, 192]
    assert acl.mdl.destroy_dataset(dataset) == ACL_SUCCESS
    for buffer in buffers:  # destroying the dataset left the buffers alive
        assert acl.destroy_data_buffer(buffer) == ACL_SUCCESS
