"""The simulator's compiler: an ONNX graph (a documented op subset) → an OM file.

What it produces is what the simulator's loader and executor need, in GE's container:

- WEIGHTS_DATA: every initializer, laid out 32-byte aligned — the bytes a loader copies into
  weight memory (om-format.md §3.1: the weight buffer is the WEIGHTS_DATA partition).
- A work-memory plan (planner.py): each intermediate tensor gets an offset, with liveness
  reuse; the peak is the model's work size, written to the ModelDef ``memory_size`` attribute
  and to ModelTaskDef field 11 (what QuerySize reads, §3.2). Model inputs and outputs are not
  in work memory: they live in the user's buffers (zero-copy).
- The executable graph as JSON in the ModelDef attribute ``_pytest_acl_graph`` (modeldef.py).

A dynamic-shape model (an input dimension unknown until run time) is written as GE writes a
dynamic root model (§2.2): ``is_unknow_model = 1``, ``model_num = 2``, a root group holding the
graph and the weights and a partitioned sub-model group whose TASK_INFO has no work memory;
its intermediates are sized at run time. Anything unsupported raises :class:`CompileError`
naming the node.

A model with gears (``gears=``, what ATC's ``--dynamic_batch_size`` / ``--dynamic_image_size``
/ ``--dynamic_dims`` build; the facts are in dynamic.py's docstring) is a *static* model: ATC
compiles one subgraph per gear behind a Case node, sizes each input for its largest gear, and
lets the gears share the work memory (compiler/graph/build/memory/
dynamic_batch_mem_assigner.cc merges the smaller gears' blocks into the largest one's). So
here: one shape-generic graph with a memory plan per gear (work size = the largest), inputs
described with their ``-1`` dimensions and the size of their largest gear, the extra input
``ascend_mbatch_shape_data`` (int32, one element per gear value, the last input:
multi_batch_clone_pass.cc ``CreateIndexDataNode``), outputs described at the largest gear, and
the gears recorded as GE records them: in the MODEL_INOUT_INFO partition (om/inout.py) and as
a ``Case`` op in the ModelDef.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from pytest_acl.om.container import OmModel, Partition, PartitionGroup
from pytest_acl.om.header import ModelFileHeader
from pytest_acl.om.inout import (
    BATCH,
    DIMS,
    DYNAMIC_TENSOR_NAME,
    IMAGE_SIZE,
    Gears,
    InOutInfo,
    gear_shapes,
)
from pytest_acl.om.modeldef import SIM_GRAPH_ATTR, ModelDef, ModelTaskDef, OpDef
from pytest_acl.om.partitions import PartitionType
from pytest_acl.sim import ops
from pytest_acl.sim.planner import Interval, plan

WEIGHT_ALIGNMENT = 32
GRAPH_FORMAT = 1
PLATFORM = b"pytest-acl-sim"


class CompileError(ValueError):
    """The ONNX graph cannot be compiled; the message names the node and what is wrong."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]  # -1 for a dimension known only at run time

    @property
    def nbytes(self) -> int:
        if any(d < 0 for d in self.shape):
            return 0
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


def _tensor_info(value: onnx.ValueInfoProto, dynamic: bool, where: str) -> TensorInfo:
    kind = value.type.tensor_type
    if not kind.HasField("shape"):
        raise CompileError(f"{where}: tensor {value.name!r} has no known shape")
    dims = []
    for dim in kind.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        elif dynamic:
            dims.append(-1)
        else:
            raise CompileError(f"{where}: tensor {value.name!r} has a dimension unknown until "
                               "run time; compile it as a dynamic model")
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(kind.elem_type)).str
    return TensorInfo(value.name, dtype, tuple(dims))


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    attrs = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list | tuple):
            value = [v.decode() if isinstance(v, bytes) else v for v in value]
        elif not isinstance(value, int | float | str):
            raise CompileError(f"node {node.name!r} ({node.op_type}): attribute {attr.name!r} "
                               "of this kind is not supported")
        attrs[attr.name] = value
    return attrs


