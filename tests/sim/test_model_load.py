"""Loading models in the simulator: every load path, memory ownership, size checks, ids,
unloading and contexts (reference/acl-api.md §5, §3.1)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_ERROR_GE_EXEC_MODEL_ID_INVALID,
    ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID,
    ACL_ERROR_GE_PARAM_INVALID,
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_MODEL_CONTEXT,
    ACL_ERROR_RT_PARAM_INVALID,
    ACL_HBM_MEM,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.sim.devmem import real_size
from pytest_acl.sim.sanitizer import HazardWarning
from pytest_acl.variants import MODEL_VARIANTS, SYSTEM, USER, Ownership, load_model

STATIC = ["mlp", "conv", "noweights", "multi_io"]


@pytest.fixture
def catalog(built_catalog):
    directory, manifest = built_catalog
    return lambda name: ModelEntry(directory, manifest["models"][name])


def used(acl) -> int:
    free, total, _ = acl.rt.get_mem_info(ACL_HBM_MEM)
    return total - free


def model_bytes(entry: ModelEntry) -> bytes:
    return entry.path.read_bytes()


def run_and_compare(acl, model_id, entry: ModelEntry) -> None:
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    try:
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
        for name, expected in entry.outputs().items():
            np.testing.assert_allclose(io.outputs()[name], expected, rtol=1e-4, atol=1e-5)
    finally:
        io.release()


CASES = [(variant, ownership) for variant in MODEL_VARIANTS if variant.family == "model"
         for ownership in variant.ownerships]


@pytest.mark.parametrize("name", STATIC)
@pytest.mark.parametrize(("variant", "ownership"), CASES,
                         ids=[f"{v.name}-{o.id}" for v, o in CASES])
def test_every_load_path_runs_the_model_correctly(sim_acl, catalog, name, variant, ownership):
    acl, entry = sim_acl, catalog(name)
    before = used(acl)
    loaded, ret = load_model(variant, acl, entry, ownership)
    assert ret == 0 and loaded.model_id > 0
    run_and_compare(acl, loaded.model_id, entry)
    loaded.release()
    assert used(acl) == before


def test_bigweights_loads_from_memory_with_user_weights(sim_acl, catalog):
    acl, entry = sim_acl, catalog("bigweights")
    variant = next(v for v in MODEL_VARIANTS if v.name == "mem_with_mem")
    loaded, ret = load_model(variant, acl, entry, Ownership(SYSTEM, USER))
    assert ret == 0
    run_and_compare(acl, loaded.model_id, entry)
    loaded.release()


def test_system_managed_load_takes_the_queried_memory_and_unload_returns_it(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    before = used(acl)
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    assert used(acl) - before == real_size(work) + real_size(weight)
    acl.mdl.unload(model_id)
    assert used(acl) == before


def test_user_managed_load_takes_no_device_memory(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    work_ptr, _ = acl.rt.malloc(work, 0)
    weight_ptr, _ = acl.rt.malloc(weight, 0)
    before = used(acl)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), work_ptr, work,
                                                    weight_ptr, weight)
    assert ret == 0 and used(acl) == before
    acl.mdl.unload(model_id)
    acl.rt.free(work_ptr)
    acl.rt.free(weight_ptr)


def test_weight_memory_holds_the_weights_partition_and_execution_leaves_it(sim_acl, catalog):
    from pytest_acl.om.partitions import PartitionType
    from pytest_acl.om.reader import read_model

    acl, entry = sim_acl, catalog("conv")
    _, weight, _ = acl.mdl.query_size(str(entry.path))
    weight_ptr, _ = acl.rt.malloc(weight, 0)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), 0, 0, weight_ptr, weight)
    assert ret == 0
    expected = bytes(read_model(model_bytes(entry)).groups[0].find(
        PartitionType.WEIGHTS_DATA).data)
    host = np.empty(weight, np.uint8)
    acl.rt.memcpy(host.ctypes.data, weight, weight_ptr, weight, 2)
    assert host.tobytes() == expected
    run_and_compare(acl, model_id, entry)
    acl.rt.memcpy(host.ctypes.data, weight, weight_ptr, weight, 2)
    assert host.tobytes() == expected
    acl.mdl.unload(model_id)
    acl.rt.free(weight_ptr)


@pytest.mark.parametrize("which", ["work", "weight"])
def test_user_memory_one_byte_too_small_is_refused(sim_acl, catalog, which):
    acl, entry = sim_acl, catalog("mlp")
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    work_ptr, _ = acl.rt.malloc(work, 0)
    weight_ptr, _ = acl.rt.malloc(weight, 0)
    sizes = {"work": work, "weight": weight}
    sizes[which] -= 1
    before = used(acl)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), work_ptr, sizes["work"],
                                                    weight_ptr, sizes["weight"])
    assert (model_id, ret) == (0, ACL_ERROR_GE_PARAM_INVALID)
    assert used(acl) == before
    acl.rt.free(work_ptr)
    acl.rt.free(weight_ptr)


def test_user_memory_that_is_not_device_memory_is_refused(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    host = np.zeros(weight, np.uint8)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), 0, 0, host.ctypes.data,
                                                    weight)
    assert (model_id, ret) == (0, ACL_ERROR_RT_PARAM_INVALID)


def test_static_ids_start_at_1_count_up_and_failed_loads_consume_one(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    first, _ = acl.mdl.load_from_file(str(entry.path))
    small, _ = acl.rt.malloc(64, 0)
    _, ret = acl.mdl.load_from_file_with_mem(str(entry.path), 0, 0, small, 64)
    assert ret == ACL_ERROR_GE_PARAM_INVALID  # weight buffer too small: id 2 consumed
    third, _ = acl.mdl.load_from_file(str(entry.path))
    assert (first, third) == (1, 3)
    acl.mdl.unload(first)
    fourth, _ = acl.mdl.load_from_file(str(entry.path))
    assert fourth == 4  # never reused
    for model_id in (third, fourth):
        acl.mdl.unload(model_id)
    acl.rt.free(small)


def test_dynamic_models_take_ids_from_2147483648_and_use_up_a_static_one(sim_acl, catalog):
    """cann-behaviour.md §2 'a dynamic (runtime v2) load': GenModelId in its builder."""
    acl = sim_acl
    first, _ = acl.mdl.load_from_file(str(catalog("dyn_shape").path))
    second, _ = acl.mdl.load_from_file(str(catalog("dyn_shape").path))
    static, _ = acl.mdl.load_from_file(str(catalog("mlp").path))
    assert (first, second, static) == (2147483648, 2147483649, 3)
    for model_id in (first, second, static):
        assert acl.mdl.unload(model_id) == 0


def test_unload_twice_unknown_or_invalid_model_id_is_145003(sim_acl, catalog):
    """cann-behaviour.md §3 'unknown id, or a second unload', 'id 0xFFFFFFFF (and -1)'."""
    acl = sim_acl
    model_id, _ = acl.mdl.load_from_file(str(catalog("mlp").path))
    assert acl.mdl.unload(model_id) == 0
    assert acl.mdl.unload(model_id) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    assert acl.mdl.unload(777) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    assert acl.mdl.unload(0xFFFFFFFF) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    assert acl.mdl.unload(-1) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID  # "I" masks it


def test_queries_agree_with_each_other_and_the_manifest(sim_acl, catalog):
    acl = sim_acl
    for name in STATIC + ["dyn_shape", "bigweights"]:
        entry = catalog(name)
        data = model_bytes(entry)
        from_file = acl.mdl.query_size(str(entry.path))
        from_mem = acl.mdl.query_size_from_mem(acl.util.bytes_to_ptr(data), len(data))
        assert from_file == from_mem == (entry.work_size, entry.weight_size, 0), name


def test_missing_file_and_null_memory_are_refused(sim_acl, tmp_path):
    acl = sim_acl
    assert acl.mdl.load_from_file(str(tmp_path / "none.om")) == (
        0, ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID)
    assert acl.mdl.query_size(str(tmp_path)) == (0, 0, ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID)
    assert acl.mdl.load_from_mem(0, 100) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.query_size_from_mem(0, 100) == (0, 0, ACL_ERROR_INVALID_PARAM)
    data = b"x" * 300
    assert acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), 0) == (0, ACL_ERROR_INVALID_PARAM)


def test_loading_needs_a_current_context(sim, catalog):
    acl = sim.acl
    acl.init()
    assert acl.mdl.load_from_file(str(catalog("mlp").path)) == (0, ACL_ERROR_RT_CONTEXT_NULL)
    acl.finalize()


def test_a_model_belongs_to_its_context(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    default_context, _ = acl.rt.get_context()
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    other, _ = acl.rt.create_context(0)
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    with pytest.warns(HazardWarning, match="wrong_context"):
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == ACL_ERROR_RT_MODEL_CONTEXT
    acl.rt.set_context(default_context)
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
    io.release()
    acl.rt.set_context(other)
    # cann-behaviour.md §3 'from another context': CANN does not check; the sanitizer reports
    with pytest.warns(HazardWarning, match="wrong_context"):
        assert acl.mdl.unload(model_id) == 0
    acl.rt.set_context(default_context)
    acl.rt.destroy_context(other)


def test_finalize_releases_every_model(sim, catalog):
    acl = sim.acl
    acl.init()
    acl.rt.set_device(0)
    acl.mdl.load_from_file(str(catalog("mlp").path))
    acl.finalize()
    assert sim.live_counts()["models"] == 0 and sim.live_counts()["device0.bytes_in_use"] == 0
