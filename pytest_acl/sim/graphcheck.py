"""The load-time check of a model's executable graph, so that every model that loads also
describes and executes.

GE builds a model's runtime graph from its MODEL_DEF and TASK_INFO when it loads it, and a
load whose graph cannot be built fails there — never at the first execution
(reference/cann-behaviour.md §1: the loader parses the partitions before it returns an id).
The simulator's graph is JSON in the ModelDef attribute ``_pytest_acl_graph`` (compiler.py);
this module checks it the way GE checks its own: decoded, typed, every tensor inside the
memory it lives in (weights inside WEIGHTS_DATA, intermediates inside the work memory the
load takes), every operator known, every value defined before it is read. A graph that
fails is refused with ``ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED`` — the code the
reader gives a MODEL_DEF that is not a ModelDef (reader.py); for this simulator-only
payload the code is the simulator's choice, consistent with that one.

A graph with gears (compiler.py; dynamic.py has the facts) is checked gear by gear: the
gear input ``ascend_mbatch_shape_data`` comes last (int32, one element per gear value), every
``-1`` of an input is one a gear fills, each gear's input shapes are the inputs' with its
values put in, and each gear's intermediates are planned inside the work memory the load
takes (the gears share it) — so every gear that can be selected also runs.

Limits (rank, attribute sizes, gear count) bound what one execution can allocate on the host: a
mutated attribute (a 2^40 pad) must not turn an execution into an unbounded allocation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from pytest_acl.constants import AclError
from pytest_acl.om.inout import BATCH, DYNAMIC_TENSOR_NAME, IMAGE_SIZE, KINDS, gear_shapes
from pytest_acl.sim import ops
from pytest_acl.sim.pyargs import AclFail

E = AclError
MAX_RANK = 8
MAX_DIM = 1 << 31
MAX_ATTR_INT = 1 << 16  # pads, strides, axes, … of the supported operators are small
MAX_ATTR_LIST = 16
# The most gears ATC builds (Ascend 950: 256; the --dynamic_batch_size option page).
MAX_GEARS = 256
# The element types the operator subset computes in (numpy kinds: bool, int, uint, float).
DTYPE_KINDS = frozenset("biuf")


class GraphError(Exception):
    """The graph cannot be built; the message says where and what."""


def decode(raw: bytes) -> dict[str, Any]:
    """The graph JSON as a dict; a payload that is not UTF-8 JSON is a GraphError."""
    try:
        graph = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise GraphError(f"the graph is not JSON: {exc}") from None
    if not isinstance(graph, dict):
        raise GraphError(f"the graph is a {type(graph).__name__}, not an object")
    return graph


def _int(value: Any, where: str, low: int = 0, high: int = 1 << 63) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value < high:
        raise GraphError(f"{where} is {value!r}, not an integer in [{low}, {high})")
    return value


def _dtype(value: Any, where: str) -> np.dtype[Any]:
    try:
        dtype = np.dtype(value) if isinstance(value, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in DTYPE_KINDS or dtype.itemsize > 8:
        raise GraphError(f"{where}: data type {value!r} is not one the operators compute in")
    return dtype


def _shape(value: Any, where: str, unknown_allowed: bool) -> list[int]:
    if not isinstance(value, list) or len(value) > MAX_RANK:
        raise GraphError(f"{where}: shape {value!r} is not a list of at most {MAX_RANK} dims")
    low = -1 if unknown_allowed else 0
    return [_int(d, f"{where}: dimension {i}", low, MAX_DIM) for i, d in enumerate(value)]


def _nbytes(dtype: np.dtype[Any], shape: list[int]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count * dtype.itemsize


def _spec(value: Any, where: str, unknown_allowed: bool) -> tuple[str, np.dtype[Any], list[int]]:
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
        raise GraphError(f"{where} is not a named tensor")
    what = f"{where} {value['name']!r}"
    dtype = _dtype(value.get("dtype"), what)
    shape = _shape(value.get("shape"), what, unknown_allowed)
    if "size" in value:  # the stored size of a tensor with a dimension unknown until run time
        _int(value["size"], f"{what}: size")
    ranges = value.get("shape_range", [])
    if not isinstance(ranges, list) or (ranges and len(ranges) != len(shape)) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in ranges):
        raise GraphError(f"{what}: shape range {ranges!r} is not one [low, high] per dimension")
    for index, (low, high) in enumerate(ranges):
        _int(low, f"{what}: range {index} low", -1, MAX_DIM)
        _int(high, f"{what}: range {index} high", -1, MAX_DIM)
    return value["name"], dtype, shape


def _placed(table: Any, where: str, capacity: int) -> set[str]:
    """Names of tensors placed at an offset inside ``capacity`` bytes, each as large as its
    type and shape say."""
    if not isinstance(table, Mapping):
        raise GraphError(f"{where} is not an object")
    for name, value in table.items():
        what = f"{where} {name!r}"
        if not isinstance(value, Mapping):
            raise GraphError(f"{what} is not an object")
        dtype = _dtype(value.get("dtype"), what)
        shape = _shape(value.get("shape"), what, unknown_allowed=False)
        offset = _int(value.get("offset"), f"{what}: offset")
        nbytes = _int(value.get("nbytes"), f"{what}: size")
        if nbytes != _nbytes(dtype, shape):
            raise GraphError(f"{what}: {nbytes} bytes for shape {shape} of {dtype}")
        if offset + nbytes > capacity:
            raise GraphError(f"{what} ends at byte {offset + nbytes}, past the {capacity} "
                             f"bytes it lives in")
    return set(table)


def _attr(value: Any, where: str) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and len(value) > MAX_ATTR_LIST:
        raise GraphError(f"{where} has {len(value)} values, more than {MAX_ATTR_LIST}")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise GraphError(f"{where} is {item!r}, not a number or a string")
        if isinstance(item, int) and abs(item) > MAX_ATTR_INT:
            raise GraphError(f"{where} is {item}, beyond ±{MAX_ATTR_INT}")
        if isinstance(item, float) and not np.isfinite(item):
            raise GraphError(f"{where} is {item}")


def check(graph: dict[str, Any], weight_size: int, work_size: int, dynamic: bool,
          variable_size: int | None = None) -> None:
    """Raise GraphError unless ``graph`` can run in a ``weight_size``-byte weight memory and
    a ``work_size``-byte work memory (and, for a bundle graph, ``variable_size`` bytes of
    variables)."""
    known: set[str] = set()
    gears = graph.get("gears")
    if gears is not None and dynamic:
        raise GraphError("a dynamic graph has gears")
    for side in ("inputs", "outputs"):
        specs = graph.get(side)
        if not isinstance(specs, list):
            raise GraphError(f"graph {side} are not a list")
        unknown_allowed = dynamic or (gears is not None and side == "inputs")
        names = [_spec(spec, f"graph {side[:-1]} {i}", unknown_allowed)[0]
                 for i, spec in enumerate(specs)]
        if len(set(names)) != len(names):
            raise GraphError(f"graph {side} repeat a name: {names}")
        if side == "inputs":
            known.update(names)
    known |= _placed(graph.get("weights"), "weight", weight_size)
    variables = graph.get("variables", {})
    known |= _placed(variables, "variable", variable_size if variable_size is not None
                     else 1 << 63)
    tensors = graph.get("tensors")
    if (dynamic or gears is not None) and tensors:
        raise GraphError("a dynamic graph or one with gears has intermediates planned outside "
                         "its gears")
    plans = [_placed(tensors, "intermediate", work_size)]
    if gears is not None:
        plans = _gears(gears, graph, work_size)
    nodes = graph.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise GraphError("the graph has no operators")
    outputs = {spec["name"] for spec in graph["outputs"]}
    for index, node in enumerate(nodes):
        where = f"operator {index}"
        if not isinstance(node, Mapping):
            raise GraphError(f"{where} is not an object")
        if not isinstance(node.get("op"), str) or node["op"] not in ops.KERNELS:
            raise GraphError(f"{where}: operator type {node.get('op')!r} is not supported")
        where = f"operator {index} ({node['op']})"
        for side in ("inputs", "outputs"):
            listed = node.get(side)
            if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
                raise GraphError(f"{where}: {side} are not a list of names")
        for name in node["inputs"]:
            if name not in known:
                raise GraphError(f"{where} reads {name!r} before anything produces it")
        for name in node["outputs"]:
            if not dynamic and name not in outputs and any(name not in p for p in plans):
                raise GraphError(f"{where} writes {name!r}, which has no place in work memory")
            known.add(name)
        attrs = node.get("attrs")
        if not isinstance(attrs, Mapping):
            raise GraphError(f"{where}: attributes are not an object")
        for key, value in attrs.items():
            _attr(value, f"{where}: attribute {key!r}")
    missing = outputs - known
    if missing:
        raise GraphError(f"no operator produces the graph outputs {sorted(missing)}")
    assign = graph.get("assign", {})
    if not isinstance(assign, Mapping) or any(
            not isinstance(source, str) or variable not in variables or source not in outputs
            for variable, source in assign.items()):
        raise GraphError(f"assignments {assign!r} need a variable and a graph output each")


def _gears(gears: Any, graph: dict[str, Any], work_size: int) -> list[set[str]]:
    """Check the gears of a graph (see the module docstring); the names each gear plans."""
    if not isinstance(gears, Mapping) or gears.get("kind") not in KINDS:
        raise GraphError(f"gears {gears!r:.80} have no known kind ({', '.join(KINDS)})")
    kind = gears["kind"]
    inputs, outputs = graph["inputs"], graph["outputs"]
    if not inputs or inputs[-1]["name"] != DYNAMIC_TENSOR_NAME or \
            gears.get("input") != DYNAMIC_TENSOR_NAME:
        raise GraphError(f"a graph with gears takes {DYNAMIC_TENSOR_NAME!r} as its last input")
    users = inputs[:-1]
    if gears.get("order") != [spec["name"] for spec in users]:
        raise GraphError(f"gear order {gears.get('order')!r:.80} is not the inputs' order")
    gear_input = _shape(inputs[-1]["shape"], "the gear input", unknown_allowed=False)
    if np.dtype(inputs[-1]["dtype"]) != np.dtype(np.int32) or len(gear_input) != 1:
        raise GraphError("the gear input is not a 1-D int32 tensor")
    width = gear_input[0]
    if width != {BATCH: 1, IMAGE_SIZE: 2}.get(kind, width) or not 1 <= width <= MAX_RANK ** 2:
        raise GraphError(f"{kind} gears of {width} values each")
    origin = [_shape(spec["shape"], f"input {spec['name']!r}", True) for spec in users]
    if sum(d < 0 for shape in origin for d in shape) == 0:
        raise GraphError("a graph with gears has no input dimension a gear sets")
    listed = gears.get("list")
    if not isinstance(listed, list) or not 2 <= len(listed) <= MAX_GEARS:
        raise GraphError(f"gear list {listed!r:.80} does not hold 2 to {MAX_GEARS} gears")
    plans, seen = [], set()
    for index, gear in enumerate(listed):
        where = f"gear {index}"
        if not isinstance(gear, Mapping):
            raise GraphError(f"{where} is not an object")
        values = gear.get("values")
        if not isinstance(values, list) or len(values) != width:
            raise GraphError(f"{where}: values {values!r:.80} are not {width} numbers")
        values = tuple(_int(v, f"{where}: value", 1, MAX_DIM) for v in values)
        if values in seen:
            raise GraphError(f"{where} repeats gear {list(values)}")
        seen.add(values)
        if kind != BATCH and kind != IMAGE_SIZE and width != sum(
                d < 0 for shape in origin for d in shape):
            raise GraphError(f"{where}: {width} values for the inputs' unknown dimensions")
        expected = gear_shapes(kind, values, origin)
        shapes = gear.get("inputs")
        if not isinstance(shapes, list) or len(shapes) != len(users) or any(
                _shape(s, f"{where}: input {i}", False) != e
                for i, (s, e) in enumerate(zip(shapes, expected, strict=True))) or any(
                d < 0 for shape in expected for d in shape):
            raise GraphError(f"{where}: input shapes {shapes!r:.80} are not the inputs' "
                             f"shapes at {list(values)}")
        shapes = gear.get("outputs")
        if not isinstance(shapes, list) or len(shapes) != len(outputs):
            raise GraphError(f"{where}: output shapes {shapes!r:.80} are not one per output")
        for i, shape in enumerate(shapes):
            _shape(shape, f"{where}: output {i}", False)
        plans.append(_placed(gear.get("tensors"), f"{where} intermediate", work_size))
    return plans


def load_failure(error: GraphError) -> AclFail:
    return AclFail(E.ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
                   f"the model's graph cannot be built: {error}")
