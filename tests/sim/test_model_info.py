"""Descriptions without loading, tensor real names, element sizes, the recent error message
and execution with a config (issue 14; sources in each function's docstring: PYACL
hicann/runtime python/pyACL mdl_wrap.cpp and GE-DOC aclmdlExecuteV2.md,
aclmdlExecConfigAttr.md)."""

from __future__ import annotations

import pytest

from pytest_acl.constants import (
    ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID,
    ACL_ERROR_INVALID_PARAM,
    DataType,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry


@pytest.fixture
def entry(built_catalog):
    directory, manifest = built_catalog
    return ModelEntry(directory, manifest["models"]["multi_io"])


def described(acl, desc):
    return ([acl.mdl.get_input_name_by_index(desc, i) for i in range(acl.mdl.get_num_inputs(desc))],
            [acl.mdl.get_output_size_by_index(desc, i)
             for i in range(acl.mdl.get_num_outputs(desc))])


def test_a_desc_from_the_file_or_the_bytes_equals_the_loaded_models(sim, sim_acl, entry):
    acl = sim_acl
    data = entry.path.read_bytes()
    loaded, from_file, from_mem = (acl.mdl.create_desc() for _ in range(3))
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    before = sim.live_counts()
    assert acl.mdl.get_desc(loaded, model_id) == 0
    assert acl.mdl.get_desc_from_file(from_file, str(entry.path)) == 0
    assert acl.mdl.get_desc_from_mem(from_mem, acl.util.bytes_to_ptr(data), len(data)) == 0
    assert described(acl, from_file) == described(acl, from_mem) == described(acl, loaded)
    assert sim.live_counts() == before  # nothing loaded, nothing allocated
    assert acl.mdl.get_desc_from_file(from_file, "/nonexistent.om") == \
        ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID
    assert acl.mdl.get_num_inputs(from_file) == 0  # a refused describe leaves it empty
    acl.mdl.unload(model_id)
    for desc in (loaded, from_file, from_mem):
        acl.mdl.destroy_desc(desc)


def test_the_real_name_of_a_tensor_is_its_name_in_the_desc(sim_acl, entry):
    acl = sim_acl
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc_from_file(desc, str(entry.path)) == 0
    name = acl.mdl.get_input_name_by_index(desc, 0)
    assert acl.mdl.get_tensor_real_name(desc, name) == name
    assert acl.mdl.get_tensor_real_name(desc, "no such tensor") is None
    acl.mdl.destroy_desc(desc)


@pytest.mark.parametrize(("data_type", "size"), [
    (DataType.ACL_FLOAT, 4), (DataType.ACL_FLOAT16, 2), (DataType.ACL_INT64, 8),
    (DataType.ACL_BOOL, 1), (DataType.ACL_BF16, 2), (DataType.ACL_STRING, 0),
    (DataType.ACL_DT_UNDEFINED, 0), (999, 0)])
def test_data_type_size(sim_acl, data_type, size):
    assert sim_acl.data_type_size(int(data_type)) == size


def test_the_recent_error_message_says_why_and_is_cleared_once_read(sim_acl):
    acl = sim_acl
    acl.get_recent_err_msg()  # this thread's earlier failures (the message is per thread)
    assert acl.get_recent_err_msg() is None
    assert acl.mdl.load_from_file("/nonexistent/model.om")[1] != 0
    message = acl.get_recent_err_msg()
    assert "acl.mdl.load_from_file" in message and "/nonexistent/model.om" in message
    assert acl.get_recent_err_msg() is None


def test_execute_v2_runs_with_and_without_a_config(sim_acl, entry):
    acl = sim_acl
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    handle = acl.mdl.create_exec_config_handle()
    assert acl.mdl.set_exec_config_opt(handle, 0, 1000) == 0  # stream timeout, ms
    assert acl.mdl.set_exec_config_opt(handle, 1, 2**32 - 1) == 0  # -1: forever
    assert acl.mdl.set_exec_config_opt(handle, 0, 0) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_exec_config_opt(handle, 2, 0x1000) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_exec_config_opt(handle, 99, 1) == ACL_ERROR_INVALID_PARAM
    stream, _ = acl.rt.create_stream()
    for config in (handle, 0):
        io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
        assert acl.mdl.execute_v2(model_id, io.in_ds, io.out_ds, stream, config) == 0
        for name, expected in entry.outputs().items():
            assert io.outputs()[name] == pytest.approx(expected, rel=1e-4, abs=1e-5)
        io.release()
    assert acl.mdl.execute_v2(model_id, 0, 0, stream, 0x1234) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.destroy_exec_config_handle(handle) == 0
    assert acl.mdl.destroy_exec_config_handle(handle) == ACL_ERROR_INVALID_PARAM
    acl.rt.destroy_stream(stream)
    acl.mdl.unload(model_id)