def _check_node(node: onnx.NodeProto, attrs: dict[str, Any], initializers: set[str]) -> None:
    where = f"node {node.name!r} ({node.op_type})"
    if node.op_type not in ops.KERNELS:
        raise CompileError(f"{where}: operator not supported by the simulator's compiler; "
                           f"supported: {', '.join(ops.SUPPORTED)}")
    if node.op_type == "Conv" and (attrs.get("group", 1) != 1
                                   or attrs.get("auto_pad", "NOTSET") != "NOTSET"):
        raise CompileError(f"{where}: only group=1 and explicit pads are supported")
    for index in ops.CONSTANT_INPUTS.get(node.op_type, ()):
        if index < len(node.input) and node.input[index] not in initializers:
            raise CompileError(f"{where}: input {index} ({node.input[index]!r}) must be an "
                               "initializer (a shape known when compiling)")


def _weights(graph: onnx.GraphProto) -> tuple[tuple[bytes, ...], int, dict[str, dict[str, Any]]]:
    """WEIGHTS_DATA as chunks (each initializer's raw bytes, then zero padding to 32), its
    size, and where each initializer sits. The chunks are the tensors' own bytes, so a 64 MiB
    weight is not copied into a second 64 MiB blob."""
    layout: dict[str, dict[str, Any]] = {}
    chunks: list[bytes] = []
    offset = 0
    for init in graph.initializer:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(init.data_type))
        data = init.raw_data if init.HasField("raw_data") else \
            np.ascontiguousarray(numpy_helper.to_array(init)).tobytes()
        layout[init.name] = {"offset": offset, "nbytes": len(data), "dtype": dtype.str,
                             "shape": list(init.dims)}
        padding = -len(data) % WEIGHT_ALIGNMENT
        chunks += [data, bytes(padding)] if padding else [data]
        offset += len(data) + padding
    return tuple(chunks), offset, layout


def _shape_skeleton(model: onnx.ModelProto, limit: int = 1 << 16) -> onnx.ModelProto:
    """The model with large initializers replaced by typed graph inputs: shape inference
    serializes the model, and a 64 MiB weight needs only its shape for that."""
    graph = model.graph
    small = [init for init in graph.initializer if len(init.raw_data) <= limit]
    large = [helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
             for init in graph.initializer if len(init.raw_data) > limit]
    skeleton = helper.make_graph(list(graph.node), graph.name, [*graph.input, *large],
                                 list(graph.output), small, value_info=list(graph.value_info))
    return helper.make_model(skeleton, opset_imports=list(model.opset_import),
                             ir_version=model.ir_version)


def _liveness(graph: onnx.GraphProto, boundary: set[str]) -> dict[str, list[int]]:
    """Each intermediate's [first step, last step] (boundary values live elsewhere)."""
    intervals: dict[str, list[int]] = {}
    for step, node in enumerate(graph.node):
        for name_in in node.input:
            if name_in in intervals:
                intervals[name_in][1] = step
        for name_out in node.output:
            if name_out not in boundary:
                intervals[name_out] = [step, step]
    return intervals


def _intermediates(graph: onnx.GraphProto, boundary: set[str],
                   known: dict[str, onnx.ValueInfoProto], dynamic: bool) -> dict[str, TensorInfo]:
    infos: dict[str, TensorInfo] = {}
    for node in graph.node:
        for name_out in node.output:
            if name_out in boundary:
                continue
            if name_out not in known:
                raise CompileError(f"node {node.name!r} ({node.op_type}): the shape of output "
                                   f"{name_out!r} could not be inferred")
            infos[name_out] = _tensor_info(known[name_out], dynamic,
                                           f"node {node.name!r} ({node.op_type})")
    return infos


def _memory_plan(intervals: dict[str, list[int]], infos: dict[str, TensorInfo]
                 ) -> tuple[dict[str, dict[str, Any]], int]:
    placements, work_size = plan([Interval(n, infos[n].nbytes, first, last)
                                  for n, (first, last) in intervals.items()])
    return {n: {"offset": p.offset, "nbytes": p.nbytes, "dtype": infos[n].dtype,
                "shape": list(infos[n].shape)} for n, p in placements.items()}, work_size


