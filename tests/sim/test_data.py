"""Data buffers (acl.*_data_buffer*) and datasets (acl.mdl.*dataset*): reference §1.4, §4.2 and
research §10, §11. These are host-side descriptors: they need no init and describe memory
they do not own."""

from __future__ import annotations

import pytest

from pytest_acl.constants import ACL_ERROR_INVALID_PARAM

BOGUS = 0x5000_0000_DEAD_0000


@pytest.fixture
def acl(sim):
    """An uninitialised simulator's acl: descriptors do not need acl.init."""
    return sim.acl


class TestDataBuffer:
    def test_create_and_read_back(self, acl):
        buffer = acl.create_data_buffer(0x1234_5000, 4096)
        assert type(buffer) is int and buffer != 0
        assert acl.get_data_buffer_addr(buffer) == 0x1234_5000
        assert acl.get_data_buffer_size_v2(buffer) == 4096
        assert acl.get_data_buffer_size(buffer) == 4096
        assert acl.destroy_data_buffer(buffer) == 0

    @pytest.mark.parametrize(("data", "size"), [(0, 10), (0, 0), (0x1000, 0)])
    def test_any_address_and_size_is_a_valid_buffer(self, acl, data, size):
        """aclCreateDataBuffer checks nothing (research §11)."""
        buffer = acl.create_data_buffer(data, size)
        assert buffer != 0
        assert (acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)) == \
            (data, size)

    def test_deprecated_size_is_truncated_to_32_bits(self, acl):
        buffer = acl.create_data_buffer(0, 2**32 + 5)
        assert acl.get_data_buffer_size_v2(buffer) == 2**32 + 5
        assert acl.get_data_buffer_size(buffer) == 5

    def test_buffers_are_distinct(self, acl):
        handles = {acl.create_data_buffer(0, 8) for _ in range(10)}
        assert len(handles) == 10

    def test_update(self, acl):
        buffer = acl.create_data_buffer(0, 0)
        assert acl.update_data_buffer(buffer, 0xABC000, 77) == 0
        assert (acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)) == \
            (0xABC000, 77)
        assert acl.update_data_buffer(buffer, 0, 0) == 0  # reset, as after an auto-allocated output
        assert acl.get_data_buffer_addr(buffer) == 0

    @pytest.mark.parametrize("handle", [0, BOGUS])
    def test_getters_give_zero_on_null_or_unknown(self, acl, handle):
        assert acl.get_data_buffer_addr(handle) == 0
        assert acl.get_data_buffer_size_v2(handle) == 0
        assert acl.get_data_buffer_size(handle) == 0

    def test_destroyed_buffer(self, acl):
        buffer = acl.create_data_buffer(0x1000, 8)
        assert acl.destroy_data_buffer(buffer) == 0
        assert acl.destroy_data_buffer(buffer) == ACL_ERROR_INVALID_PARAM
        assert acl.update_data_buffer(buffer, 0, 0) == ACL_ERROR_INVALID_PARAM
        assert acl.get_data_buffer_addr(buffer) == 0

    def test_null_buffer(self, acl):
        assert acl.destroy_data_buffer(0) == ACL_ERROR_INVALID_PARAM
        assert acl.update_data_buffer(0, 0x1000, 8) == ACL_ERROR_INVALID_PARAM

    def test_destroying_a_buffer_does_not_free_its_memory(self, sim_acl):
        ptr, _ = sim_acl.rt.malloc(256, 0)
        buffer = sim_acl.create_data_buffer(ptr, 256)
        assert sim_acl.destroy_data_buffer(buffer) == 0
        assert sim_acl.rt.free(ptr) == 0

    def test_buffers_survive_finalize(self, sim):
        acl = sim.acl
        acl.init()
        buffer = acl.create_data_buffer(0x1000, 8)
        acl.finalize()
        assert acl.get_data_buffer_size_v2(buffer) == 8
        assert acl.destroy_data_buffer(buffer) == 0


