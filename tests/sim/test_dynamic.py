"""Models with gears in the simulator: the file the compiler writes, the desc, the gear
functions' answers and refusals, and execution at each gear. The facts and their sources
are in pytest_acl/sim/dynamic.py's docstring (GE = hicann/ge, PYACL = hicann/runtime
python/pyACL mdl_wrap.cpp)."""

from __future__ import annotations

import json
import struct

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from pytest_acl.buffers import copy_from_device, copy_to_device
from pytest_acl.constants import (
    ACL_DYNAMIC_TENSOR_NAME,
    ACL_ERROR_FAILURE,
    ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID,
    ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID,
    ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
    ACL_ERROR_GE_EXEC_MODEL_ID_INVALID,
    ACL_ERROR_GE_PARAM_INVALID,
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_RT_MODEL_EXECUTE,
)
from pytest_acl.gear_io import GearIO
from pytest_acl.models.atc import atc_command
from pytest_acl.models.catalog import load_catalog
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.om.container import OmModel, Partition
from pytest_acl.om.header import ModelFileHeader
from pytest_acl.om.inout import BATCH, DIMS, IMAGE_SIZE, Gears, InOutInfo
from pytest_acl.om.modeldef import SIM_GRAPH_ATTR, ModelDef
from pytest_acl.om.partitions import PartitionType
from pytest_acl.om.reader import expected_sizes, read_model
from pytest_acl.sim.compiler import CompileError, compile_onnx

UNUSED = -1  # the reserved index of get_dynamic_hw and the dims-gear getters
_, CATALOG = load_catalog()


@pytest.fixture
def catalog(built_catalog):
    directory, manifest = built_catalog
    return lambda name: ModelEntry(directory, manifest["models"][name])


def load(acl, path):
    model_id, ret = acl.mdl.load_from_file(str(path))
    assert ret == 0
    return model_id


def describe(acl, model_id):
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc(desc, model_id) == 0
    return desc


def graph_of(data: bytes) -> dict:
    model = read_model(data)
    return json.loads(ModelDef.decode(model.groups[0].find(PartitionType.MODEL_DEF)
                                      .contiguous()).bytes_attrs[SIM_GRAPH_ATTR])


def run(acl, model_id, inputs, expected, choose=None):
    """Execute once (``choose(io)`` selects the gear first) and compare with ``expected``."""
    io = GearIO.prepare(acl, model_id, inputs)
    try:
        if choose is not None:
            assert choose(io) == 0
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
        for name, value in io.outputs(expected).items():
            np.testing.assert_allclose(value, expected[name], rtol=1e-4, atol=1e-5)
        return io.gear_input()
    finally:
        io.release()


