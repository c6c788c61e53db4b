"""The simulator's compiler: weights layout, work plan, dynamic models, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from pytest_acl.om.modeldef import ModelDef, executable_graph
from pytest_acl.om.partitions import PartitionType as T
from pytest_acl.om.reader import expected_sizes, read_model
from pytest_acl.sim.compiler import CompileError, compile_onnx


def _model(nodes, inputs, outputs, weights=(), opset=17):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        list(weights))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _chain(length: int, batch=4, width=32):
    nodes = [helper.make_node("Relu", ["x" if i == 0 else f"t{i}"],
                              [f"t{i + 1}" if i < length - 1 else "y"], name=f"n{i}")
             for i in range(length)]
    return _model(nodes, [("x", [batch, width])], [("y", [batch, width])])


def test_chain_work_is_the_peak_not_the_sum():
    model = read_model(compile_onnx(_chain(6), "chain").to_bytes())
    work, weight = expected_sizes(model)
    tensor_bytes = 4 * 32 * 4
    assert weight == 0
    assert work == 2 * tensor_bytes < 5 * tensor_bytes


def test_inputs_and_outputs_are_not_in_work_memory():
    model = read_model(compile_onnx(_chain(1), "one").to_bytes())
    assert expected_sizes(model) == (0, 0)


def test_weights_are_32_byte_aligned_and_hold_the_initializer_bytes():
    w1 = np.arange(5, dtype=np.float32)  # 20 bytes: the next weight must start at 32
    w2 = np.arange(3, dtype=np.float32) + 100
    nodes = [helper.make_node("Add", ["x", "w1"], ["s"], name="a"),
             helper.make_node("Concat", ["s", "w2"], ["y"], name="c", axis=0)]
    onnx_model = _model(nodes, [("x", [5])], [("y", [8])], [numpy_helper.from_array(w1, "w1"),
                                                            numpy_helper.from_array(w2, "w2")])
    model = read_model(compile_onnx(onnx_model, "w").to_bytes())
    blob = bytes(model.groups[0].find(T.WEIGHTS_DATA).data)
    graph = executable_graph(ModelDef.decode(model.groups[0].find(T.MODEL_DEF).data))
    assert graph["weights"]["w1"]["offset"] == 0 and graph["weights"]["w2"]["offset"] == 32
    assert blob[:20] == w1.tobytes() and blob[32:44] == w2.tobytes()
    assert expected_sizes(model)[1] == len(blob) == 64


def test_modeldef_attributes_carry_the_sizes_loaders_read():
    model = read_model(compile_onnx(_chain(4), "attrs").to_bytes())
    model_def = ModelDef.decode(model.groups[0].find(T.MODEL_DEF).data)
    work, weight = expected_sizes(model)
    assert model_def.int_attrs == {"memory_size": work, "weight_size": weight}
    assert [op.type for op in model_def.ops] == ["Relu"] * 4


def test_unsupported_operator_names_the_node():
    onnx_model = _model([helper.make_node("Tanh", ["x"], ["y"], name="squash")],
                        [("x", [2])], [("y", [2])])
    with pytest.raises(CompileError, match=r"node 'squash' \(Tanh\).*supported: "):
        compile_onnx(onnx_model, "bad")


def test_unknown_dimension_needs_a_dynamic_build():
    with pytest.raises(CompileError, match="unknown until run time"):
        compile_onnx(_chain(3, batch="n"), "dyn")


def test_dynamic_build_is_a_two_group_dynamic_om_with_work_zero():
    om = read_model(compile_onnx(_chain(3, batch="n"), "dyn", dynamic=True).to_bytes())
    assert om.is_dynamic and om.header.model_num == 2 and om.header.is_unknow_model == 1
    assert expected_sizes(om) == (0, 0)
    graph = executable_graph(ModelDef.decode(om.groups[0].find(T.MODEL_DEF).data))
    assert graph["dynamic"] and graph["inputs"][0]["shape"] == [-1, 32]


def test_reshape_needs_a_constant_shape():
    onnx_model = helper.make_graph(
        [helper.make_node("Reshape", ["x", "s"], ["y"], name="r")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("s", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])])
    with pytest.raises(CompileError, match="must be an initializer"):
        compile_onnx(helper.make_model(onnx_model, opset_imports=[helper.make_opsetid("", 17)]),
                     "r")


def test_graph_json_is_deterministic():
    first = compile_onnx(_chain(3), "d").to_bytes()
    assert compile_onnx(_chain(3), "d").to_bytes() == first
    graph = executable_graph(ModelDef.decode(read_model(first).groups[0].find(T.MODEL_DEF).data))
    assert json.loads(json.dumps(graph)) == graph
