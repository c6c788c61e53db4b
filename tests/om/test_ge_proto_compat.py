"""MODEL_DEF and TASK_INFO parse with a real protobuf library against GE's schema.

The schema below is GE's (hicann/ge graph_metadef/proto/ge_ir.proto and task.proto: the
messages and field numbers we write, declared as GE declares them). If our encoding drifted
from GE's field numbers or types, google.protobuf — what Netron-like tools and GE's own
loader use — would reject or misread the partitions.
"""

from __future__ import annotations

import json

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from pytest_acl.om.partitions import PartitionType as T
from pytest_acl.om.reader import read_model

F = descriptor_pb2.FieldDescriptorProto


def _message(file: descriptor_pb2.FileDescriptorProto, name: str,
             fields: list[tuple[str, int, int, int, str]]) -> descriptor_pb2.DescriptorProto:
    message = file.message_type.add(name=name)
    for field_name, number, kind, label, type_name in fields:
        field = message.field.add(name=field_name, number=number, type=kind, label=label)
        if type_name:
            field.type_name = type_name
    return message


def _map_entry(message: descriptor_pb2.DescriptorProto, name: str, value_type: int,
               value_type_name: str = "") -> None:
    entry = message.nested_type.add(name=name)
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    value = entry.field.add(name="value", number=2, type=value_type, label=F.LABEL_OPTIONAL)
    if value_type_name:
        value.type_name = value_type_name


def _ge_classes():
    pool = descriptor_pool.DescriptorPool()
    ge = descriptor_pb2.FileDescriptorProto(name="ge_ir_subset.proto", package="ge.proto",
                                            syntax="proto3")
    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    _message(ge, "AttrDef", [("s", 2, F.TYPE_BYTES, opt, ""), ("i", 3, F.TYPE_INT64, opt, ""),
                             ("f", 4, F.TYPE_FLOAT, opt, ""), ("b", 5, F.TYPE_BOOL, opt, ""),
                             ("bt", 7, F.TYPE_BYTES, opt, "")])
    _message(ge, "OpDef", [("name", 1, F.TYPE_STRING, opt, ""), ("type", 2, F.TYPE_STRING, opt, ""),
                           ("input", 5, F.TYPE_STRING, rep, "")])
    _message(ge, "GraphDef", [("name", 1, F.TYPE_STRING, opt, ""),
                              ("input", 4, F.TYPE_STRING, rep, ""),
                              ("output", 5, F.TYPE_STRING, rep, ""),
                              ("op", 6, F.TYPE_MESSAGE, rep, ".ge.proto.OpDef")])
    model = _message(ge, "ModelDef", [("name", 1, F.TYPE_STRING, opt, ""),
                                      ("version", 2, F.TYPE_UINT32, opt, ""),
                                      ("graph", 7, F.TYPE_MESSAGE, rep, ".ge.proto.GraphDef"),
                                      ("attr", 11, F.TYPE_MESSAGE, rep,
                                       ".ge.proto.ModelDef.AttrEntry")])
    _map_entry(model, "AttrEntry", F.TYPE_MESSAGE, ".ge.proto.AttrDef")
    pool.Add(ge)
    domi = descriptor_pb2.FileDescriptorProto(name="task_subset.proto", package="domi",
                                              syntax="proto3")
    _message(domi, "ModelTaskDef", [("version", 1, F.TYPE_STRING, opt, ""),
                                    ("memory_size", 11, F.TYPE_UINT64, opt, ""),
                                    ("stream_num", 12, F.TYPE_UINT32, opt, ""),
                                    ("event_num", 13, F.TYPE_UINT32, opt, ""),
                                    ("weight_size", 14, F.TYPE_UINT64, opt, "")])
    pool.Add(domi)
    get = message_factory.GetMessageClass
    return (get(pool.FindMessageTypeByName("ge.proto.ModelDef")),
            get(pool.FindMessageTypeByName("domi.ModelTaskDef")))


def test_compiled_models_parse_as_ge_protobufs(built_catalog):
    model_def_class, task_class = _ge_classes()
    directory, manifest = built_catalog
    for name in ("mlp", "conv", "noweights", "multi_io"):
        om = read_model((directory / manifest["models"][name]["file"]).read_bytes())
        group = om.groups[0]
        model_def = model_def_class.FromString(bytes(group.find(T.MODEL_DEF).data))
        task = task_class.FromString(bytes(group.find(T.TASK_INFO).data))
        entry = manifest["models"][name]
        assert model_def.name == name
        assert model_def.attr["memory_size"].i == task.memory_size == entry["work_size"]
        assert model_def.attr["weight_size"].i == task.weight_size == entry["weight_size"]
        graph = model_def.graph[0]
        assert [i["name"] for i in entry["inputs"]] == list(graph.input)
        assert [o["name"] for o in entry["outputs"]] == list(graph.output)
        assert graph.op and all(op.type for op in graph.op)
        executable = json.loads(model_def.attr["_pytest_acl_graph"].bt)
        assert [n["op"] for n in executable["nodes"]] == [op.type for op in graph.op]