def dims_model() -> onnx.ModelProto:
    """Two inputs whose first dimensions a dims gear sets (ATC --dynamic_dims)."""
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"], name="add"),
         helper.make_node("Relu", ["s"], ["y"], name="relu")], "dims",
        [helper.make_tensor_value_info("a", f32, ["n", 4]),
         helper.make_tensor_value_info("b", f32, ["m", 4])],
        [helper.make_tensor_value_info("y", f32, ["n", 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


DIMS_GEARS = Gears(DIMS, ((1, 1), (3, 3)))


# -- the file ------------------------------------------------------------------------------
def test_a_batch_model_is_static_with_the_gears_in_model_inout_info(catalog):
    """om-format.md §2.1 (MODEL_INOUT_INFO before MODEL_DEF); GE model_introduction.cc
    ConstructDynamicInfo; the work size is the largest gear's (dynamic_batch_mem_assigner.cc)."""
    data = catalog("dyn_batch").path.read_bytes()
    model = read_model(data)
    assert not model.is_dynamic
    assert [p.type for p in model.groups[0].partitions][:2] == [
        PartitionType.MODEL_INOUT_INFO, PartitionType.MODEL_DEF]
    info = InOutInfo.decode(model.groups[0].find(PartitionType.MODEL_INOUT_INFO).contiguous())
    assert info.gears() == Gears(BATCH, ((1,), (2,), (4,)))
    assert info.data_name_order == ["x"]
    assert info.dynamic_output_shape == ["0,0,1,10", "1,0,2,10", "2,0,4,10"]
    graph = graph_of(data)
    assert expected_sizes(model)[0] == max(g["work_size"] for g in graph["gears"]["list"]) > 0
    ops = ModelDef.decode(model.groups[0].find(PartitionType.MODEL_DEF).contiguous()).ops
    assert (ops[0].name, ops[0].type, ops[1].type) == (ACL_DYNAMIC_TENSOR_NAME, "Data", "Case")


def test_model_inout_info_blocks_are_ges_tlv_layout():
    """tlv/vec_int_value.cc: u32 count, u64 values; vec_int_int_value.cc: u32 count, u32 part
    sizes, i64 values; vec_str_value.cc: u32 count, u32 lengths, the bytes."""
    batch = InOutInfo(dynamic_batch=[1, 8], data_name_order=["x"]).encode()
    assert batch == (struct.pack("<II", 2, 4 + 16) + struct.pack("<IQQ", 2, 1, 8)
                     + struct.pack("<II", 6, 4 + 4 + 1) + struct.pack("<II", 1, 1) + b"x")
    hw = InOutInfo(dynamic_hw=[[8, 16]]).encode()
    assert hw == struct.pack("<II", 3, 4 + 4 + 16) + struct.pack("<IIqq", 1, 2, 8, 16)
    for info in (InOutInfo(dynamic_dims=[[1, 2, 3], [4, 5, 6]], data_name_order=["a", "bb"],
                           dynamic_output_shape=["0,0,1,4"]), InOutInfo(dynamic_hw=[[8, 8]])):
        assert InOutInfo.decode(info.encode()) == info
    for bad in (batch[:-1], struct.pack("<II", 9, 0), struct.pack("<II", 2, 4)
                + struct.pack("<I", 5)):
        with pytest.raises(ValueError):
            InOutInfo.decode(bad)


@pytest.mark.parametrize(("gears", "shape", "why"), [
    (Gears(BATCH, ((1,), (2,))), [4, "n"], "only the first dimension"),
    (Gears(IMAGE_SIZE, ((8, 8), (16, 16))), ["n", 16], "H and W of an NCHW input"),
    (Gears(DIMS, ((1, 2), (3, 4))), ["n", 16], "give 2 values"),
    (Gears(BATCH, ((1,), (2,))), [4, 16], "needs an input with a -1"),
])
def test_the_compiler_takes_what_atc_takes(gears, shape, why):
    """The --dynamic_batch_size / --dynamic_image_size option pages (关联参数)."""
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CompileError, match=why):
        compile_onnx(model, "g", gears=gears)


@pytest.mark.parametrize("values", [((1,),), ((1,), (1,)), ((0,), (2,)), ((1,), (2, 3))])
def test_gears_are_what_atc_accepts(values):
    """multi_batch_options.cc CheckDynamicParams: ≥ 2 gears, no duplicates, none negative."""
    with pytest.raises(ValueError):
        Gears(BATCH, values)


@pytest.mark.parametrize(("name", "option"), [
    ("dyn_batch", ["--input_shape=x:-1,16", "--dynamic_batch_size=1,2,4"]),
    ("dyn_hw", ["--input_shape=x:1,1,-1,-1", "--dynamic_image_size=8,8;8,16;16,16"]),
])
def test_the_atc_recipe_passes_the_gears(tmp_path, name, option):
    model = CATALOG[name]
    path = tmp_path / f"{name}.onnx"
    onnx.save(model.graphs[0].onnx_model(), path)
    assert atc_command(model, path, tmp_path, "Ascend910B1")[-2:] == option


# -- the desc ------------------------------------------------------------------------------
def test_the_desc_of_a_batch_model(sim_acl, catalog):
    acl = sim_acl
    desc = describe(acl, load(acl, catalog("dyn_batch").path))
    assert acl.mdl.get_num_inputs(desc) == 2
    assert acl.mdl.get_input_index_by_name(desc, ACL_DYNAMIC_TENSOR_NAME) == (1, 0)
    assert acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [-1, 16]
    assert acl.mdl.get_input_dims(desc, 1)[0]["dims"] == [1]
    # the largest gear's size; 4 bytes of int32 per gear value (multi_batch_clone_pass.cc)
    assert acl.mdl.get_input_size_by_index(desc, 0) == 4 * 16 * 4
    assert acl.mdl.get_input_size_by_index(desc, 1) == 4
    assert acl.mdl.get_output_size_by_index(desc, 0) == 4 * 10 * 4
    assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 3, "batch": [1, 2, 4]}, 0)
    assert acl.mdl.get_dynamic_hw(desc, UNUSED) == ({"hwCount": 0, "hw": []}, 0)
    assert acl.mdl.get_input_dynamic_gear_count(desc, UNUSED) == (0, 0)
    for index in (0, 1, 99):  # model_om2.cpp GetDimsRange: the gear check comes first
        assert acl.mdl.get_input_dims_range(desc, index) == ({"rangeCount": 0, "range": []}, 0)


