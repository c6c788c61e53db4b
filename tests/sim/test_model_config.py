"""Config-based loading: pyACL's set_config_opt marshalling, the attribute checks of
load_with_config, and each load type (reference/acl-api.md §2, §2.1, §4.3)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_ERROR_API_NOT_SUPPORT,
    ACL_ERROR_INVALID_PARAM,
    ACL_HBM_MEM,
    ACL_MDL_INPUTQ_ADDR_PTR,
    ACL_MDL_INPUTQ_NUM_SIZET,
    ACL_MDL_LOAD_FROM_FILE,
    ACL_MDL_LOAD_FROM_FILE_WITH_MEM,
    ACL_MDL_LOAD_FROM_FILE_WITH_Q,
    ACL_MDL_LOAD_FROM_MEM,
    ACL_MDL_LOAD_FROM_MEM_WITH_MEM,
    ACL_MDL_LOAD_TYPE_SIZET,
    ACL_MDL_MEM_ADDR_PTR,
    ACL_MDL_MEM_SIZET,
    ACL_MDL_OUTPUTQ_ADDR_PTR,
    ACL_MDL_OUTPUTQ_NUM_SIZET,
    ACL_MDL_PATH_PTR,
    ACL_MDL_PRIORITY_INT32,
    ACL_MDL_WEIGHT_ADDR_PTR,
    ACL_MDL_WEIGHT_PATH_PTR,
    ACL_MDL_WEIGHT_SIZET,
    ACL_MDL_WITHOUT_GRAPH_INT32,
    ACL_MDL_WORKSPACE_ADDR_PTR,
    ACL_MDL_WORKSPACE_MEM_OPTIMIZE,
    ACL_MDL_WORKSPACE_SIZET,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry


@pytest.fixture
def mlp(built_catalog):
    directory, manifest = built_catalog
    return ModelEntry(directory, manifest["models"]["mlp"])


@pytest.fixture
def handle(sim_acl):
    h = sim_acl.mdl.create_config_handle()
    yield h
    sim_acl.mdl.destroy_config_handle(h)


def configure(acl, handle, options: dict) -> None:
    for attr, value in options.items():
        assert acl.mdl.set_config_opt(handle, attr, value) == 0, attr


def runs(acl, model_id, entry) -> bool:
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["x"]])
    try:
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
        return np.allclose(io.outputs()["y"], entry.outputs()["y"], rtol=1e-4, atol=1e-5)
    finally:
        io.release()


@pytest.mark.parametrize("load_type", [ACL_MDL_LOAD_FROM_FILE, ACL_MDL_LOAD_FROM_FILE_WITH_MEM,
                                       ACL_MDL_LOAD_FROM_MEM, ACL_MDL_LOAD_FROM_MEM_WITH_MEM])
def test_each_load_type_with_its_required_attributes_loads(sim_acl, handle, mlp, load_type):
    acl = sim_acl
    data = mlp.path.read_bytes()
    options = {ACL_MDL_LOAD_TYPE_SIZET: load_type}
    if load_type in (ACL_MDL_LOAD_FROM_FILE, ACL_MDL_LOAD_FROM_FILE_WITH_MEM):
        options[ACL_MDL_PATH_PTR] = str(mlp.path)
    else:
        options |= {ACL_MDL_MEM_ADDR_PTR: acl.util.bytes_to_ptr(data),
                    ACL_MDL_MEM_SIZET: len(data)}
    user = []
    if load_type in (ACL_MDL_LOAD_FROM_FILE_WITH_MEM, ACL_MDL_LOAD_FROM_MEM_WITH_MEM):
        work, weight, _ = acl.mdl.query_size(str(mlp.path))
        user = [acl.rt.malloc(work, 0)[0], acl.rt.malloc(weight, 0)[0]]
        options |= {ACL_MDL_WORKSPACE_ADDR_PTR: user[0], ACL_MDL_WORKSPACE_SIZET: work,
                    ACL_MDL_WEIGHT_ADDR_PTR: user[1], ACL_MDL_WEIGHT_SIZET: weight}
    configure(acl, handle, options)
    free_before, _, _ = acl.rt.get_mem_info(ACL_HBM_MEM)
    model_id, ret = acl.mdl.load_with_config(handle)
    assert ret == 0
    if user:  # user memory: the load takes no device memory of its own
        assert acl.rt.get_mem_info(ACL_HBM_MEM)[0] == free_before
    assert acl.mdl.destroy_config_handle(handle) == 0  # allowed after the load (§2.1)
    assert runs(acl, model_id, mlp)
    assert acl.mdl.unload(model_id) == 0
    for ptr in user:
        acl.rt.free(ptr)


@pytest.mark.parametrize(("options", "why"), [
    ({}, "no load type"),
    ({ACL_MDL_LOAD_TYPE_SIZET: ACL_MDL_LOAD_FROM_FILE}, "no path"),
    ({ACL_MDL_LOAD_TYPE_SIZET: ACL_MDL_LOAD_FROM_MEM, ACL_MDL_MEM_SIZET: 10}, "no address"),
    ({ACL_MDL_LOAD_TYPE_SIZET: ACL_MDL_LOAD_FROM_MEM, ACL_MDL_MEM_ADDR_PTR: 0x1000},
     "no size"),
    ({ACL_MDL_LOAD_TYPE_SIZET: ACL_MDL_LOAD_FROM_FILE_WITH_Q, ACL_MDL_PATH_PTR: "MLP"},
     "no queues"),
])
def test_missing_required_attributes_are_refused(sim_acl, handle, mlp, options, why):
    # An existing file: from 9.1 the router probes the path before the attributes.
    configure(sim_acl, handle, {attr: str(mlp.path) if value == "MLP" else value
                                for attr, value in options.items()})
    assert sim_acl.mdl.load_with_config(handle) == (0, ACL_ERROR_INVALID_PARAM), why


def test_weight_path_with_a_file_load_type_is_refused(sim_acl, handle, mlp):
    configure(sim_acl, handle, {ACL_MDL_LOAD_TYPE_SIZET: ACL_MDL_LOAD_FROM_FILE,
                                ACL_MDL_PATH_PTR: str(mlp.path),
                                ACL_MDL_WEIGHT_PATH_PTR: 0x1000})
    assert sim_acl.mdl.load_with_config(handle) == (0, ACL_ERROR_INVALID_PARAM)


def test_queue_load_types_answer_not_supported(sim_acl, handle, mlp):
    configure(sim_acl, handle, {ACL_MDL_LOAD_TYPE_SIZET: ACL_MDL_LOAD_FROM_FILE_WITH_Q,
                                ACL_MDL_PATH_PTR: str(mlp.path), ACL_MDL_INPUTQ_NUM_SIZET: 1,
                                ACL_MDL_INPUTQ_ADDR_PTR: 0x1000, ACL_MDL_OUTPUTQ_NUM_SIZET: 1,
                                ACL_MDL_OUTPUTQ_ADDR_PTR: 0x2000})
    assert sim_acl.mdl.load_with_config(handle) == (0, ACL_ERROR_API_NOT_SUPPORT)


@pytest.mark.parametrize(("attr", "value"), [
    (99, 1), (ACL_MDL_LOAD_TYPE_SIZET, 0), (ACL_MDL_LOAD_TYPE_SIZET, 7),
    (ACL_MDL_PRIORITY_INT32, 8), (ACL_MDL_PRIORITY_INT32, -1),
    (ACL_MDL_WORKSPACE_MEM_OPTIMIZE, 0xFFFFFFFFFFFFFFFF), (ACL_MDL_MEM_ADDR_PTR, 0),
    (ACL_MDL_WITHOUT_GRAPH_INT32, 1), (17, 1),
])
def test_unknown_attributes_and_out_of_range_values_are_refused(sim_acl, handle, attr, value):
    assert sim_acl.mdl.set_config_opt(handle, attr, value) == ACL_ERROR_INVALID_PARAM


def test_values_of_the_wrong_python_type_raise_like_pyacl(sim_acl, handle):
    with pytest.raises(TypeError, match="acl.mdl.set_config_opt args parse failed!"):
        sim_acl.mdl.set_config_opt(handle, ACL_MDL_PATH_PTR, 123)
    with pytest.raises(TypeError):
        sim_acl.mdl.set_config_opt(handle, ACL_MDL_MEM_SIZET, "10")


def test_null_and_destroyed_handles_are_refused(sim_acl):
    assert sim_acl.mdl.set_config_opt(0, ACL_MDL_LOAD_TYPE_SIZET, 1) == ACL_ERROR_INVALID_PARAM
    assert sim_acl.mdl.load_with_config(0) == (0, ACL_ERROR_INVALID_PARAM)
    handle = sim_acl.mdl.create_config_handle()
    assert sim_acl.mdl.destroy_config_handle(handle) == 0
    assert sim_acl.mdl.destroy_config_handle(handle) == ACL_ERROR_INVALID_PARAM
