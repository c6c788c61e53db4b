"""Model lifecycle and contexts: unique ids, unload twice, execute after unload, the same-
context rule, and a load that cannot get device memory failing cleanly."""

from __future__ import annotations

import pytest

from pytest_acl.constants import ACL_ERROR_GE_EXEC_MODEL_ID_INVALID, ACL_HBM_MEM
from pytest_acl.modelio import ModelIO
from pytest_acl.oracles import device_used, execute_and_compare, refused

DYNAMIC_FIRST_ID = 2**31


@pytest.mark.acl_clause("lifecycle.ids_unique_among_live_models", "lifecycle.id_numbering")
def test_ids_are_unique_count_up_and_are_not_reused(acl, acl_device, acl_models, acl_expect):
    path = str(acl_models["mlp"].path)
    ids = [acl.mdl.load_from_file(path)[0] for _ in range(3)]
    assert len(set(ids)) == 3 and 0 not in ids
    acl.mdl.unload(ids[0])
    again, _ = acl.mdl.load_from_file(path)
    assert again not in ids[1:]
    acl_expect.value(ids == sorted(ids) and again > ids[-1], True, "lifecycle.id_numbering")
    dynamic, _ = acl.mdl.load_from_file(str(acl_models["dyn_shape"].path))
    acl_expect.value(dynamic >= DYNAMIC_FIRST_ID, True, "lifecycle.id_numbering")
    for model_id in (*ids[1:], again, dynamic):
        assert acl.mdl.unload(model_id) == 0


@pytest.mark.acl_clause("lifecycle.unload_twice_refused", "lifecycle.unload_twice_code",
                        "lifecycle.execute_after_unload_refused")
def test_unload_twice_and_execute_after_unload_are_refused(acl, acl_device, acl_models,
                                                          acl_expect):
    entry = acl_models["mlp"]
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    assert acl.mdl.unload(model_id) == 0
    ret = acl.mdl.unload(model_id)
    refused(ret, "a second unload")
    acl_expect.code(ret, ACL_ERROR_GE_EXEC_MODEL_ID_INVALID, "lifecycle.unload_twice_code")
    refused(acl.mdl.execute(model_id, io.in_ds, io.out_ds), "execute after unload")
    io.release()


@pytest.mark.acl_clause("context.load_execute_unload_same_context")
def test_load_execute_unload_in_a_created_context(acl, acl_context, acl_models):
    entry = acl_models["conv"]
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    assert ret == 0
    execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    assert acl.mdl.unload(model_id) == 0


@pytest.mark.acl_clause("context.other_context_is_the_applications_mistake")
@pytest.mark.filterwarnings("ignore::pytest_acl.sim.sanitizer.HazardWarning")
def test_execute_and_unload_from_another_context(acl, acl_device, acl_models, acl_expect,
                                                 acl_hazards):
    """The misuse is recorded (codes) and reported (sanitizer); the model survives it."""
    entry = acl_models["mlp"]
    home, _ = acl.rt.get_context()
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    other, _ = acl.rt.create_context(acl_device)
    acl_expect.record("execute_from_another_context", acl.mdl.execute(model_id, io.in_ds,
                                                                      io.out_ds))
    assert acl.rt.set_context(home) == 0
    execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    io.release()
    assert acl.rt.set_context(other) == 0
    ret = acl.mdl.unload(model_id)
    acl_expect.record("unload_from_another_context", ret)
    assert acl.rt.set_context(home) == 0
    if ret != 0:
        assert acl.mdl.unload(model_id) == 0
    assert acl.rt.destroy_context(other) == 0
    if acl_hazards.supported:
        kinds = [hazard.kind for hazard in acl_hazards.new()]
        assert kinds.count("wrong_context") == 2, f"the sanitizer reported {kinds}"


# Device memory left for a load, as parts of (weights, work): too little for the weights;
# the weights fit and the work does not; all but a little of both.
BUDGETS = {"half_the_weights": (0.5, 0), "weights_and_half_the_work": (1, 0.5),
           "all_but_a_little": (1, 0.9)}