def test_the_desc_of_an_image_size_model_from_the_loaded_model_and_the_file(sim_acl, catalog):
    acl, path = sim_acl, catalog("dyn_hw").path
    loaded = describe(acl, load(acl, path))
    from_file = acl.mdl.create_desc()
    assert acl.mdl.get_desc_from_file(from_file, str(path)) == 0
    for desc in (loaded, from_file):
        assert acl.mdl.get_dynamic_hw(desc, UNUSED) == (
            {"hwCount": 3, "hw": [[8, 8], [8, 16], [16, 16]]}, 0)
        assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 0, "batch": []}, 0)
        assert acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [1, 1, -1, -1]
        assert acl.mdl.get_input_size_by_index(desc, 1) == 8  # H and W, int32 each


def test_a_model_without_gears(sim_acl, catalog):
    """No gears: counts 0 (the get_dynamic_batch page); dims ranges: each dim its own range
    (static), the dims as they are without shape ranges (model_om2.cpp GetDimsRange)."""
    acl = sim_acl
    desc = describe(acl, load(acl, catalog("mlp").path))
    assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 0, "batch": []}, 0)
    assert acl.mdl.get_dynamic_hw(desc, 0) == ({"hwCount": 0, "hw": []}, 0)
    assert acl.mdl.get_input_dims_range(desc, 0) == (
        {"rangeCount": 2, "range": [[4, 4], [16, 16]]}, 0)
    assert acl.mdl.get_input_dims_range(desc, 1) == (
        {"rangeCount": 0, "range": []}, ACL_ERROR_INVALID_PARAM)
    desc = describe(acl, load(acl, catalog("dyn_shape").path))
    assert acl.mdl.get_input_dims_range(desc, 0) == (
        {"rangeCount": 2, "range": [[-1, -1], [16, 16]]}, 0)


