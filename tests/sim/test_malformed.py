"""Malformed models, pointers and files get an aclError from the simulator: never an
exception, a leak, a hang or an unbounded allocation (issue 13, each case of its "Why")."""

from __future__ import annotations

import json
import os
import threading

import pytest

from pytest_acl.constants import (
    ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
    ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID,
    ACL_ERROR_GE_MEMORY_ALLOCATION,
    ACL_ERROR_INTERNAL_ERROR,
    ACL_ERROR_RT_MODEL_EXECUTE,
    ACL_ERROR_RT_PARAM_INVALID,
    ACL_HBM_MEM,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.om.container import OmModel, Partition, PartitionGroup
from pytest_acl.om.modeldef import SIM_GRAPH_ATTR, ModelDef
from pytest_acl.om.partitions import PartitionType
from pytest_acl.om.reader import read_model


@pytest.fixture
def catalog(built_catalog):
    directory, manifest = built_catalog
    return lambda name: ModelEntry(directory, manifest["models"][name])


def with_graph(data: bytes, edit) -> bytes:
    """The model with its graph payload replaced by ``edit(graph dict)`` (a dict is written
    as JSON, bytes as they are)."""
    om = read_model(data)
    groups = []
    for group in om.groups:
        partitions = []
        for partition in group.partitions:
            payload = partition.data
            if partition.type == PartitionType.MODEL_DEF and group is om.groups[0]:
                model_def = ModelDef.decode(partition.contiguous())
                graph = json.loads(model_def.bytes_attrs[SIM_GRAPH_ATTR])
                edited = edit(graph)
                model_def.bytes_attrs[SIM_GRAPH_ATTR] = (
                    edited if isinstance(edited, bytes) else json.dumps(edited).encode())
                payload = model_def.encode()
            partitions.append(Partition(partition.type, payload))
        groups.append(PartitionGroup(partitions))
    return OmModel(om.header, groups, om.wide).to_bytes()


def device_in_use(acl) -> int:
    free, total, _ = acl.rt.get_mem_info(ACL_HBM_MEM)
    return total - free


def _undefined_input(graph):
    graph["nodes"][0]["inputs"][0] = "nowhere"
    return graph


def _weight_past_the_partition(graph):
    name = next(iter(graph["weights"]))
    graph["weights"][name]["offset"] = 1 << 40
    return graph


def _intermediate_past_the_work_memory(graph):
    name = next(iter(graph["tensors"]))
    graph["tensors"][name]["offset"] += 1 << 20
    return graph


def _unknown_operator(graph):
    graph["nodes"][0]["op"] = "NoSuchOp"
    return graph


def _bad_dtype(graph):
    graph["inputs"][0]["dtype"] = "<U8"
    return graph


def _huge_pad(graph):
    graph["nodes"][0]["attrs"]["pads"] = [1 << 40] * 4
    return graph


BAD_GRAPHS = {
    "not_utf8": lambda graph: b"\xff\xfe{",
    "not_json": lambda graph: b"{\"nodes\": [",
    "a_list": lambda graph: [],
    "no_nodes": lambda graph: {**graph, "nodes": []},
    "node_not_an_object": lambda graph: {**graph, "nodes": [3]},
    "shape_not_a_list": lambda graph: {**graph, "inputs": [{**graph["inputs"][0],
                                                            "shape": "x"}]},
    "negative_dimension": lambda graph: {**graph, "inputs": [{**graph["inputs"][0],
                                                              "shape": [-5, 2]}]},
    "undefined_input": _undefined_input,
    "weight_past_the_partition": _weight_past_the_partition,
    "intermediate_past_the_work_memory": _intermediate_past_the_work_memory,
    "unknown_operator": _unknown_operator,
    "bad_dtype": _bad_dtype,
    "huge_attribute": _huge_pad,
    "operator_not_a_string": lambda graph: {**graph, "nodes": [{**graph["nodes"][0],
                                                                "op": {"": 0}}]},
    "assignment_not_a_name": lambda graph: {**graph, "assign": {"v": ["x"]}},
    "stored_size_not_a_number": lambda graph: {**graph, "inputs": [{**graph["inputs"][0],
                                                                    "size": {}}]},
    "shape_range_not_pairs": lambda graph: {**graph, "inputs": [{**graph["inputs"][0],
                                                                 "shape_range": [3]}]},
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
@pytest.mark.parametrize("source", ["file", "mem"])
def test_a_graph_that_cannot_be_built_is_refused_at_load_leaving_nothing(
        sim, sim_acl, catalog, tmp_path, case, source):
    acl = sim_acl
    data = with_graph(catalog("conv").path.read_bytes(), BAD_GRAPHS[case])
    before, counts = device_in_use(acl), sim.live_counts()
    if source == "file":
        path = tmp_path / "bad.om"
        path.write_bytes(data)
        model_id, ret = acl.mdl.load_from_file(str(path))
    else:
        model_id, ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), len(data))
    assert (model_id, ret) == (0, ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED)
    assert device_in_use(acl) == before and sim.live_counts() == counts


