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

Limits (rank, attribute sizes) bound what one execution can allocate on the host: a mutated
attribute (a 2^40 pad) must not turn an execution into an unbounded allocation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from pytest_acl.constants import AclError
from pytest_acl.sim import ops
from pytest_acl.sim.pyargs import AclFail

E = AclError
MAX_RANK = 8
MAX_DIM = 1 << 31
MAX_ATTR_INT = 1 << 16  # pads, strides, axes, … of the supported operators are small
MAX_ATTR_LIST = 16
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
    dtype = _dtype(value.get("dtype"), f"{where} {value['name']!r}")
    return value["name"], dtype, _shape(value.get("shape"), f"{where} {value['name']!r}",
                                        unknown_allowed)


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
    for side in ("inputs", "outputs"):
        specs = graph.get(side)
        if not isinstance(specs, list):
            raise GraphError(f"graph {side} are not a list")
        names = [_spec(spec, f"graph {side[:-1]} {i}", dynamic)[0] for i, spec in enumerate(specs)]
        if len(set(names)) != len(names):
            raise GraphError(f"graph {side} repeat a name: {names}")
        if side == "inputs":
            known.update(names)
    known |= _placed(graph.get("weights"), "weight", weight_size)
    variables = graph.get("variables", {})
    known |= _placed(variables, "variable", variable_size if variable_size is not None
                     else 1 << 63)
    tensors = graph.get("tensors")
    if dynamic and tensors:
        raise GraphError("a dynamic graph has intermediates planned in work memory")
    planned = _placed(tensors, "intermediate", work_size)
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
            if not dynamic and name not in planned and name not in outputs:
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


def load_failure(error: GraphError) -> AclFail:
    return AclFail(E.ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
                   f"the model's graph cannot be built: {error}")