def test_a_desc_that_is_not_one(sim_acl):
    """PYACL: ({}, ret) from the dict getters, the range dict even on failure."""
    acl = sim_acl
    assert acl.mdl.get_dynamic_batch(0) == ({}, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_dynamic_hw(12345, UNUSED) == ({}, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_input_dims_range(0, 0) == (
        {"rangeCount": 0, "range": []}, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_input_dynamic_gear_count(0, UNUSED) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_input_dynamic_dims(0, UNUSED, 2) == ([None, None],
                                                           ACL_ERROR_INVALID_PARAM)


def test_pyacl_formats():
    """PYACL mdl_wrap.cpp: WrapAclMdlGetDynamicBatch "k", GetDynamicHW "kk",
    SetDynamicBatchSize "IkkK", SetDynamicHWSize "IkkKK", SetInputDynamicDims "IkkO",
    GetInputDimsRange "kk", GetInputDynamicGearCount "kk", GetInputDynamicDims "kkk"."""
    from pytest_acl.sim import Simulator

    mdl = Simulator(devices=1, hbm="64MiB").acl.mdl
    formats = {name: getattr(mdl, name).pyacl_format for name in (
        "get_dynamic_batch", "get_dynamic_hw", "set_dynamic_batch_size", "set_dynamic_hw_size",
        "set_input_dynamic_dims", "get_input_dims_range", "get_input_dynamic_gear_count",
        "get_input_dynamic_dims")}
    assert formats == {"get_dynamic_batch": "k", "get_dynamic_hw": "kk",
                       "set_dynamic_batch_size": "IkkK", "set_dynamic_hw_size": "IkkKK",
                       "set_input_dynamic_dims": "IkkO", "get_input_dims_range": "kk",
                       "get_input_dynamic_gear_count": "kk", "get_input_dynamic_dims": "kkk"}
    with pytest.raises(TypeError, match="acl.mdl.set_dynamic_batch_size args parse failed!"):
        mdl.set_dynamic_batch_size(1, 2, 3)


# -- execution -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dyn_batch", "dyn_hw"])
def test_each_gear_runs_to_its_reference(sim_acl, catalog, name):
    acl, entry = sim_acl, catalog(name)
    model_id = load(acl, entry.path)
    for index, values in enumerate(entry.gears["values"]):
        def choose(io, values=values):
            if name == "dyn_batch":
                return acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index,
                                                      values[0])
            return acl.mdl.set_dynamic_hw_size(model_id, io.in_ds, io.gear_index, *values)
        written = run(acl, model_id, entry.gear_inputs(index), entry.gear_outputs(index),
                      choose)
        # GE writes the values into the gear input: 4 bytes each from a 4- or 8-byte buffer
        assert written == struct.pack(f"<{len(values)}I", *values)
    assert acl.mdl.unload(model_id) == 0


@pytest.mark.parametrize("name", ["dyn_batch", "dyn_hw"])
def test_without_a_gear_the_model_runs_at_its_largest(sim_acl, catalog, name):
    """The ATC option pages, 接口约束: without set_dynamic_* the largest gear."""
    acl, entry = sim_acl, catalog(name)
    run(acl, load(acl, entry.path), entry.inputs(), entry.outputs())


def test_cur_output_dims_follow_the_gear_set_on_the_model(sim_acl, catalog):
    """model.cpp aclmdlGetCurOutputDimsImpl, aclmdlGetCurOutputDims.md: the largest gear's
    dims until a set_dynamic_* call, then that gear's; the gear is the model's (GE keeps it in
    DavinciModel), whatever dataset it was set on; dims set on a batch model name no gear
    of its desc (GetCurGearIndex: 500001)."""
    acl, entry = sim_acl, catalog("dyn_batch")
    model_id = load(acl, entry.path)
    desc = describe(acl, model_id)
    assert acl.mdl.get_cur_output_dims(desc, 0) == ({"name": "y", "dimCount": 2,
                                                     "dims": [4, 10]}, 0)
    io = GearIO.prepare(acl, model_id, entry.gear_inputs(1))
    assert acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index, 2) == 0
    assert acl.mdl.get_cur_output_dims(desc, 0)[0]["dims"] == [2, 10]
    assert acl.mdl.get_cur_output_dims(desc, 1) == ({}, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index, 3) != 0
    assert acl.mdl.get_cur_output_dims(desc, 0)[0]["dims"] == [2, 10]  # a refusal sets none
    assert acl.mdl.set_input_dynamic_dims(
        model_id, io.in_ds, io.gear_index, {"dimCount": 2, "name": "", "dims": [1, 16]}) == 0
    assert acl.mdl.get_cur_output_dims(desc, 0) == ({}, ACL_ERROR_FAILURE)
    io.release()
    hw = describe(acl, load(acl, catalog("dyn_hw").path))
    assert acl.mdl.get_cur_output_dims(hw, 0)[0]["dims"] == [1, 2, 16, 16]


def test_dims_set_on_a_batch_model_select_its_gear(sim_acl, catalog):
    """ge_executor.cc SetDynamicDims/GetCurDynamicDims: the full dims of the inputs, the -1
    positions compared with the gears; a batch model's gears match too."""
    acl, entry = sim_acl, catalog("dyn_batch")
    model_id = load(acl, entry.path)
    run(acl, model_id, entry.gear_inputs(1), entry.gear_outputs(1),
        lambda io: acl.mdl.set_input_dynamic_dims(
            model_id, io.in_ds, io.gear_index, {"dimCount": 2, "name": "", "dims": [2, 16]}))


def test_async_execution_runs_at_the_gear_set_before_it(sim_acl, catalog):
    acl, entry = sim_acl, catalog("dyn_batch")
    model_id = load(acl, entry.path)
    stream, _ = acl.rt.create_stream()
    io = GearIO.prepare(acl, model_id, entry.gear_inputs(0))
    assert acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index, 1) == 0
    assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream) == 0
    assert acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index, 4) == 0
    assert acl.rt.synchronize_stream(stream) == 0
    expected = entry.gear_outputs(0)
    np.testing.assert_allclose(io.outputs(expected)["y"], expected["y"], rtol=1e-4, atol=1e-5)
    io.release()
    acl.rt.destroy_stream(stream)


