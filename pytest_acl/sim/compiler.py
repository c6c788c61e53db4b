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


def compile_onnx(model: onnx.ModelProto, name: str, dynamic: bool = False,
                 variables: dict[str, dict[str, Any]] | None = None,
                 assign: dict[str, str] | None = None) -> OmModel:
    """Compile ``model`` into an OM for the simulator (see the module docstring).

    For a bundle sub-graph, ``variables`` is the bundle's variable layout (name → offset,
    nbytes, dtype, shape in variable memory; identical in every sub-graph, as GE's bundle
    build guarantees, om-format.md §6): graph inputs with those names read variable memory
    instead of user buffers. ``assign`` maps a variable to the graph output it takes after
    each execution."""
    variables = variables or {}
    assign = assign or {}
    inferred = onnx.shape_inference.infer_shapes(_shape_skeleton(model), strict_mode=True)
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    output_names = {v.name for v in graph.output}
    for variable, source in assign.items():
        if variable not in variables or source not in output_names:
            raise CompileError(f"assign {variable!r} ← {source!r}: needs a bundle variable and "
                               "a graph output")
    inputs = [_tensor_info(v, dynamic, "graph input") for v in graph.input
              if v.name not in initializers and v.name not in variables]
    outputs = [_tensor_info(v, dynamic, "graph output") for v in graph.output]
    boundary = ({t.name for t in inputs} | {t.name for t in outputs} | initializers
                | set(variables))
    known = {v.name: v for v in inferred.graph.value_info}
    nodes: list[dict[str, Any]] = []
    intervals: dict[str, list[int]] = {}  # tensor → [first step, last step]
    infos: dict[str, TensorInfo] = {}
    for step, node in enumerate(graph.node):
        attrs = _attributes(node)
        _check_node(node, attrs, initializers)
        for name_in in node.input:
            if name_in in intervals:
                intervals[name_in][1] = step
        for name_out in node.output:
            if name_out in boundary:
                continue
            if name_out not in known:
                raise CompileError(f"node {node.name!r} ({node.op_type}): the shape of output "
                                   f"{name_out!r} could not be inferred")
            infos[name_out] = _tensor_info(known[name_out], dynamic,
                                           f"node {node.name!r} ({node.op_type})")
            intervals[name_out] = [step, step]
        nodes.append({"name": node.name, "op": node.op_type, "inputs": list(node.input),
                      "outputs": list(node.output), "attrs": attrs})
    tensors: dict[str, dict[str, Any]] = {}
    work_size = 0
    if not dynamic:
        placements, work_size = plan([Interval(n, infos[n].nbytes, first, last)
                                      for n, (first, last) in intervals.items()])
        tensors = {n: {"offset": p.offset, "nbytes": p.nbytes, "dtype": infos[n].dtype,
                       "shape": list(infos[n].shape)} for n, p in placements.items()}
    weight_chunks, weight_size, weight_layout = _weights(graph)
    executable = {"format": GRAPH_FORMAT, "dynamic": dynamic,
                  "inputs": [t.as_json() for t in inputs],
                  "outputs": [t.as_json() for t in outputs],
                  "weights": weight_layout, "tensors": tensors, "nodes": nodes,
                  "work_size": work_size,
                  "variables": {v: variables[v] for v in sorted(variables)
                                if any(v in n["inputs"] for n in nodes) or v in assign},
                  "assign": assign}
    model_def = ModelDef(
        name=name, int_attrs={"memory_size": work_size, "weight_size": weight_size},
        bytes_attrs={SIM_GRAPH_ATTR: json.dumps(executable, sort_keys=True).encode()},
        ops=[OpDef(n["name"], n["op"], n["inputs"]) for n in nodes],
        graph_inputs=[t.name for t in inputs], graph_outputs=[t.name for t in outputs])
    task = ModelTaskDef(memory_size=work_size, weight_size=weight_size)
    header = ModelFileHeader(platform_version=PLATFORM.ljust(20, b"\0")).with_name(name)
    root = PartitionGroup([Partition(PartitionType.MODEL_DEF, model_def.encode())])
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
