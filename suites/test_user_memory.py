"""User-managed work and weight memory: the weights land in the user's buffer, execution
leaves them unchanged and writes nothing outside the buffers, too-small buffers are refused,
and a NULL pointer means system-managed whatever size comes with it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_acl.constants import ACL_ERROR_GE_PARAM_INVALID
from pytest_acl.om.partitions import PartitionType
from pytest_acl.om.reader import read_model
from pytest_acl.oracles import device_used, execute_and_compare, refused
from pytest_acl.variants import MODEL_VARIANTS, SYSTEM, USER, Ownership, load_model


def weights_partition(entry) -> bytes:
    return b"".join(bytes(g.find(PartitionType.WEIGHTS_DATA).data)
                    for g in read_model(entry.path.read_bytes()).groups
                    if g.find(PartitionType.WEIGHTS_DATA) is not None)


@pytest.mark.acl_clause("with_mem.user_memory_is_device_memory_used_by_the_model",
                        "with_mem.weights_read_only_during_inference",
                        "with_mem.no_writes_outside_user_buffers")
@pytest.mark.parametrize("model", ("mlp", "conv", "multi_io"))
def test_weights_live_in_the_user_buffer_and_stay_unchanged(acl, acl_device, acl_models,
                                                            device_memory, model):
    entry = acl_models[model]
    work_size, weight_size, _ = acl.mdl.query_size(str(entry.path))
    work, weight = device_memory(work_size), device_memory(weight_size)  # guarded by canaries
    before = device_used(acl)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), work.ptr, work.size,
                                                    weight.ptr, weight.size)
    assert ret == 0
    assert device_used(acl) == before, "the load took device memory of its own"
    loaded = weight.read()
    assert loaded == weights_partition(entry)
    for _ in range(2):
        execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    assert weight.read() == loaded, "execution changed the weight memory"
    assert acl.mdl.unload(model_id) == 0


@pytest.mark.acl_clause("with_mem.too_small_weight_refused", "with_mem.too_small_weight_code")
@pytest.mark.parametrize("short_by", (1, 32))
def test_too_small_weight_buffer_is_refused(acl, acl_device, acl_models, acl_expect, short_by):
    entry = acl_models["mlp"]
    _, weight, _ = acl.mdl.query_size(str(entry.path))
    ptr, _ = acl.rt.malloc(weight, 0)
    before = device_used(acl)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), 0, 0, ptr, weight - short_by)
    refused(ret, "a load with a too-small weight buffer")
    assert model_id == 0 and device_used(acl) == before
    acl_expect.code(ret, ACL_ERROR_GE_PARAM_INVALID, "with_mem.too_small_weight_code")
    acl.rt.free(ptr)


@pytest.mark.acl_clause("with_mem.too_small_work_refused", "with_mem.too_small_work_code")
def test_too_small_work_buffer_is_refused(acl, acl_device, acl_models, acl_expect):
    entry = acl_models["mlp"]
    work, _, _ = acl.mdl.query_size(str(entry.path))
    ptr, _ = acl.rt.malloc(work, 0)
    before = device_used(acl)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), ptr, work // 2, 0, 0)
    refused(ret, "a load with half the work memory")
    assert model_id == 0 and device_used(acl) == before
    acl_expect.code(ret, ACL_ERROR_GE_PARAM_INVALID, "with_mem.too_small_work_code")
    acl.rt.free(ptr)


@pytest.mark.acl_clause("with_mem.work_size_ignored_when_null",
                        "with_mem.weight_size_ignored_when_null",
                        "with_mem.work_ptr_null_is_system_managed",
                        "with_mem.weight_ptr_null_is_system_managed")
@given(work_size=st.integers(0, 2**64 - 1), weight_size=st.integers(0, 2**64 - 1))
def test_null_pointers_mean_system_managed_whatever_the_size(acl, acl_device, acl_models,
                                                             work_size, weight_size):
    entry = acl_models["noweights"]
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), 0, work_size, 0,
                                                    weight_size)
    assert ret == 0
    execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    assert acl.mdl.unload(model_id) == 0


@pytest.mark.acl_clause("with_mem.user_memory_not_freed_while_in_use")
def test_unload_before_free_is_clean(acl, acl_device, acl_models, acl_hazards):
    entry = acl_models["conv"]
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    work_ptr, _ = acl.rt.malloc(work, 0)
    weight_ptr, _ = acl.rt.malloc(weight, 0)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), work_ptr, work,
                                                    weight_ptr, weight)
    assert ret == 0
    execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    assert acl.mdl.unload(model_id) == 0
    assert acl.rt.free(work_ptr) == 0 and acl.rt.free(weight_ptr) == 0
    assert acl_hazards.new() == []



WITH_MEM = [v for v in MODEL_VARIANTS if v.with_mem]


@pytest.mark.acl_clause("with_mem.too_small_work_refused", "with_mem.too_small_work_code",
                        "with_mem.too_small_weight_refused", "with_mem.too_small_weight_code")
@pytest.mark.parametrize("role", ["work", "weight"])
@pytest.mark.parametrize("variant", [v.param() for v in WITH_MEM])
def test_too_small_user_buffers_are_refused_on_every_path(acl, acl_device, acl_models,
                                                          acl_expect, variant, role):
    """Every load path that takes user memory refuses a work buffer of half the queried size
    and a weight buffer one byte short, and leaves no model and no memory of its own."""
    entry = acl_models["mlp"]
    ownership = Ownership(USER, SYSTEM, "smaller") if role == "work" else \
        Ownership(SYSTEM, USER, "smaller")
    before = device_used(acl)
    loaded, ret = load_model(variant, acl, entry, ownership)
    try:
        refused_clause, code_clause = f"with_mem.too_small_{role}_refused", \
            f"with_mem.too_small_{role}_code"
        acl_expect.refusal(ret, ACL_ERROR_GE_PARAM_INVALID, refused_clause, code_clause)
        assert loaded.model_id == 0, f"the refused load returned model id {loaded.model_id}"
        assert device_used(acl) == before + loaded.user_cost, \
            "the refused load left device memory of its own"
    finally:
        loaded.release()
