"""Structure-aware mutations of OM files and bundles, deterministic from a ``random.Random``.

Random bytes rarely get past a loader's first check, so most mutators edit one thing a
loader reads — a header field, a partition-table entry, a partition's content, a ModelDef
attribute, one value of the executable graph, one bundle entry — and write the rest back
consistently (lengths recomputed), so the input reaches the code behind that check. Byte-level
mutators (truncation, extension, bit flips) cover what the structure does not describe.

Each mutator is ``fn(rng, data) -> (bytes, description) | None`` (None: it does not apply to
these bytes, e.g. a graph edit of a model without a graph). :func:`mutate` applies one to
three of them; the descriptions say what was done, for the finding's record. The same seed
gives the same bytes on every machine (``random.Random`` only, no hash-order dependence).
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pytest_acl.om.bundle import Bundle, read_bundle
from pytest_acl.om.container import OmModel, Partition, PartitionGroup
from pytest_acl.om.header import HEADER_SIZE
from pytest_acl.om.modeldef import SIM_GRAPH_ATTR, ModelDef, ModelTaskDef
from pytest_acl.om.partitions import PartitionType
from pytest_acl.om.reader import OmError, read_model

Result = tuple[bytes, str] | None
MutatorFn = Callable[[random.Random, bytes], Result]

MODEL, BUNDLE = "model", "bundle"

# The header's fields (om-format.md §1): name → (offset, struct format). tests/fuzz checks
# these against ModelFileHeader.
HEADER_FIELDS: dict[str, tuple[int, str]] = {
    "magic": (0, "<I"), "headsize": (4, "<I"), "version": (8, "<I"), "length": (76, "<I"),
    "is_encrypt": (80, "<B"), "is_checksum": (81, "<B"), "modeltype": (82, "<B"),
    "genmode": (83, "<B"), "ops": (116, "<I"), "om_ir_version": (152, "<I"),
    "model_num": (156, "<I"), "platform_type": (180, "<B"), "model_length": (184, "<Q"),
    "need_check_os_cpu_info": (192, "<B"), "is_unknow_model": (193, "<B"),
}
U8 = [0, 1, 2, 3, 4, 5, 6, 0x7F, 0x80, 0xFE, 0xFF]
U32 = [0, 1, 2, 3, 8, 9, 255, 256, 4096, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF]
U64 = [*U32, 1 << 32, (1 << 32) + 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 2, (1 << 64) - 1]
# Signed values (ModelDef int attributes are int64; the graph's JSON numbers are unbounded).
SIGNED = [0, 1, -1, 2, 31, 32, 33, 1024, -(1 << 31), (1 << 31) - 1, 1 << 31, (1 << 32) - 1,
          1 << 32, (1 << 62), (1 << 63) - 1, -(1 << 63), 1 << 63, (1 << 64) - 1, 1 << 64,
          1 << 100]


def _interesting(rng: random.Random, width: int, current: int | None = None,
                 total: int | None = None) -> int:
    """A value for a field of ``width`` bytes: boundary values, the current value ± small
    amounts, the data length, or anything."""
    pool = U8 if width == 1 else U32 if width == 4 else U64
    choice = rng.random()
    if current is not None and choice < 0.25:
        value = current + rng.choice([-2, -1, 1, 2, 8, -8, 256]) if rng.random() < 0.7 \
            else current * rng.choice([2, 3]) or 1
    elif total is not None and choice < 0.35:
        value = total + rng.choice([-HEADER_SIZE - 1, -HEADER_SIZE, -1, 0, 1])
    elif choice < 0.9:
        value = rng.choice(pool)
    else:
        value = rng.getrandbits(8 * width)
    return value & ((1 << 8 * width) - 1)


def _set(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    size = struct.calcsize(fmt)
    if offset + size > len(data):
        return data
    return data[:offset] + struct.pack(fmt, value) + data[offset + size:]


def _get(data: bytes, offset: int, fmt: str) -> int | None:
    if offset + struct.calcsize(fmt) > len(data):
        return None
    value: int = struct.unpack_from(fmt, data, offset)[0]
    return value


def _parse(data: bytes) -> OmModel | None:
    """The model, when the bytes are one a loader accepts (structure edits need it)."""
    try:
        return read_model(data)
    except (OmError, ValueError, struct.error):
        return None


def _rebuild(model: OmModel, groups: list[PartitionGroup] | None = None, **header: Any) -> bytes:
    """The model written back: lengths recomputed, so only the intended edit differs."""
    return OmModel(replace(model.header, **header) if header else model.header,
                   groups if groups is not None else model.groups, model.wide).to_bytes()


def _copy_groups(model: OmModel) -> list[PartitionGroup]:
    return [PartitionGroup(list(g.partitions)) for g in model.groups]


def _type_name(kind: int) -> str:
    try:
        return PartitionType(kind).name
    except ValueError:
        return f"type {kind}"


# -- bytes ----------------------------------------------------------------------------------

def truncate(rng: random.Random, data: bytes) -> Result:
    """Cut at a boundary a reader cares about, or anywhere."""
    if not data:
        return None
    cuts = [0, 1, 3, 4, 8, 100, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 1, HEADER_SIZE + 4,
            HEADER_SIZE + 8, HEADER_SIZE + 32, len(data) - 1, len(data) - 8]
    model = _parse(data)
    if model is not None:  # partition boundaries
        cursor = HEADER_SIZE
        for group in model.groups:
            cursor += group.encoded_size(model.wide) - sum(p.size for p in group.partitions)
            cuts.append(cursor)
            for partition in group.partitions:
                cursor += partition.size
                cuts += [cursor - 1, cursor]
    at = rng.choice(cuts) if rng.random() < 0.7 else rng.randrange(len(data))
    at = max(0, min(at, len(data) - 1))
    return data[:at], f"truncate to {at} of {len(data)} bytes"


def extend(rng: random.Random, data: bytes) -> Result:
    size = rng.choice([1, 2, 4, 7, 8, 16, 256, 4096])
    kind = rng.choice(["zeros", "ff", "random", "self"])
    tail = {"zeros": bytes(size), "ff": b"\xff" * size, "random": rng.randbytes(size),
            "self": data[:size]}[kind]
    return data + tail, f"append {len(tail)} bytes ({kind})"


def bit_flip(rng: random.Random, data: bytes) -> Result:
    if not data:
        return None
    out = bytearray(data)
    flips = rng.choice([1, 1, 2, 4, 8])
    where = []
    for _ in range(flips):
        # Half of the flips hit the header and first table, where most checks look.
        at = rng.randrange(min(len(out), HEADER_SIZE + 64)) if rng.random() < 0.5 \
            else rng.randrange(len(out))
        out[at] ^= 1 << rng.randrange(8)
        where.append(at)
    return bytes(out), f"flip bits at {sorted(where)}"


def byte_set(rng: random.Random, data: bytes) -> Result:
    if not data:
        return None
    at = rng.randrange(len(data))
    value = rng.choice([0, 1, 0x7F, 0x80, 0xFF])
    return data[:at] + bytes([value]) + data[at + 1:], f"byte {at} = {value:#x}"


def splice(rng: random.Random, data: bytes) -> Result:
    """Delete, duplicate or overwrite a range: shifts everything after it."""
    if len(data) < 2:
        return None
    start = rng.randrange(len(data))
    length = min(rng.choice([1, 4, 8, 24, 64, 512]), len(data) - start)
    op = rng.choice(["delete", "duplicate", "random"])
    if op == "delete":
        out = data[:start] + data[start + length:]
    elif op == "duplicate":
        out = data[:start + length] + data[start:]
    else:
        out = data[:start] + rng.randbytes(length) + data[start + length:]
    return out, f"{op} bytes {start}..{start + length}"


# -- header and partition table -------------------------------------------------------------

def header_field(rng: random.Random, data: bytes) -> Result:
    if len(data) < HEADER_SIZE:
        return None
    name = rng.choice(sorted(HEADER_FIELDS))
    offset, fmt = HEADER_FIELDS[name]
    width = struct.calcsize(fmt)
    value = _interesting(rng, width, _get(data, offset, fmt), len(data))
    if name == "modeltype" and rng.random() < 0.5:
        value = rng.choice([0, 1, 2, 3, 4, 5, 6, 0xFF])
    return _set(data, offset, fmt, value), f"header {name} = {value:#x}"


def header_dynamic(rng: random.Random, data: bytes) -> Result:
    """model_num and is_unknow_model together: static ↔ dynamic, many groups."""
    if len(data) < HEADER_SIZE:
        return None
    num = rng.choice([0, 1, 2, 3, 8, 0xFFFF, 0xFFFF_FFFF])
    unknown = rng.choice([0, 1, 2, 0xFF])
    out = _set(_set(data, 156, "<I", num), 193, "<B", unknown)
    return out, f"header model_num = {num}, is_unknow_model = {unknown}"


def _table_offset(model: OmModel, group: int) -> int:
    cursor = HEADER_SIZE
    for g in model.groups[:group]:
        cursor += g.encoded_size(model.wide)
    return cursor


def table_entry(rng: random.Random, data: bytes) -> Result:
    """One field of the partition table as written: count, type, offset or size."""
    model = _parse(data)
    wide = model.wide if model is not None else True
    group = rng.randrange(len(model.groups)) if model is not None else 0
    base = _table_offset(model, group) if model is not None else HEADER_SIZE
    count = len(model.groups[group].partitions) if model is not None else 3
    head, entry_size = (8, 24) if wide else (4, 12)
    field = rng.choice(["count", "type", "offset", "size", "size", "size"])
    if field == "count":
        fmt, at, width = "<I", base, 4
    else:
        index = rng.randrange(count + 1)  # the entry after the last one too
        part = {"type": 0, "offset": 8 if wide else 4, "size": 16 if wide else 8}[field]
        at = base + head + index * entry_size + part
        fmt = "<Q" if wide and field != "type" else "<I"
        width = struct.calcsize(fmt)
    current = _get(data, at, fmt)
    if current is None:
        return None
    value = _interesting(rng, width, current, len(data))
    return _set(data, at, fmt, value), f"group {group} table {field}@{at} = {value:#x}"


def partitions(rng: random.Random, data: bytes) -> Result:
    """Add, drop, duplicate or reorder partitions, written back consistently."""
    model = _parse(data)
    if model is None:
        return None
    groups = _copy_groups(model)
    index = rng.randrange(len(groups))
    parts = groups[index].partitions
    op = rng.choice(["drop", "duplicate", "reorder", "unknown", "empty", "retype", "tiny",
                     "many"])
    if op == "drop" and len(parts) > 1:
        victim = parts.pop(rng.randrange(len(parts)))
        what = f"drop {_type_name(victim.type)}"
    elif op == "duplicate":
        twin = rng.choice(parts)
        parts.insert(rng.randrange(len(parts) + 1), twin)
        what = f"duplicate {_type_name(twin.type)}"
    elif op == "reorder" and len(parts) > 1:
        rng.shuffle(parts)
        what = "reorder to " + ",".join(_type_name(p.type) for p in parts)
    elif op == "unknown":
        kind = rng.choice([13, 19, 99, 0xFFFF, 0xFFFF_FFFF])
        parts.insert(rng.randrange(len(parts) + 1), Partition(kind, rng.randbytes(
            rng.choice([0, 1, 16]))))
        what = f"insert partition of type {kind}"
    elif op == "empty":
        at = rng.randrange(len(parts))
        parts[at] = Partition(parts[at].type, b"")
        what = f"empty {_type_name(parts[at].type)}"
    elif op == "retype":
        at = rng.randrange(len(parts))
        kind = rng.choice([0, 1, 2, 3, 24, 25])
        what = f"{_type_name(parts[at].type)} retyped {_type_name(kind)}"
        parts[at] = Partition(kind, parts[at].data)
    elif op == "tiny":
        return OmModel(model.header, groups, not model.wide).to_bytes(), \
            f"partition table {'tiny' if model.wide else '64-bit'}"
    else:
        while len(parts) < 9:
            parts.append(Partition(PartitionType.TBE_KERNELS, b""))
        what = f"{len(parts)} partitions"
    return _rebuild(model, groups), f"group {index}: {what}"


def groups(rng: random.Random, data: bytes) -> Result:
    """Dynamic-model group edits: another group, a group fewer, groups swapped."""
    model = _parse(data)
    if model is None:
        return None
    copied = _copy_groups(model)
    op = rng.choice(["add", "drop", "swap"])
    if op == "add":
        copied.append(PartitionGroup(list(rng.choice(copied).partitions)))
    elif op == "drop" and len(copied) > 1:
        copied.pop(rng.randrange(len(copied)))
    else:
        rng.shuffle(copied)
    num = len(copied) if rng.random() < 0.7 else rng.choice([0, 1, len(copied) + 1])
    unknown = rng.choice([0, 1])
    out = _rebuild(model, copied, model_num=num, is_unknow_model=unknown)
    return out, f"{op} group: {len(copied)} groups, model_num {num}, is_unknow_model {unknown}"


def weights(rng: random.Random, data: bytes) -> Result:
    """WEIGHTS_DATA shorter, longer, empty or huge-claimed (the table's size alone)."""
    model = _parse(data)
    if model is None:
        return None
    copied = _copy_groups(model)
    group = copied[0]
    found = group.find(PartitionType.WEIGHTS_DATA)
    old = found.to_bytes() if found is not None else b""
    size = rng.choice([0, 1, max(len(old) - 1, 0), len(old) // 2, len(old) + 1, len(old) + 32,
                       2 * len(old) + 64])
    new = (old + bytes(size))[:size]
    if found is None:
        group.partitions.insert(1, Partition(PartitionType.WEIGHTS_DATA, new))
    else:
        group.partitions[group.partitions.index(found)] = Partition(found.type, new)
    return _rebuild(model, copied), f"WEIGHTS_DATA {len(old)} -> {size} bytes"


# -- MODEL_DEF, TASK_INFO and the executable graph -----------------------------------------

def _model_def(model: OmModel, group: int = 0) -> tuple[ModelDef, Partition] | None:
    found = model.groups[group].find(PartitionType.MODEL_DEF)
    if found is None:
        return None
    try:
        return ModelDef.decode(found.contiguous()), found
    except ValueError:
        return None


def _with_model_def(model: OmModel, group: int, old: Partition, encoded: bytes) -> bytes:
    copied = _copy_groups(model)
    parts = copied[group].partitions
    parts[parts.index(old)] = Partition(old.type, encoded)
    return _rebuild(model, copied)


def model_def_attr(rng: random.Random, data: bytes) -> Result:
    """ModelDef attributes: the sizes GE reads (memory_size, weight_size), the graph's own
    attribute removed, emptied or given as an int; an unknown attribute."""
    model = _parse(data)
    found = _model_def(model) if model is not None else None
    if model is None or found is None:
        return None
    model_def, partition = found
    op = rng.choice(["memory_size", "memory_size", "weight_size", "drop_size", "graph_int",
                     "drop_graph", "empty_graph", "sizes_as_bytes", "extra", "name"])
    if op in ("memory_size", "weight_size"):
        value = rng.choice(SIGNED)
        model_def.int_attrs[op] = max(min(value, (1 << 63) - 1), -(1 << 63))
        what = f"{op} = {model_def.int_attrs[op]}"
    elif op == "drop_size":
        model_def.int_attrs.pop(rng.choice(["memory_size", "weight_size"]), None)
        what = "a size attribute removed"
    elif op == "graph_int":
        model_def.bytes_attrs.pop(SIM_GRAPH_ATTR, None)
        model_def.int_attrs[SIM_GRAPH_ATTR] = rng.choice(SIGNED[:6])
        what = f"{SIM_GRAPH_ATTR} as an int"
    elif op == "drop_graph":
        model_def.bytes_attrs.pop(SIM_GRAPH_ATTR, None)
        what = f"{SIM_GRAPH_ATTR} removed"
    elif op == "empty_graph":
        model_def.bytes_attrs[SIM_GRAPH_ATTR] = b""
        what = f"{SIM_GRAPH_ATTR} empty"
    elif op == "sizes_as_bytes":
        for key in ("memory_size", "weight_size"):
            model_def.int_attrs.pop(key, None)
            model_def.bytes_attrs[key] = rng.choice([b"", b"12", b"\xff"])
        what = "size attributes as bytes"
    elif op == "extra":
        model_def.bytes_attrs[rng.choice(["x", "", "\u00e9"])] = rng.randbytes(8)
        what = "an extra attribute"
    else:
        model_def.name = rng.choice(["", "\u00e9" * 40, "a" * 300])
        what = f"ModelDef name of {len(model_def.name)} chars"
    return _with_model_def(model, 0, partition, model_def.encode()), f"ModelDef {what}"


def task_info(rng: random.Random, data: bytes) -> Result:
    """TASK_INFO's memory_size / weight_size / stream_num (what QuerySize reports)."""
    model = _parse(data)
    if model is None:
        return None
    copied = _copy_groups(model)
    group = copied[rng.randrange(len(copied))]
    found = group.find(PartitionType.TASK_INFO)
    field = rng.choice(["memory_size", "memory_size", "weight_size", "stream_num"])
    value = rng.choice([v for v in U64 if v < 1 << 64] + [1 << 20, 1 << 30, 3 << 30])
    task = ModelTaskDef.decode(found.contiguous()) if found is not None else ModelTaskDef()
    setattr(task, field, value)
    new = Partition(PartitionType.TASK_INFO, task.encode())
    if found is None:
        group.partitions.append(new)
    else:
        group.partitions[group.partitions.index(found)] = new
    return _rebuild(model, copied), f"TASK_INFO {field} = {value:#x}"


def _load_graph(model: OmModel) -> tuple[ModelDef, Partition, Any] | None:
    found = _model_def(model)
    if found is None:
        return None
    model_def, partition = found
    raw = model_def.bytes_attrs.get(SIM_GRAPH_ATTR)
    if not raw:
        return None
    try:
        graph = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return model_def, partition, graph


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside the JSON tree (dict keys and list indexes)."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key in sorted(value):
            found += _paths(value[key], (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _at(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _specs(graph: Any) -> list[tuple[str, dict[str, Any]]]:
    """(where, spec) for every dict that has a dtype/shape: inputs, outputs, weights,
    intermediate tensors, bundle variables."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(graph, dict):
        return found
    for side in ("inputs", "outputs"):
        for index, spec in enumerate(graph.get(side) or []):
            if isinstance(spec, dict):
                found.append((f"{side}[{index}]", spec))
    for table in ("weights", "tensors", "variables"):
        entries = graph.get(table)
        if isinstance(entries, dict):
            found += [(f"{table}[{name!r}]", spec) for name, spec in sorted(entries.items())
                      if isinstance(spec, dict)]
    return found


ODD_VALUES: list[Any] = [None, "", "x", -1, 0, 1.5, float("inf"), [], {}, True, 1 << 64,
                         [None], {"": 0}, "\udcff"]
BAD_DTYPES: list[Any] = ["", "float128", "<f16", "|O", "O", "object", "<U8", "V3", "<M8[s]",
                         "xyz", "<c8", "|b1", "<f2", ">f4", "<i8", 7, None, ["<f4"]]
BAD_DIMS: list[Any] = [-1, -2, -(1 << 31), 0, 1 << 31, 1 << 40, (1 << 63) - 1, 1 << 63,
                       (1 << 64) - 1, 1 << 64, 1.5, "4", None]
UNKNOWN_OPS = ["Frobnicate", "", "gemm", "__class__", "run", "Gemm ", "Loop", 17, None]


def _edit_graph(rng: random.Random, graph: Any) -> tuple[Any, str] | None:
    """One edit of the executable graph's JSON value (in place where it can)."""
    op = rng.choice(["delete", "wrong_type", "dtype", "shape", "shape", "offset", "offset",
                     "op", "dangling", "nodes", "attrs", "work_size", "flags", "io_count",
                     "variables"])
    specs = _specs(graph)
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    nodes = [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
    if op == "delete":
        paths = [p for p in _paths(graph) if isinstance(_at(graph, p[:-1]), dict)]
        if not paths:
            return None
        path = rng.choice(paths)
        del _at(graph, path[:-1])[path[-1]]
        return graph, f"delete {_show(path)}"
    if op == "wrong_type":
        paths = _paths(graph)
        if not paths:
            return None
        path = rng.choice(paths)
        value = rng.choice(ODD_VALUES)
        _at(graph, path[:-1])[path[-1]] = value
        return graph, f"{_show(path)} = {value!r}"
    if op == "dtype" and specs:
        where, spec = rng.choice(specs)
        spec["dtype"] = rng.choice(BAD_DTYPES)
        return graph, f"{where}.dtype = {spec['dtype']!r}"
    if op == "shape" and specs:
        where, spec = rng.choice(specs)
        shape = spec.get("shape")
        kind = rng.choice(["dim", "dim", "rank_up", "rank_down", "scalar", "not_a_list"])
        if kind == "dim" and isinstance(shape, list) and shape:
            shape[rng.randrange(len(shape))] = rng.choice(BAD_DIMS)
        elif kind == "rank_up" and isinstance(shape, list):
            shape.append(rng.choice([1, 2, 0, -1]))
        elif kind == "rank_down" and isinstance(shape, list) and shape:
            shape.pop()
        elif kind == "scalar":
            spec["shape"] = []
        else:
            spec["shape"] = rng.choice([4, "4", None, {"0": 4}, [[4]]])
        return graph, f"{where}.shape = {spec.get('shape')!r}"
    if op == "offset" and specs:
        located = [(w, s) for w, s in specs if "offset" in s or "nbytes" in s]
        if not located:
            return None
        where, spec = rng.choice(located)
        key = rng.choice(["offset", "offset", "nbytes"])
        old = spec.get(key)
        base = old if isinstance(old, int) and not isinstance(old, bool) else 0
        value = rng.choice([base + 1, base + 32, base - 1, -1, -32, 1 << 20, 1 << 31,
                            (1 << 63) - 1, (1 << 64) - 1, 0,
                            _size_of(graph, where) or 1 << 16])
        spec[key] = value
        return graph, f"{where}.{key} {old!r} -> {value!r}"
    if op == "op" and nodes:
        node = rng.choice(nodes)
        node["op"] = rng.choice(UNKNOWN_OPS + ["Relu", "Gemm", "Conv", "Softmax", "Concat",
                                               "MatMul", "Add", "Flatten", "Reshape"])
        return graph, f"node {node.get('name')!r}.op = {node['op']!r}"
    if op == "dangling" and nodes:
        node = rng.choice(nodes)
        side = rng.choice(["inputs", "outputs"])
        names = node.get(side)
        if not isinstance(names, list):
            return None
        choice = rng.choice(["rename", "add", "drop", "graph_output"])
        if choice == "rename" and names:
            names[rng.randrange(len(names))] = rng.choice(["nowhere", "", "x", "y"])
        elif choice == "add":
            names.append(rng.choice(["nowhere", "x", ""]))
        elif choice == "drop" and names:
            names.pop()
        elif isinstance(graph.get("outputs"), list) and graph["outputs"] and \
                isinstance(graph["outputs"][0], dict):
            graph["outputs"][0]["name"] = "never_produced"
            return graph, "outputs[0].name = 'never_produced'"
        return graph, f"node {node.get('name')!r}.{side} = {names!r}"
    if op == "nodes" and isinstance(graph, dict) and isinstance(graph.get("nodes"), list):
        listed = graph["nodes"]
        choice = rng.choice(["drop", "duplicate", "reverse", "clear"])
        if choice == "drop" and listed:
            listed.pop(rng.randrange(len(listed)))
        elif choice == "duplicate" and listed:
            listed.insert(rng.randrange(len(listed) + 1), json.loads(json.dumps(
                rng.choice(listed))))
        elif choice == "reverse":
            listed.reverse()
        else:
            listed.clear()
        return graph, f"nodes: {choice}"
    if op == "attrs" and nodes:
        node = rng.choice(nodes)
        attrs = node.get("attrs")
        if not isinstance(attrs, dict):
            node["attrs"] = attrs = {}
        key = rng.choice(sorted(attrs) + ["axis", "transA", "transB", "pads", "strides",
                                          "kernel_shape", "alpha", "dilations", "allowzero"])
        attrs[key] = rng.choice([-9, -1, 0, 1, 2, 99, 1 << 40, 0.0, "yes", [], [0, 0, 0, 0],
                                 [1 << 20] * 4, [0, 0], [-1, -1, -1, -1], None])
        return graph, f"node {node.get('name')!r}.attrs[{key!r}] = {attrs[key]!r}"
    if op == "work_size" and isinstance(graph, dict):
        graph["work_size"] = rng.choice(SIGNED)
        return graph, f"work_size = {graph['work_size']}"
    if op == "flags" and isinstance(graph, dict):
        key = rng.choice(["dynamic", "format"])
        graph[key] = rng.choice([True, False, 0, 2, None, "yes"])
        return graph, f"{key} = {graph[key]!r}"
    if op == "io_count" and isinstance(graph, dict):
        side = rng.choice(["inputs", "outputs"])
        listed = graph.get(side)
        if not isinstance(listed, list):
            return None
        if listed and rng.random() < 0.5:
            listed.pop(rng.randrange(len(listed)))
            return graph, f"{side}: one removed"
        listed.append({"name": rng.choice(["extra", "x"]), "dtype": "<f4",
                       "shape": rng.choice([[1], [4, 16], [-1, 16], []])})
        return graph, f"{side}: one added"
    if op == "variables" and isinstance(graph, dict):
        name = rng.choice(["shared_v", "x", "missing"])
        choice = rng.choice(["assign", "variable"])
        if choice == "assign":
            graph.setdefault("assign", {})
            if isinstance(graph["assign"], dict):
                graph["assign"][name] = rng.choice(["y", "nowhere", ""])
            return graph, f"assign[{name!r}] edited"
        graph.setdefault("variables", {})
        if isinstance(graph["variables"], dict):
            graph["variables"][name] = {"offset": rng.choice([0, -8, 1 << 40]),
                                        "nbytes": rng.choice([0, 512, 1 << 40]),
                                        "dtype": "<f4", "shape": [16, 8]}
        return graph, f"variables[{name!r}] edited"
    return None


def _size_of(graph: Any, where: str) -> int | None:
    """The region a spec's offset lives in: WEIGHTS_DATA end for weights, work_size for
    intermediates (so an offset can be put right at the end)."""
    if not isinstance(graph, dict):
        return None
    if where.startswith("weights"):
        entries = graph.get("weights") or {}
        ends = [s.get("offset", 0) + s.get("nbytes", 0) for s in entries.values()
                if isinstance(s, dict) and isinstance(s.get("offset"), int)
                and isinstance(s.get("nbytes"), int)]
        return max(ends, default=0)
    value = graph.get("work_size")
    return value if isinstance(value, int) else None


def _show(path: tuple[Any, ...]) -> str:
    return "".join(f"[{step!r}]" for step in path)


def graph_json(rng: random.Random, data: bytes) -> Result:
    """A structural edit of the executable graph (a value, a key, a node, a name)."""
    model = _parse(data)
    loaded = _load_graph(model) if model is not None else None
    if model is None or loaded is None:
        return None
    model_def, partition, graph = loaded
    edited = _edit_graph(rng, graph)
    if edited is None:
        return None
    value, what = edited
    model_def.bytes_attrs[SIM_GRAPH_ATTR] = json.dumps(value).encode("utf-8", "surrogatepass")
    return _with_model_def(model, 0, partition, model_def.encode()), f"graph {what}"


def graph_bytes(rng: random.Random, data: bytes) -> Result:
    """The graph attribute's bytes themselves: not UTF-8, not JSON, JSON of another type,
    nested past the parser's recursion limit, truncated."""
    model = _parse(data)
    loaded = _model_def(model) if model is not None else None
    if model is None or loaded is None:
        return None
    model_def, partition = loaded
    raw = model_def.bytes_attrs.get(SIM_GRAPH_ATTR, b"{}")
    op = rng.choice(["non_utf8", "non_utf8_in_string", "truncate", "not_json", "other_type",
                     "deep", "nan", "duplicate_keys", "bom"])
    if op == "non_utf8":
        new = rng.choice([b"\xff\xfe", b"\x80", b"\xc3\x28"]) + raw
    elif op == "non_utf8_in_string":
        at = raw.find(b'"name": "')
        new = raw[:at + 9] + b"\xff\xfe" + raw[at + 9:] if at >= 0 else raw + b"\xff"
    elif op == "truncate":
        new = raw[:rng.randrange(max(len(raw), 1))]
    elif op == "not_json":
        new = rng.choice([b"{", b"}", b"nul", b"{'a': 1}", b"\x00", b"   ", b"[1,]"])
    elif op == "other_type":
        new = rng.choice([b"[]", b"null", b"0", b"\"graph\"", b"true", b"1e400", b"[{}]"])
    elif op == "deep":
        depth = rng.choice([1000, 100_000])
        new = b"[" * depth + b"]" * depth
    elif op == "nan":
        new = raw.replace(b'"work_size": ', b'"work_size": NaN, "x": ', 1)
    elif op == "duplicate_keys":
        new = raw[:-1] + b', "nodes": 5}' if raw.endswith(b"}") else raw
    else:
        new = b"\xef\xbb\xbf" + raw
    model_def.bytes_attrs[SIM_GRAPH_ATTR] = new
    return _with_model_def(model, 0, partition, model_def.encode()), f"graph bytes: {op}"


# -- bundles --------------------------------------------------------------------------------

def _parse_bundle(data: bytes) -> Bundle | None:
    try:
        return read_bundle(data)
    except (OmError, ValueError, struct.error):
        return None


def bundle_table(rng: random.Random, data: bytes) -> Result:
    """The bundle's table as written: count, an entry's type or size, the variable size."""
    bundle = _parse_bundle(data)
    count = len(bundle.models) + 1 if bundle is not None else 4
    field = rng.choice(["count", "type", "size", "size", "var_size", "var_size"])
    if field == "count":
        at, fmt = HEADER_SIZE, "<I"
    elif field == "var_size":
        at, fmt = HEADER_SIZE + 8 + 24 * count, "<Q"
    else:
        index = rng.randrange(count + 1)
        at = HEADER_SIZE + 8 + 24 * index + (0 if field == "type" else 16)
        fmt = "<I" if field == "type" else "<Q"
    current = _get(data, at, fmt)
    if current is None:
        return None
    if field == "type" and rng.random() < 0.6:
        value = rng.choice([0, 1, 24, 25, 26, 0xFFFF_FFFF])
    else:
        value = _interesting(rng, struct.calcsize(fmt), current, len(data))
    return _set(data, at, fmt, value), f"bundle {field}@{at} = {value:#x}"


def bundle_models(rng: random.Random, data: bytes) -> Result:
    """Sub-models dropped, duplicated, reordered, none; the variable size; rebuilt
    consistently."""
    bundle = _parse_bundle(data)
    if bundle is None:
        return None
    models = [bytes(m) for m in bundle.models]
    var_size = bundle.var_size
    op = rng.choice(["drop", "duplicate", "reorder", "none", "var_size", "var_size",
                     "nested", "many"])
    if op == "drop" and models:
        models.pop(rng.randrange(len(models)))
    elif op == "duplicate" and models:
        models.append(rng.choice(models))
    elif op == "reorder":
        rng.shuffle(models)
    elif op == "none":
        models = []
    elif op == "var_size":
        var_size = rng.choice([0, 1, 8, var_size - 1 if var_size else 0, var_size + 1,
                               1 << 32, 1 << 40, (1 << 63), (1 << 64) - 1])
    elif op == "nested" and models:
        models[rng.randrange(len(models))] = data
    else:
        models = models * rng.choice([3, 10])
    rebuilt = Bundle(var_size, models).to_bytes()
    return rebuilt, f"bundle {op}: {len(models)} models, var_size {var_size}"


def bundle_sub_model(rng: random.Random, data: bytes) -> Result:
    """A model mutation applied to one sub-model, the bundle rebuilt around it."""
    bundle = _parse_bundle(data)
    if bundle is None or not bundle.models:
        return None
    models = [bytes(m) for m in bundle.models]
    index = rng.randrange(len(models))
    done = apply_one(rng, models[index], MODEL)
    if done is None:
        return None
    models[index], what = done
    return Bundle(bundle.var_size, models).to_bytes(), f"sub-model {index}: {what}"


# -- the registry ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutator:
    name: str
    kinds: tuple[str, ...]
    weight: int
    fn: MutatorFn


MUTATORS = (
    Mutator("truncate", (MODEL, BUNDLE), 4, truncate),
    Mutator("extend", (MODEL, BUNDLE), 2, extend),
    Mutator("bit_flip", (MODEL, BUNDLE), 4, bit_flip),
    Mutator("byte_set", (MODEL, BUNDLE), 1, byte_set),
    Mutator("splice", (MODEL, BUNDLE), 1, splice),
    Mutator("header_field", (MODEL, BUNDLE), 5, header_field),
    Mutator("header_dynamic", (MODEL,), 2, header_dynamic),
    Mutator("table_entry", (MODEL,), 5, table_entry),
    Mutator("partitions", (MODEL,), 4, partitions),
    Mutator("groups", (MODEL,), 2, groups),
    Mutator("weights", (MODEL,), 3, weights),
    Mutator("model_def_attr", (MODEL,), 5, model_def_attr),
    Mutator("task_info", (MODEL,), 3, task_info),
    Mutator("graph_json", (MODEL,), 16, graph_json),
    Mutator("graph_bytes", (MODEL,), 4, graph_bytes),
    Mutator("bundle_table", (BUNDLE,), 6, bundle_table),
    Mutator("bundle_models", (BUNDLE,), 5, bundle_models),
    Mutator("bundle_sub_model", (BUNDLE,), 14, bundle_sub_model),
)
BY_NAME = {m.name: m for m in MUTATORS}


def apply_one(rng: random.Random, data: bytes, kind: str) -> tuple[bytes, str] | None:
    """One mutation of ``data`` (a ``kind`` input) that changes it, or None after a few
    tries found none that applies."""
    choices = [m for m in MUTATORS if kind in m.kinds]
    weights_ = [m.weight for m in choices]
    for _ in range(8):
        mutator = rng.choices(choices, weights_)[0]
        done = mutator.fn(rng, data)
        if done is not None and done[0] != data:
            return done[0], f"{mutator.name}: {done[1]}"
    return None


@dataclass(frozen=True)
class Mutated:
    data: bytes
    steps: tuple[str, ...]


def mutate(rng: random.Random, data: bytes, kind: str) -> Mutated:
    """One to three mutations (mostly one: each extra step mostly undoes the structure the
    first one reached)."""
    count = rng.choices([1, 2, 3], [70, 22, 8])[0]
    steps: list[str] = []
    for _ in range(count):
        done = apply_one(rng, data, kind)
        if done is None:
            done = bit_flip(rng, data) if data else (b"\0", "one zero byte")
            assert done is not None
            done = done[0], f"bit_flip: {done[1]}"
        data, what = done
        steps.append(what)
    return Mutated(data, tuple(steps))
