"""Bundles in the simulator: load mode and init mode, index ranges, ids, the query flow with
user memory, shared variables and full release (reference/acl-api.md §5.9, §3.1)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_ERROR_API_NOT_SUPPORT,
    ACL_ERROR_INVALID_BUNDLE_MODEL_ID,
    ACL_ERROR_INVALID_PARAM,
    ACL_MDL_WEIGHT_ADDR_PTR,
    ACL_MDL_WEIGHT_SIZET,
    ACL_MDL_WORKSPACE_ADDR_PTR,
    ACL_MDL_WORKSPACE_SIZET,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.om.bundle import read_bundle
from pytest_acl.om.corrupt import bundle_corruptions


@pytest.fixture
def bundle3(built_catalog):
    directory, manifest = built_catalog
    return ModelEntry(directory, manifest["models"]["bundle3"])


def run_graph(acl, model_id, entry, index) -> bool:
    io = ModelIO.prepare(acl, model_id, list(entry.inputs(index).values()))
    try:
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
        outputs = io.outputs()
        return all(np.allclose(outputs[k], v, rtol=1e-4, atol=1e-5)
                   for k, v in entry.outputs(index).items())
    finally:
        io.release()


@pytest.mark.parametrize("source", ["file", "mem"])
def test_load_mode_loads_every_graph_and_they_share_the_variable(sim, sim_acl, bundle3, source):
    acl = sim_acl
    data = bundle3.path.read_bytes()
    bundle_id, ret = (acl.mdl.bundle_load_from_file(str(bundle3.path)) if source == "file"
                      else acl.mdl.bundle_load_from_mem(acl.util.bytes_to_ptr(data), len(data)))
    assert ret == 0 and bundle_id == 2147483648
    assert acl.mdl.bundle_get_model_num(bundle_id) == (3, 0)
    ids = [acl.mdl.bundle_get_model_id(bundle_id, i)[0] for i in range(3)]
    assert len(set(ids)) == 3 and 0 not in ids
    for index, model_id in enumerate(ids):  # var_init → infer (reads it) → var_update
        assert run_graph(acl, model_id, bundle3, index)
    assert acl.mdl.bundle_unload(bundle_id) == 0
    assert sim.live_counts()["models"] == sim.live_counts()["bundles"] == 0
    assert sim.live_counts()["device0.bytes_in_use"] == 0


def test_index_out_of_range_and_unknown_bundles(sim_acl, bundle3):
    acl = sim_acl
    bundle_id, _ = acl.mdl.bundle_load_from_file(str(bundle3.path))
    assert acl.mdl.bundle_get_model_id(bundle_id, 3) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.bundle_get_model_id(bundle_id, 2**63) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.bundle_get_model_num(bundle_id + 1) == (0, ACL_ERROR_INVALID_BUNDLE_MODEL_ID)
    assert acl.mdl.bundle_unload(bundle_id + 1) == ACL_ERROR_INVALID_BUNDLE_MODEL_ID
    inner, _ = acl.mdl.bundle_get_model_id(bundle_id, 0)
    assert acl.mdl.unload(inner) == ACL_ERROR_INVALID_PARAM  # not with aclmdlUnload
    assert acl.mdl.bundle_unload(bundle_id) == 0
    assert acl.mdl.bundle_unload(bundle_id) == ACL_ERROR_INVALID_BUNDLE_MODEL_ID


def test_query_flow_with_user_memory(sim, sim_acl, bundle3):
    """The documented flow: query → init with user variable memory → load every graph with
    user work/weight memory → execute → unload graphs → unload the bundle."""
    acl = sim_acl
    info = acl.mdl.bundle_create_query_info()
    assert acl.mdl.bundle_query_info_from_file(str(bundle3.path), info) == 0
    count, _ = acl.mdl.bundle_get_query_model_num(info)
    var_size, _ = acl.mdl.bundle_get_var_weight_size(info)
    assert (count, var_size) == (bundle3.data["graph_count"], bundle3.data["var_size"])
    sizes = [acl.mdl.bundle_get_size(info, i)[:2] for i in range(count)]
    assert sizes == [(g["work_size"], g["weight_size"]) for g in bundle3.data["graphs"]]
    assert acl.mdl.bundle_get_size(info, count) == (0, 0, ACL_ERROR_INVALID_PARAM)
    var_ptr, _ = acl.rt.malloc(var_size, 0)
    bundle_id, ret = acl.mdl.bundle_init_from_file(str(bundle3.path), var_ptr, var_size)
    assert ret == 0
    assert acl.mdl.bundle_get_model_id(bundle_id, 0) == (0, ACL_ERROR_API_NOT_SUPPORT)
    buffers, ids = [], []
    for index, (work, weight) in enumerate(sizes):
        work_ptr = acl.rt.malloc(work, 0)[0] if work else 0
        weight_ptr = acl.rt.malloc(weight, 0)[0] if weight else 0
        buffers += [p for p in (work_ptr, weight_ptr) if p]
        model_id, ret = acl.mdl.bundle_load_model_with_mem(bundle_id, index, work_ptr, work,
                                                           weight_ptr, weight)
        assert ret == 0
        ids.append(model_id)
        assert run_graph(acl, model_id, bundle3, index)
    for model_id in ids:
        assert acl.mdl.bundle_unload_model(bundle_id, model_id) == 0
    assert acl.mdl.bundle_unload(bundle_id) == 0
    for ptr in buffers + [var_ptr]:
        assert acl.rt.free(ptr) == 0
    assert acl.mdl.bundle_destroy_query_info(info) == 0
    assert sim.live_counts()["device0.bytes_in_use"] == 0


def test_init_mode_loads_on_demand_and_an_index_twice_gives_two_ids(sim_acl, bundle3):
    acl = sim_acl
    data = bundle3.path.read_bytes()
    bundle_id, _ = acl.mdl.bundle_init_from_mem(acl.util.bytes_to_ptr(data), len(data), 0, 0)
    first, _ = acl.mdl.bundle_load_model(bundle_id, 1)
    second, _ = acl.mdl.bundle_load_model(bundle_id, 1)
    assert first != second and 0 not in (first, second)
    assert acl.mdl.bundle_load_model(bundle_id, 3) == (0, ACL_ERROR_INVALID_PARAM)
    config = acl.mdl.create_config_handle()
    for attr in (ACL_MDL_WORKSPACE_ADDR_PTR, ACL_MDL_WORKSPACE_SIZET, ACL_MDL_WEIGHT_ADDR_PTR,
                 ACL_MDL_WEIGHT_SIZET):
        acl.mdl.set_config_opt(config, attr, 0)
    third, ret = acl.mdl.bundle_load_model_with_config(bundle_id, 0, config)
    assert ret == 0 and third not in (first, second)
    acl.mdl.destroy_config_handle(config)
    assert acl.mdl.bundle_load_model_with_mem(bundle_id, 2, 0, 0, 0, 0)[1] == 0  # query is optional
    assert acl.mdl.bundle_unload(bundle_id) == 0  # unloads every graph still loaded


def test_too_small_variable_memory_is_refused(sim_acl, bundle3):
    acl = sim_acl
    var_ptr, _ = acl.rt.malloc(64, 0)
    assert acl.mdl.bundle_init_from_file(str(bundle3.path), var_ptr, 64) == (
        0, ACL_ERROR_INVALID_PARAM)
    acl.rt.free(var_ptr)


def test_unload_model_of_another_bundle_is_refused(sim_acl, bundle3):
    acl = sim_acl
    one, _ = acl.mdl.bundle_init_from_file(str(bundle3.path), 0, 0)
    two, _ = acl.mdl.bundle_init_from_file(str(bundle3.path), 0, 0)
    model_id, _ = acl.mdl.bundle_load_model(one, 0)
    assert acl.mdl.bundle_unload_model(two, model_id) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.bundle_unload_model(one, model_id) == 0
    assert acl.mdl.bundle_unload(one) == acl.mdl.bundle_unload(two) == 0


def test_a_model_and_a_bundle_in_the_wrong_loader(sim_acl, bundle3, built_catalog):
    directory, manifest = built_catalog
    acl = sim_acl
    assert acl.mdl.load_from_file(str(bundle3.path)) == (0, 500002)
    assert acl.mdl.bundle_load_from_file(str(directory / "mlp.om")) == (
        0, ACL_ERROR_INVALID_PARAM)


def test_bundle_corruptions_are_refused_and_leak_nothing(sim, sim_acl, bundle3, built_catalog):
    directory, _ = built_catalog
    acl = sim_acl
    before = sim.live_counts()
    for case in bundle_corruptions(bundle3.path.read_bytes(), (directory / "mlp.om").read_bytes()):
        ptr = acl.util.bytes_to_ptr(case.data)
        assert acl.mdl.bundle_load_from_mem(ptr, len(case.data)) == (
            0, case.expected["bundle_load"]), case.name
        assert sim.live_counts() == before, case.name


def test_the_catalog_bundle_has_at_least_three_graphs(bundle3):
    assert len(read_bundle(bundle3.path.read_bytes()).models) >= 3


def test_query_info_from_memory_and_its_errors(sim_acl, bundle3, built_catalog):
    directory, _ = built_catalog
    acl = sim_acl
    data = bundle3.path.read_bytes()
    info = acl.mdl.bundle_create_query_info()
    # cann-behaviour.md §8 'a fresh query info': success with 0
    assert acl.mdl.bundle_get_query_model_num(info) == (0, 0)
    assert acl.mdl.bundle_get_var_weight_size(info) == (0, 0)
    assert acl.mdl.bundle_query_info_from_mem(acl.util.bytes_to_ptr(data), len(data), info) == 0
    assert acl.mdl.bundle_get_query_model_num(info) == (3, 0)
    model = (directory / "mlp.om").read_bytes()
    other = acl.mdl.bundle_create_query_info()
    assert acl.mdl.bundle_query_info_from_mem(acl.util.bytes_to_ptr(model), len(model),
                                              other) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.bundle_query_info_from_file(str(bundle3.path), 0) == ACL_ERROR_INVALID_PARAM
    for handle in (info, other):
        assert acl.mdl.bundle_destroy_query_info(handle) == 0
    assert acl.mdl.bundle_destroy_query_info(info) == ACL_ERROR_INVALID_PARAM