def _check_gears(gears: Gears, inputs: list[TensorInfo]) -> None:
    """What ATC accepts (the --dynamic_batch_size / --dynamic_image_size / --dynamic_dims
    pages, 关联参数): ``-1`` only as the first dimension for batch gears, as H and W of a
    4-D NCHW input for image sizes; as many ``-1`` as values per gear for dims."""
    dynamic = [t for t in inputs if any(d < 0 for d in t.shape)]
    if not dynamic:
        raise CompileError("a model with gears needs an input with a -1 dimension")
    for tensor in dynamic:
        unknown = [i for i, d in enumerate(tensor.shape) if d < 0]
        if gears.kind == BATCH and unknown != [0]:
            raise CompileError(f"input {tensor.name!r} {list(tensor.shape)}: batch gears set "
                               "only the first dimension")
        if gears.kind == IMAGE_SIZE and (len(tensor.shape) != 4 or unknown != [2, 3]):
            raise CompileError(f"input {tensor.name!r} {list(tensor.shape)}: image-size gears "
                               "set H and W of an NCHW input")
    if gears.kind == DIMS:
        count = sum(d < 0 for t in inputs for d in t.shape)
        if count != len(gears.values[0]):
            raise CompileError(f"the inputs have {count} dimensions of -1, the dims gears "
                               f"give {len(gears.values[0])} values each")


def _concrete(skeleton: onnx.ModelProto, shapes: dict[str, list[int]]) -> onnx.ModelProto:
    """The skeleton with the inputs at one gear's shapes and the outputs left to inference."""
    model = onnx.ModelProto()
    model.CopyFrom(skeleton)
    for value in model.graph.input:
        if value.name in shapes:
            for dim, size in zip(value.type.tensor_type.shape.dim, shapes[value.name],
                                 strict=True):
                dim.Clear()
                dim.dim_value = size
    for value in model.graph.output:
        value.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]
    return model