class TestDataset:
    def test_empty_dataset(self, acl):
        dataset = acl.mdl.create_dataset()
        assert dataset != 0
        assert acl.mdl.get_dataset_num_buffers(dataset) == 0
        assert acl.mdl.get_dataset_buffer(dataset, 0) == 0
        assert acl.mdl.destroy_dataset(dataset) == 0

    def test_buffers_in_insertion_order(self, acl):
        dataset = acl.mdl.create_dataset()
        buffers = [acl.create_data_buffer(0x1000 * (i + 1), i) for i in range(4)]
        for buffer in buffers:
            assert acl.mdl.add_dataset_buffer(dataset, buffer) == (dataset, 0)
        assert acl.mdl.get_dataset_num_buffers(dataset) == 4
        assert [acl.mdl.get_dataset_buffer(dataset, i) for i in range(4)] == buffers
        assert acl.mdl.get_dataset_buffer(dataset, 4) == 0
        assert acl.mdl.get_dataset_buffer(dataset, 2**64 - 1) == 0

    def test_add_echoes_the_dataset_even_on_failure(self, acl):
        dataset = acl.mdl.create_dataset()
        buffer = acl.create_data_buffer(0, 0)
        assert acl.mdl.add_dataset_buffer(dataset, 0) == (dataset, ACL_ERROR_INVALID_PARAM)
        assert acl.mdl.add_dataset_buffer(dataset, BOGUS) == (dataset, ACL_ERROR_INVALID_PARAM)
        assert acl.mdl.add_dataset_buffer(0, buffer) == (0, ACL_ERROR_INVALID_PARAM)
        assert acl.mdl.add_dataset_buffer(BOGUS, buffer) == (BOGUS, ACL_ERROR_INVALID_PARAM)
        assert acl.mdl.get_dataset_num_buffers(dataset) == 0  # nothing was added

    def test_getters_on_null_or_unknown(self, acl):
        for handle in (0, BOGUS):
            assert acl.mdl.get_dataset_num_buffers(handle) == 0
            assert acl.mdl.get_dataset_buffer(handle, 0) == 0

    def test_destroy_null_or_twice(self, acl):
        assert acl.mdl.destroy_dataset(0) == ACL_ERROR_INVALID_PARAM
        dataset = acl.mdl.create_dataset()
        assert acl.mdl.destroy_dataset(dataset) == 0
        assert acl.mdl.destroy_dataset(dataset) == ACL_ERROR_INVALID_PARAM
        assert acl.mdl.get_dataset_num_buffers(dataset) == 0

    def test_destroying_a_dataset_leaves_its_buffers_alive(self, acl, sim):
        dataset = acl.mdl.create_dataset()
        buffers = [acl.create_data_buffer(0x2000, 16) for _ in range(3)]
        for buffer in buffers:
            acl.mdl.add_dataset_buffer(dataset, buffer)
        assert acl.mdl.destroy_dataset(dataset) == 0
        assert sim.live_counts()["data_buffers"] == 3
        for buffer in buffers:
            assert acl.get_data_buffer_addr(buffer) == 0x2000
            assert acl.destroy_data_buffer(buffer) == 0
        assert sim.live_counts()["data_buffers"] == 0

    def test_destroyed_buffer_cannot_be_added(self, acl):
        dataset = acl.mdl.create_dataset()
        buffer = acl.create_data_buffer(0, 0)
        acl.destroy_data_buffer(buffer)
        assert acl.mdl.add_dataset_buffer(dataset, buffer) == (dataset, ACL_ERROR_INVALID_PARAM)

    def test_handles_of_different_kinds_are_not_interchangeable(self, acl):
        dataset = acl.mdl.create_dataset()
        buffer = acl.create_data_buffer(0x3000, 8)
        assert acl.get_data_buffer_addr(dataset) == 0
        assert acl.mdl.get_dataset_num_buffers(buffer) == 0
        assert acl.destroy_data_buffer(dataset) == ACL_ERROR_INVALID_PARAM
        assert acl.mdl.destroy_dataset(buffer) == ACL_ERROR_INVALID_PARAM
        assert acl.mdl.add_dataset_buffer(dataset, dataset) == (dataset, ACL_ERROR_INVALID_PARAM)

    def test_live_counts(self, acl, sim):
        dataset = acl.mdl.create_dataset()
        assert sim.live_counts()["datasets"] == 1
        acl.mdl.destroy_dataset(dataset)
        assert sim.live_counts()["datasets"] == 0