@pytest.mark.acl_clause("memory.insufficient_device_memory_fails_cleanly")
@pytest.mark.parametrize("model", ["mlp", "conv"])
@pytest.mark.parametrize("budget", sorted(BUDGETS))
def test_a_load_short_of_device_memory_anywhere_fails_cleanly(acl, acl_device, acl_models,
                                                              model, budget):
    """Wherever the memory runs out — before the weights, between weights and work — the
    load is refused and leaves device memory as it was."""
    entry = acl_models[model]
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    of_weight, of_work = BUDGETS[budget]
    left = int(weight * of_weight + work * of_work)
    assert left < weight + work
    free, _, _ = acl.rt.get_mem_info(ACL_HBM_MEM)
    hog, ret = acl.rt.malloc(free - left, 0)
    assert ret == 0
    before = device_used(acl)
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    refused(ret, f"a load with {left} bytes of device memory left (it needs {weight} + {work})")
    assert model_id == 0
    assert device_used(acl) == before, "the refused load left device memory allocated"
    assert acl.rt.free(hog) == 0


@pytest.mark.acl_clause("memory.insufficient_device_memory_fails_cleanly")
def test_load_without_enough_device_memory_fails_cleanly(acl, acl_device, acl_models):
    entry = acl_models["bigweights"]
    data = entry.path.read_bytes()
    free, _, _ = acl.rt.get_mem_info(ACL_HBM_MEM)
    hog, ret = acl.rt.malloc(free - entry.weight_size // 2, 0)
    assert ret == 0
    before = device_used(acl)
    model_id, ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), len(data))
    refused(ret, "a load without enough device memory")
    assert model_id == 0 and device_used(acl) == before
    assert acl.rt.free(hog) == 0


@pytest.mark.acl_clause("lifecycle.desc_of_unloaded_model_refused",
                        "lifecycle.desc_cleared_when_refused")
def test_desc_of_an_unloaded_model_is_refused_and_a_reused_desc_cleared(acl, acl_device,
                                                                        acl_models, acl_expect):
    entry = acl_models["multi_io"]
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    assert ret == 0
    desc = acl.mdl.create_desc()
    try:
        assert acl.mdl.get_desc(desc, model_id) == 0
        assert acl.mdl.get_num_inputs(desc) == len(entry.data["inputs"])
        assert acl.mdl.unload(model_id) == 0
        ret = acl.mdl.get_desc(desc, model_id)
        acl_expect.refusal(ret, ACL_ERROR_GE_EXEC_MODEL_ID_INVALID,
                           "lifecycle.desc_of_unloaded_model_refused",
                           "lifecycle.desc_cleared_when_refused")
        acl_expect.value(acl.mdl.get_num_inputs(desc), 0, "lifecycle.desc_cleared_when_refused")
    finally:
        assert acl.mdl.destroy_desc(desc) == 0


@pytest.mark.acl_clause("execute.null_output_buffer_allocated")
@pytest.mark.parametrize("model", ["mlp", "multi_io"])
def test_sync_execute_allocates_null_output_buffers(acl, acl_device, acl_models, model):
    import numpy as np

    from pytest_acl.buffers import copy_from_device
    from pytest_acl.oracles import outputs_match

    entry = acl_models[model]
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    assert ret == 0
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    handles = [acl.mdl.get_dataset_buffer(io.out_ds, i) for i in range(len(entry.outputs()))]
    originals = [(acl.get_data_buffer_addr(h), acl.get_data_buffer_size_v2(h)) for h in handles]
    for handle in handles:
        assert acl.update_data_buffer(handle, 0, 0) == 0
    try:
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
        got = {}
        for handle, (name, want) in zip(handles, entry.outputs().items(), strict=True):
            ptr, size = acl.get_data_buffer_addr(handle), acl.get_data_buffer_size_v2(handle)
            assert ptr != 0 and size >= want.nbytes, \
                f"output {name!r}: the data buffer holds {ptr:#x}+{size} after the execution"
            got[name] = np.frombuffer(copy_from_device(acl, ptr, want.nbytes),
                                      want.dtype).reshape(want.shape)
            assert acl.rt.free(ptr) == 0  # the application frees what ACL allocated
        outputs_match(got, entry.outputs())
    finally:
        for handle, (ptr, size) in zip(handles, originals, strict=True):
            acl.update_data_buffer(handle, ptr, size)
        io.release()
        assert acl.mdl.unload(model_id) == 0