def test_an_operator_that_fails_fails_the_execution_with_one_code_sync_and_async(
        sim_acl, catalog):
    """A graph that builds but whose operator cannot compute (a Gemm whose weights were
    swapped for a tensor of another shape) fails the execution: 507011, sync or async."""
    acl, entry = sim_acl, catalog("mlp")

    def swap_weight_shapes(graph):
        weights = graph["weights"]
        names = sorted(weights, key=lambda n: weights[n]["nbytes"], reverse=True)
        big = weights[names[0]]
        # same bytes, another 2-D shape: the matrix product no longer lines up
        big["shape"] = [1, big["nbytes"] // 4]
        return graph

    data = with_graph(entry.path.read_bytes(), swap_weight_shapes)
    stream, _ = acl.rt.create_stream()
    for mode in ("sync", "async"):  # a model runs one way only (launch.py): one load each
        model_id, ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), len(data))
        assert ret == 0
        io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
        try:
            if mode == "sync":
                ret = acl.mdl.execute(model_id, io.in_ds, io.out_ds)
            else:
                assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream) == 0
                ret = acl.rt.synchronize_stream(stream)
            assert ret == ACL_ERROR_RT_MODEL_EXECUTE, mode
        finally:
            io.release()
            assert acl.mdl.unload(model_id) == 0
    acl.rt.destroy_stream(stream)


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_a_model_path_that_is_not_a_regular_file_is_refused_without_blocking(
        sim_acl, tmp_path, kind):
    acl = sim_acl
    if kind == "fifo":
        path = tmp_path / "model.om"
        os.mkfifo(path)
    elif kind == "directory":
        path = tmp_path
    else:
        path = "/dev/zero"
    results = []
    calls = [lambda: acl.mdl.load_from_file(str(path))[1],
             lambda: acl.mdl.query_size(str(path))[-1],
             lambda: acl.mdl.bundle_load_from_file(str(path))[1]]
    worker = threading.Thread(target=lambda: results.extend(call() for call in calls),
                              daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), f"a load of a {kind} blocked"
    assert results == [ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID] * 3


def test_a_huge_model_size_over_a_small_buffer_is_refused_promptly(sim_acl):
    acl = sim_acl
    data = bytes(4096)
    ptr = acl.util.bytes_to_ptr(data)
    for size in (1 << 44, 1 << 47, (1 << 64) - 1):
        model_id, ret = acl.mdl.load_from_mem(ptr, size)
        assert model_id == 0 and ret != 0
        assert acl.mdl.query_size_from_mem(ptr, size)[-1] != 0