def test_buffers_sized_for_the_gear_are_enough_once_it_is_set(sim_acl, catalog):
    """davinci_model.cc CheckUserAndModelSize: no size check at a set gear; without one the
    largest gear's size is checked (145000 past the 64 bytes GE forgives)."""
    acl, entry = sim_acl, catalog("dyn_batch")
    model_id = load(acl, entry.path)
    x = entry.gear_inputs(0)["x"]  # batch 1: 64 bytes, the largest gear's 256
    buffers, handles = [], []

    def buffer(size, data=None):
        ptr, _ = acl.rt.malloc(size, 0)
        if data is not None:
            copy_to_device(acl, ptr, size, data)
        buffers.append(ptr)
        handles.append(acl.create_data_buffer(ptr, size))
        return handles[-1]

    in_ds, out_ds = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(in_ds, buffer(x.nbytes, x))
    acl.mdl.add_dataset_buffer(in_ds, buffer(4))
    acl.mdl.add_dataset_buffer(out_ds, buffer(40))
    assert acl.mdl.execute(model_id, in_ds, out_ds) == ACL_ERROR_GE_PARAM_INVALID
    assert acl.mdl.set_dynamic_batch_size(model_id, in_ds, 1, 1) == 0
    assert acl.mdl.execute(model_id, in_ds, out_ds) == 0
    for handle in handles:
        acl.destroy_data_buffer(handle)
    for ptr in buffers:
        acl.rt.free(ptr)
    acl.mdl.destroy_dataset(in_ds)
    acl.mdl.destroy_dataset(out_ds)


# -- refusals ------------------------------------------------------------------------------
@pytest.fixture
def batch_io(sim_acl, catalog):
    acl, entry = sim_acl, catalog("dyn_batch")
    model_id = load(acl, entry.path)
    io = GearIO.prepare(acl, model_id, entry.inputs())
    yield acl, model_id, io
    io.release()


def test_refusals_of_set_dynamic_batch_size(batch_io, catalog):
    """model.cpp aclmdlSetDynamicBatchSizeImpl and ge_executor.cc SetDynamicBatchSize, in
    their order."""
    acl, model_id, io = batch_io
    ds, gear = io.in_ds, io.gear_index
    assert acl.mdl.set_dynamic_batch_size(model_id, 0, gear, 2) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_batch_size(model_id, ds, gear, 0) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_batch_size(model_id, ds, 7, 2) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_batch_size(model_id + 100, ds, gear, 2) == \
        ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    for batch in (3, 8):  # not a gear
        assert acl.mdl.set_dynamic_batch_size(model_id, ds, gear, batch) == \
            ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert acl.mdl.set_dynamic_hw_size(model_id, ds, gear, 4, 4) == \
        ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID  # the length first: H and W need 8 bytes
    # ACL records the batch on the dataset before GE refuses it: the run finds no gear
    assert acl.mdl.execute(model_id, ds, io.out_ds) == ACL_ERROR_RT_MODEL_EXECUTE
    mlp = load(acl, catalog("mlp").path)
    assert acl.mdl.set_dynamic_batch_size(mlp, ds, gear, 2) == \
        ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    dynamic = load(acl, catalog("dyn_shape").path)
    assert acl.mdl.set_dynamic_batch_size(dynamic, ds, gear, 2) == \
        ACL_ERROR_GE_EXEC_MODEL_ID_INVALID


