"""MODEL_DEF (``ge.proto.ModelDef``) and TASK_INFO (``domi.ModelTaskDef``) payloads.

Field numbers are GE's (hicann/ge ``graph_metadef/proto/ge_ir.proto`` and ``task.proto``):

- ModelDef: name=1, version=2, graph=7 (GraphDef), attr=11 (map<string, AttrDef>).
- GraphDef: name=1, input=4, output=5, op=6 (OpDef).  OpDef: name=1, type=2, input=5.
- AttrDef (oneof): s=2 (bytes), i=3 (int64), bt=7 (bytes).
- ModelTaskDef: version=1, memory_size=11, stream_num=12, event_num=13, weight_size=14.

The loader's sizes live in the ModelDef attributes ``memory_size`` and ``weight_size`` and in
ModelTaskDef fields 11 and 14 (om-format.md §3). The simulator's executable graph travels as
one more ModelDef attribute, ``_pytest_acl_graph`` (AttrDef.bt, JSON bytes): a protobuf reader
that does not know it simply shows an attribute, so Netron and GE still parse the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pytest_acl.om import protobuf as pb

SIM_GRAPH_ATTR = "_pytest_acl_graph"


@dataclass
class OpDef:
    name: str
    type: str
    inputs: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        return (pb.bytes_field(1, self.name) + pb.bytes_field(2, self.type)
                + b"".join(pb.bytes_field(5, i) for i in self.inputs))


@dataclass
class ModelDef:
    """The parts of ``ge.proto.ModelDef`` we write and read."""

    name: str = ""
    int_attrs: dict[str, int] = field(default_factory=dict)
    bytes_attrs: dict[str, bytes] = field(default_factory=dict)
    ops: list[OpDef] = field(default_factory=list)
    graph_inputs: list[str] = field(default_factory=list)
    graph_outputs: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        graph = (pb.bytes_field(1, self.name)
                 + b"".join(pb.bytes_field(4, i) for i in self.graph_inputs)
                 + b"".join(pb.bytes_field(5, o) for o in self.graph_outputs)
                 + b"".join(pb.bytes_field(6, op.encode()) for op in self.ops))
        attrs = [(k, _int_attr(v)) for k, v in sorted(self.int_attrs.items())]
        attrs += [(k, pb.bytes_field(7, v)) for k, v in sorted(self.bytes_attrs.items())]
        entries = b"".join(pb.bytes_field(11, pb.bytes_field(1, k) + pb.bytes_field(2, v))
                           for k, v in attrs)
        return pb.bytes_field(1, self.name) + pb.bytes_field(7, graph) + entries

    @classmethod
    def decode(cls, data: pb.Data) -> ModelDef:
        """Raises ``pb.DecodeError`` when the bytes are not a ModelDef."""
        result = cls()
        for number, wire, value in pb.fields(data):
            # pb.fields yields bytes for LENGTH fields and an int for VARINT ones; the
            # isinstance checks only narrow the type for the checker.
            if wire != pb.LENGTH or not isinstance(value, bytes):
                continue
            if number == 1:
                result.name = value.decode("utf-8", "replace")
            elif number == 11:
                key, attr = _map_entry(value)
                for attr_field, attr_wire, attr_value in pb.fields(attr):
                    if attr_field == 3 and attr_wire == pb.VARINT and \
                            isinstance(attr_value, int):
                        result.int_attrs[key] = _signed(attr_value)
                    elif attr_field in (2, 7) and attr_wire == pb.LENGTH and \
                            isinstance(attr_value, bytes):
                        result.bytes_attrs[key] = attr_value
            elif number == 7:
                result.ops.extend(_ops(value))
        return result


def _int_attr(value: int) -> bytes:
    """AttrDef with ``i`` set — written even for 0, which proto3 would otherwise omit."""
    return pb.varint(3 << 3 | pb.VARINT) + pb.varint(value)


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _map_entry(data: bytes) -> tuple[str, bytes]:
    key, value = "", b""
    for number, wire, item in pb.fields(data):
        if wire != pb.LENGTH or not isinstance(item, bytes):
            continue
        if number == 1:
            key = item.decode("utf-8", "replace")
        elif number == 2:
            value = item
    return key, value


def _ops(graph: bytes) -> list[OpDef]:
    ops = []
    for number, wire, value in pb.fields(graph):
        if number == 6 and wire == pb.LENGTH and isinstance(value, bytes):
            op = OpDef("", "")
            for f, w, v in pb.fields(value):
                if w != pb.LENGTH or not isinstance(v, bytes):
                    continue
                text = v.decode("utf-8", "replace")
                if f == 1:
                    op.name = text
                elif f == 2:
                    op.type = text
                elif f == 5:
                    op.inputs.append(text)
            ops.append(op)
    return ops


@dataclass
class ModelTaskDef:
    memory_size: int = 0
    weight_size: int = 0
    stream_num: int = 1

    def encode(self) -> bytes:
        return (pb.int_field(11, self.memory_size) + pb.int_field(12, self.stream_num)
                + pb.int_field(14, self.weight_size))

    @classmethod
    def decode(cls, data: pb.Data) -> ModelTaskDef:
        """Raises ``pb.DecodeError`` when the bytes are not a ModelTaskDef."""
        result = cls(stream_num=0)
        for number, wire, value in pb.fields(data):
            if wire != pb.VARINT or not isinstance(value, int):
                continue
            if number == 11:
                result.memory_size = value
            elif number == 12:
                result.stream_num = value
            elif number == 14:
                result.weight_size = value
        return result


def executable_graph(model_def: ModelDef) -> dict[str, Any] | None:
    """The simulator's graph stored in a ModelDef (JSON under SIM_GRAPH_ATTR, written by the
    simulator's compiler), or None (e.g. an ATC-built model)."""
    raw = model_def.bytes_attrs.get(SIM_GRAPH_ATTR)
    return json.loads(raw) if raw else None