def test_a_bundle_initialised_from_memory_keeps_its_own_copy(sim_acl, built_catalog):
    acl = sim_acl
    directory, manifest = built_catalog
    entry = ModelEntry(directory, manifest["models"]["bundle3"])
    data = entry.path.read_bytes()
    host, ret = acl.rt.malloc_host(len(data))
    assert ret == 0
    acl.rt.memcpy(host, len(data), acl.util.bytes_to_ptr(data), len(data), 0)
    bundle_id, ret = acl.mdl.bundle_init_from_mem(host, len(data), 0, 0)
    assert ret == 0
    assert acl.rt.free_host(host) == 0  # the bundle's graphs load after this
    model_id, ret = acl.mdl.bundle_load_model(bundle_id, 0)
    assert ret == 0 and model_id != 0
    assert acl.mdl.bundle_unload(bundle_id) == 0


@pytest.mark.parametrize("size", [-1, 1 << 63, (1 << 64) - 1])
def test_an_impossible_host_allocation_is_an_error_code(sim_acl, size):
    ptr, ret = sim_acl.rt.malloc_host(size)
    assert ptr == 0 and ret != 0


def test_user_memory_on_another_device_is_refused(sim, sim_acl, catalog):
    """UNCONFIRMED code: the simulator refuses device memory of another device than the
    current context's with 107000, as it refuses any pointer outside a live allocation."""
    acl, entry = sim_acl, catalog("mlp")
    assert acl.rt.set_device(1) == 0
    work, _ = acl.rt.malloc(entry.work_size, 0)
    assert acl.rt.set_device(0) == 0
    before = sim.live_counts()
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), work, entry.work_size,
                                                    0, 0)
    assert (model_id, ret) == (0, ACL_ERROR_RT_PARAM_INVALID)
    assert sim.live_counts() == before
    assert acl.rt.set_device(1) == 0 and acl.rt.free(work) == 0


@pytest.mark.internal_errors_expected
def test_a_simulator_bug_is_an_aclerror_and_a_log_line(monkeypatch, caplog):
    from pytest_acl.sim import Simulator, acl_mdl
    from pytest_acl.sim.pyargs import INTERNAL_ERRORS

    def broken(self, desc, model_id):
        raise KeyError("a bug")

    monkeypatch.setattr(acl_mdl.ModelApi, "get_desc",
                        acl_mdl.pyacl("acl.mdl.get_desc", "kI")(broken))
    acl = Simulator(devices=1, hbm="64MiB").acl
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    before = INTERNAL_ERRORS.count
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc(desc, 1) == ACL_ERROR_INTERNAL_ERROR
    assert INTERNAL_ERRORS.count == before + 1
    assert "acl.mdl.get_desc: internal simulator error KeyError" in caplog.text
    with pytest.raises(TypeError, match="args parse failed"):  # argument errors stay pyACL's
        acl.mdl.get_desc("not a handle", 1)
    acl.mdl.destroy_desc(desc)
    acl.finalize()


def test_a_negative_work_size_attribute_is_a_huge_size_not_a_crash(sim, sim_acl, catalog):
    """GE reads the int64 ``memory_size`` into a size_t: -2^31 asks for about 2^64 bytes,
    which no device has (245000)."""
    acl, data = sim_acl, catalog("mlp").path.read_bytes()
    om = read_model(data)
    groups = []
    for group in om.groups:
        partitions = []
        for partition in group.partitions:
            payload = partition.data
            if partition.type == PartitionType.MODEL_DEF:
                model_def = ModelDef.decode(partition.contiguous())
                model_def.int_attrs["memory_size"] = -(2**31)
                payload = model_def.encode()
            partitions.append(Partition(partition.type, payload))
        groups.append(PartitionGroup(partitions))
    data = OmModel(om.header, groups, om.wide).to_bytes()
    before = sim.live_counts()
    model_id, ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), len(data))
    assert (model_id, ret) == (0, ACL_ERROR_GE_MEMORY_ALLOCATION)
    assert sim.live_counts() == before