def test_a_short_or_missing_gear_buffer(sim_acl, catalog):
    acl, entry = sim_acl, catalog("dyn_hw")
    model_id = load(acl, entry.path)
    ptr, _ = acl.rt.malloc(64, 0)
    ds = acl.mdl.create_dataset()
    handles = [acl.create_data_buffer(0, 0), acl.create_data_buffer(ptr, 4)]
    for handle in handles:
        acl.mdl.add_dataset_buffer(ds, handle)
    assert acl.mdl.set_dynamic_hw_size(model_id, ds, 0, 8, 8) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_hw_size(model_id, ds, 1, 0, 8) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_hw_size(model_id, ds, 1, 8, 8) == \
        ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID  # 4 bytes: H and W need 8
    assert acl.update_data_buffer(handles[1], ptr, 2) == 0
    assert acl.mdl.set_dynamic_batch_size(model_id, ds, 1, 1) == \
        ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID
    assert acl.update_data_buffer(handles[1], ptr, 16) == 0
    assert acl.mdl.set_dynamic_batch_size(model_id, ds, 1, 8) == \
        ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID  # an image-size model has no batch gears
    assert acl.mdl.set_dynamic_hw_size(model_id, ds, 1, 8, 9) == \
        ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert acl.mdl.set_dynamic_hw_size(model_id, ds, 1, 8, 16) == 0
    # from 16 bytes on, GE writes H and W as 8 bytes each (ge_executor.cc SetDynamicImageSize)
    assert copy_from_device(acl, ptr, 16) == struct.pack("<QQ", 8, 16)
    for handle in handles:
        acl.destroy_data_buffer(handle)
    acl.mdl.destroy_dataset(ds)
    acl.rt.free(ptr)


def test_refusals_of_set_input_dynamic_dims(batch_io, catalog):
    """WrapAclMdlSetInputDynamicDims's own errors, then model.cpp and ge_executor.cc."""
    acl, model_id, io = batch_io
    ds, gear = io.in_ds, io.gear_index

    def dims(*values, count=None):
        return {"dimCount": len(values) if count is None else count, "name": "",
                "dims": list(values)}

    with pytest.raises(TypeError, match="argument 4 is not dict"):
        acl.mdl.set_input_dynamic_dims(model_id, ds, gear, [2, 16])
    with pytest.raises(TypeError, match="not a list"):
        acl.mdl.set_input_dynamic_dims(model_id, ds, gear, {"dimCount": 1, "dims": (2,)})
    with pytest.raises(TypeError, match="not list of int"):
        acl.mdl.set_input_dynamic_dims(model_id, ds, gear, dims(2, 16, count=3))
    assert acl.mdl.set_input_dynamic_dims(model_id, ds, gear, dims()) == \
        ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_input_dynamic_dims(model_id, ds, gear, dims(*[1] * 129)) == \
        ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_input_dynamic_dims(model_id, ds, gear, dims(2)) == \
        ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID  # all the inputs' dims, not the gear's
    assert acl.mdl.set_input_dynamic_dims(model_id, ds, gear, dims(2, 15)) == \
        ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID  # a fixed dim that differs
    assert acl.mdl.set_input_dynamic_dims(model_id, ds, gear, dims(3, 16)) == \
        ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert acl.mdl.set_input_dynamic_dims(model_id + 100, ds, gear, dims(2, 16)) == \
        ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    mlp = load(acl, catalog("mlp").path)
    assert acl.mdl.set_input_dynamic_dims(mlp, ds, gear, dims(4, 16)) == \
        ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID  # no data-name order: no dims at all
    # a refused call leaves the dataset without a gear: the largest runs
    assert acl.mdl.execute(model_id, ds, io.out_ds) == 0


