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
from pytest_acl.oracles import (
    device_used,
    execute_and_compare,
    uses_the_user_memory,
    written,
)
from pytest_acl.variants import MODEL_WITH_MEM, SYSTEM, USER, Ownership, load_model


def weights_partition(entry) -> bytes:
    return b"".join(bytes(g.find(PartitionType.WEIGHTS_DATA).data)
                    for g in read_model(entry.path.read_bytes()).groups
                    if g.find(PartitionType.WEIGHTS_DATA) is not None)


@pytest.mark.acl_clause("with_mem.user_memory_is_device_memory_used_by_the_model",
                        "with_mem.weights_read_only_during_inference",
                        "with_mem.no_writes_outside_user_buffers")
@pytest.mark.parametrize("model", ("mlp", "conv", "multi_io"))
@pytest.mark.parametrize("variant", [v.param() for v in MODEL_WITH_MEM])
def test_weights_live_in_the_user_buffer_and_stay_unchanged(acl, acl_device, acl_models,
                                                            device_memory, variant, model):
    entry = acl_models[model]
    before = device_used(acl)
    # query → malloc (canaried buffers: writes past either end show) → load with them
    loaded, ret = load_model(variant, acl, entry, Ownership(USER, USER), allocate=device_memory)
    try:
        assert ret == 0, f"{variant.name} returned {ret}"
        uses_the_user_memory(acl, loaded, before, 0)
        weight = loaded.buffers["weight"]
        assert weight.read() == weights_partition(entry)
        for _ in range(2):
            execute_and_compare(acl, loaded.model_id, entry.inputs(), entry.outputs())
        assert weight.read() == weights_partition(entry), "execution changed the weight memory"
        if "work" in loaded.user_memory:
            written(acl, loaded, "work", "two executions")
    finally:
        loaded.release()


@pytest.mark.acl_clause("with_mem.work_size_ignored_when_null",
                        "with_mem.weight_size_ignored_when_null",
                        "with_mem.work_ptr_null_is_system_managed",
                        "with_mem.weight_ptr_null_is_system_managed")
@pytest.mark.parametrize("variant", [v.param() for v in MODEL_WITH_MEM])
@given(work_size=st.integers(0, 2**64 - 1), weight_size=st.integers(0, 2**64 - 1))
def test_null_pointers_mean_system_managed_whatever_the_size(acl, acl_device, acl_models,
                                                             variant, work_size, weight_size):
    entry = acl_models["noweights"]
    loaded, ret = load_model(variant, acl, entry, Ownership(USER, USER),
                             given={"work": (0, work_size), "weight": (0, weight_size)})
    try:
        assert ret == 0, f"{variant.name} with NULL pointers returned {ret}"
        execute_and_compare(acl, loaded.model_id, entry.inputs(), entry.outputs())
    finally:
        loaded.release()


@pytest.mark.acl_clause("with_mem.user_memory_not_freed_while_in_use")
@pytest.mark.parametrize("variant", [v.param() for v in MODEL_WITH_MEM])
def test_unload_before_free_is_clean(acl, acl_device, acl_models, acl_hazards, variant):
    """query → malloc → load with the memory → execute → unload → free: no hazard."""
    entry = acl_models["conv"]
    loaded, ret = load_model(variant, acl, entry, Ownership(USER, USER))
    try:
        assert ret == 0, f"{variant.name} returned {ret}"
        execute_and_compare(acl, loaded.model_id, entry.inputs(), entry.outputs())
    finally:
        loaded.release()  # unloads, then frees
    assert acl_hazards.new() == []


@pytest.mark.acl_clause("with_mem.too_small_work_refused", "with_mem.too_small_work_code",
                        "with_mem.too_small_weight_refused", "with_mem.too_small_weight_code")
@pytest.mark.parametrize("role", ["work", "weight"])
@pytest.mark.parametrize("variant", [v.param() for v in MODEL_WITH_MEM])
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