def _gear_plans(model: onnx.ModelProto, gears: Gears, inputs: list[TensorInfo],
                boundary: set[str], intervals: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Per gear: its values, input and output shapes, and its own memory plan (the subgraph
    ATC compiles for it)."""
    skeleton = _shape_skeleton(model)
    plans = []
    for values in gears.values:
        shapes = gear_shapes(gears.kind, values, [list(t.shape) for t in inputs])
        try:
            inferred = onnx.shape_inference.infer_shapes(
                _concrete(skeleton, {t.name: s for t, s in zip(inputs, shapes, strict=True)}),
                strict_mode=True)
        except onnx.shape_inference.InferenceError as exc:
            raise CompileError(f"gear {list(values)}: {exc}") from None
        known = {v.name: v for v in inferred.graph.value_info}
        tensors, work_size = _memory_plan(
            intervals, _intermediates(model.graph, boundary, known, dynamic=False))
        outputs = [list(_tensor_info(v, False, f"gear {list(values)} output").shape)
                   for v in inferred.graph.output]
        plans.append({"values": list(values), "inputs": shapes, "outputs": outputs,
                      "tensors": tensors, "work_size": work_size})
    return plans


def compile_onnx(model: onnx.ModelProto, name: str, dynamic: bool = False,
                 variables: dict[str, dict[str, Any]] | None = None,
                 assign: dict[str, str] | None = None, gears: Gears | None = None) -> OmModel:
    """Compile ``model`` into an OM for the simulator (see the module docstring).

    For a bundle sub-graph, ``variables`` is the bundle's variable layout (name → offset,
    nbytes, dtype, shape in variable memory; identical in every sub-graph, as GE's bundle
    build guarantees, om-format.md §6): graph inputs with those names read variable memory
    instead of user buffers. ``assign`` maps a variable to the graph output it takes after
    each execution. ``gears`` builds a model with gears from a model whose gear dimensions
    are unknown (what ATC's --dynamic_batch_size / --dynamic_image_size / --dynamic_dims
    take)."""
    variables = variables or {}
    assign = assign or {}
    if gears is not None and (dynamic or variables):
        raise CompileError("a model with gears is a static model, not in a bundle")
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    output_names = {v.name for v in graph.output}
    for variable, source in assign.items():
        if variable not in variables or source not in output_names:
            raise CompileError(f"assign {variable!r} ← {source!r}: needs a bundle variable and "
                               "a graph output")
    unknown_allowed = dynamic or gears is not None
    inputs = [_tensor_info(v, unknown_allowed, "graph input") for v in graph.input
              if v.name not in initializers and v.name not in variables]
    boundary = ({t.name for t in inputs} | output_names | initializers | set(variables))
    nodes: list[dict[str, Any]] = []
    for node in graph.node:
        attrs = _attributes(node)
        _check_node(node, attrs, initializers)
        nodes.append({"name": node.name, "op": node.op_type, "inputs": list(node.input),
                      "outputs": list(node.output), "attrs": attrs})
    intervals = _liveness(graph, boundary)
    tensors: dict[str, dict[str, Any]] = {}
    work_size = 0
    extra: dict[str, Any] = {}
    if gears is not None:
        _check_gears(gears, inputs)
        plans = _gear_plans(model, gears, inputs, boundary, intervals)
        work_size = max(p["work_size"] for p in plans)
        largest = plans[gears.largest()]
        input_specs = [t.as_json() | {"size": max(
            TensorInfo(t.name, t.dtype, tuple(p["inputs"][i])).nbytes for p in plans)}
            for i, t in enumerate(inputs)]
        input_specs.append({"name": DYNAMIC_TENSOR_NAME, "dtype": np.dtype(np.int32).str,
                            "shape": [len(gears.values[0])]})
        output_specs = [{"name": v.name, "dtype": _tensor_info(v, True, "graph output").dtype,
                         "shape": shape} for v, shape in zip(graph.output, largest["outputs"],
                                                             strict=True)]
        extra["gears"] = {"kind": gears.kind, "order": [t.name for t in inputs],
                          "input": DYNAMIC_TENSOR_NAME, "list": plans}
    else:
        outputs = [_tensor_info(v, dynamic, "graph output") for v in graph.output]
        input_specs = [t.as_json() for t in inputs]
        output_specs = [t.as_json() for t in outputs]
        if not dynamic:
            inferred = onnx.shape_inference.infer_shapes(_shape_skeleton(model),
                                                         strict_mode=True)
            known = {v.name: v for v in inferred.graph.value_info}
            tensors, work_size = _memory_plan(
                intervals, _intermediates(graph, boundary, known, dynamic))
        else:  # the shapes of a dynamic model's intermediates are checked, not planned
            inferred = onnx.shape_inference.infer_shapes(_shape_skeleton(model),
                                                         strict_mode=True)
            _intermediates(graph, boundary, {v.name: v for v in inferred.graph.value_info},
                           dynamic)
    weight_chunks, weight_size, weight_layout = _weights(graph)
    executable = {"format": GRAPH_FORMAT, "dynamic": dynamic,
                  "inputs": input_specs, "outputs": output_specs,
                  "weights": weight_layout, "tensors": tensors, "nodes": nodes,
                  "work_size": work_size,
                  "variables": {v: variables[v] for v in sorted(variables)
                                if any(v in n["inputs"] for n in nodes) or v in assign},
                  "assign": assign} | extra
    ops = [OpDef(n["name"], n["op"], n["inputs"]) for n in nodes]
    graph_inputs = [spec["name"] for spec in input_specs]
    if gears is not None:  # the root graph ATC builds: the gear input and the Case op
        ops = [OpDef(DYNAMIC_TENSOR_NAME, "Data"),
               OpDef("ascend_mbatch_shape_case", "Case", graph_inputs), *ops]
    model_def = ModelDef(
        name=name, int_attrs={"memory_size": work_size, "weight_size": weight_size},
        bytes_attrs={SIM_GRAPH_ATTR: json.dumps(executable, sort_keys=True).encode()},
        ops=ops, graph_inputs=graph_inputs, graph_outputs=[s["name"] for s in output_specs])
    task = ModelTaskDef(memory_size=work_size, weight_size=weight_size)
    header = ModelFileHeader(platform_version=PLATFORM.ljust(20, b"\0")).with_name(name)
    root = PartitionGroup([Partition(PartitionType.MODEL_DEF, model_def.encode())])
    if gears is not None:  # GE writes MODEL_INOUT_INFO before MODEL_DEF (om-format.md §2.1)
        info = InOutInfo.of(gears, extra["gears"]["order"],
                            [p["outputs"] for p in extra["gears"]["list"]])
        root.partitions.insert(0, Partition(PartitionType.MODEL_INOUT_INFO, info.encode()))
    if weight_size:
        root.partitions.append(Partition(PartitionType.WEIGHTS_DATA, weight_chunks))
    if not dynamic:
        root.partitions.append(Partition(PartitionType.TASK_INFO, task.encode()))
        return OmModel(header, [root])
    sub = PartitionGroup([Partition(PartitionType.MODEL_DEF, ModelDef(f"{name}_sub").encode()),
                          Partition(PartitionType.TASK_INFO, task.encode())])
    header = ModelFileHeader(platform_version=PLATFORM.ljust(20, b"\0"), model_num=2,
                             is_unknow_model=1).with_name(name)
    return OmModel(header, [root, sub])