# -- a dims model, compiled here -----------------------------------------------------------
def test_a_dims_model(sim_acl, tmp_path):
    """aclmdlGetInputDynamicGearCount / GetInputDynamicDims (model_om2.cpp 1846, 1876; the
    get_input_dynamic_dims page's example: every input's dims per gear, -1 filled in)."""
    acl = sim_acl
    model = dims_model()
    path = tmp_path / "dims.om"
    path.write_bytes(compile_onnx(model, "dims", gears=DIMS_GEARS).to_bytes())
    model_id = load(acl, path)
    desc = describe(acl, model_id)
    assert acl.mdl.get_input_dynamic_gear_count(desc, UNUSED) == (2, 0)
    assert acl.mdl.get_input_dynamic_gear_count(desc, 0) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_input_dynamic_dims(desc, UNUSED, 3) == ([
        {"name": "", "dimCount": 4, "dims": [1, 4, 1, 4]},
        {"name": "", "dimCount": 4, "dims": [3, 4, 3, 4]},
        {"name": "", "dimCount": 0, "dims": []}], 0)
    assert acl.mdl.get_input_dynamic_dims(desc, UNUSED, 1) == ([None],
                                                              ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_input_dynamic_dims(desc, UNUSED, 5000) == (None,
                                                                 ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_dynamic_batch(desc)[0]["batchCount"] == 0
    rng = np.random.default_rng(7)
    feeds = {"a": rng.standard_normal((3, 4)).astype(np.float32),
             "b": rng.standard_normal((3, 4)).astype(np.float32)}
    expected = {"y": np.maximum(feeds["a"] + feeds["b"], 0)}
    run(acl, model_id, feeds, expected, lambda io: acl.mdl.set_input_dynamic_dims(
        model_id, io.in_ds, io.gear_index, {"dimCount": 4, "name": "", "dims": [3, 4, 3, 4]}))
    empty = acl.mdl.create_dataset()
    assert acl.mdl.set_dynamic_batch_size(model_id, empty, 0, 3) == \
        ACL_ERROR_INVALID_PARAM  # no buffer at 0
    acl.mdl.destroy_dataset(empty)


# -- the load-time graph check -------------------------------------------------------------
def _tampered(data: bytes, change) -> bytes:
    model = read_model(data)
    group = model.groups[0]
    index = next(i for i, p in enumerate(group.partitions) if p.type == PartitionType.MODEL_DEF)
    model_def = ModelDef.decode(group.partitions[index].contiguous())
    graph = json.loads(model_def.bytes_attrs[SIM_GRAPH_ATTR])
    change(graph)
    model_def.bytes_attrs[SIM_GRAPH_ATTR] = json.dumps(graph).encode()
    group.partitions[index] = Partition(PartitionType.MODEL_DEF, model_def.encode())
    return OmModel(ModelFileHeader.unpack(data), [group]).to_bytes()


@pytest.mark.parametrize("change", [
    lambda g: g["gears"]["list"][0]["tensors"]["h1"].update(offset=1 << 20),
    lambda g: g["gears"].update(list=g["gears"]["list"][:1]),  # one gear left
    lambda g: g["gears"]["list"][1].update(values=[1]),  # a repeated gear
    lambda g: g["gears"]["list"][1]["inputs"][0].__setitem__(0, 3),  # not the gear's shape
    lambda g: g["gears"].update(order=["y"]),
    lambda g: g["inputs"].reverse(),  # the gear input not last
    lambda g: g["gears"].update(kind="width"),
    lambda g: g.update(tensors=g["gears"]["list"][0]["tensors"]),
], ids=["tensor-past-work", "one-gear", "repeated", "wrong-shape", "order", "input-order",
        "kind", "planned-outside-the-gears"])
def test_a_gear_graph_that_cannot_run_is_refused_at_load(sim_acl, catalog, tmp_path, change):
    """graphcheck.py: every gear that can be selected also runs."""
    path = tmp_path / "bad.om"
    path.write_bytes(_tampered(catalog("dyn_batch").path.read_bytes(), change))
    assert sim_acl.mdl.load_from_file(str(path)) == (
        0, ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED)
