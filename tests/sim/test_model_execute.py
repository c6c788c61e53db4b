"""Executing models in the simulator: sync and async, dynamic shapes, dataset checks, output
auto-allocation, and work memory that really holds the intermediates (§1.4, §5.10)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_ERROR_GE_FAILURE,
    ACL_ERROR_GE_PARAM_INVALID,
    ACL_ERROR_RT_STREAM_CONTEXT,
    ACL_FORMAT_ND,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.sim.sanitizer import HazardWarning


@pytest.fixture
def catalog(built_catalog):
    directory, manifest = built_catalog
    return lambda name: ModelEntry(directory, manifest["models"][name])


def outputs_match(io: ModelIO, entry: ModelEntry) -> bool:
    results = io.outputs()
    return all(np.allclose(results[name], value, rtol=1e-4, atol=1e-5)
               for name, value in entry.outputs().items())


def test_async_execution_is_visible_after_synchronize(sim_acl, catalog):
    acl, entry = sim_acl, catalog("multi_io")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    stream, _ = acl.rt.create_stream()
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0
    assert outputs_match(io, entry)
    io.release()
    acl.mdl.unload(model_id)
    acl.rt.destroy_stream(stream)


def test_async_on_a_stream_of_another_context_is_refused(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    default_context, _ = acl.rt.get_context()
    other, _ = acl.rt.create_context(0)
    foreign_stream, _ = acl.rt.create_stream()
    acl.rt.set_context(default_context)
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds,
                                 foreign_stream) == ACL_ERROR_RT_STREAM_CONTEXT
    io.release()
    acl.mdl.unload(model_id)
    acl.rt.destroy_context(other)


def test_dynamic_model_runs_with_the_shape_of_its_tensor_desc(sim_acl, catalog):
    acl, entry = sim_acl, catalog("dyn_shape")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    expected = entry.outputs()["y"]
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["x"]], output_bytes=[expected.nbytes])
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
    assert io.output_shapes() == [list(expected.shape)]
    np.testing.assert_allclose(io.outputs()["y"], expected, rtol=1e-4, atol=1e-5)
    io.release()
    acl.mdl.unload(model_id)


def test_dynamic_model_without_a_tensor_desc_is_refused(sim_acl, catalog):
    acl, entry = sim_acl, catalog("dyn_shape")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    x = entry.inputs()["x"]
    io = ModelIO.prepare(acl, model_id, [x], output_bytes=[x.shape[0] * 10 * 4])
    acl.mdl.set_dataset_tensor_desc(io.in_ds, acl.create_tensor_desc(0, [3, 17], ACL_FORMAT_ND),
                                    0)
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == ACL_ERROR_GE_PARAM_INVALID
    io.release()
    acl.mdl.unload(model_id)


def test_dynamic_model_ignores_the_work_pointer(sim_acl, catalog):
    acl, entry = sim_acl, catalog("dyn_shape")
    _, weight, _ = acl.mdl.query_size(str(entry.path))
    weight_ptr, _ = acl.rt.malloc(weight, 0)
    model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), 0x1234, 0, weight_ptr,
                                                    weight)
    assert ret == 0  # runtime v2 passes only the weight memory on (§5.6)
    assert acl.mdl.unload(model_id) == 0
    acl.rt.free(weight_ptr)


def test_wrong_number_of_buffers_is_refused(sim_acl, catalog):
    acl, entry = sim_acl, catalog("multi_io")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["a"]])
    # cann-behaviour.md §6 'static model, buffer count differs': 500002 (derived)
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == ACL_ERROR_GE_FAILURE
    io.release()
    acl.mdl.unload(model_id)


def test_too_small_input_buffer_is_refused(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["x"][:2]])
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == ACL_ERROR_GE_PARAM_INVALID
    io.release()
    acl.mdl.unload(model_id)


def test_sync_execute_allocates_a_null_output_buffer(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["x"]])
    buffer = acl.mdl.get_dataset_buffer(io.out_ds, 0)
    acl.update_data_buffer(buffer, 0, 0)
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
    ptr, size = acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)
    assert ptr != 0 and size == entry.outputs()["y"].nbytes
    assert outputs_match(io, entry)
    assert acl.rt.free(ptr) == 0  # the user frees ACL's allocation
    io.release()
    acl.mdl.unload(model_id)


def test_async_execute_does_not_allocate_outputs(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    stream, _ = acl.rt.create_stream()
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["x"]])
    acl.update_data_buffer(acl.mdl.get_dataset_buffer(io.out_ds, 0), 0, 0)
    assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds,
                                 stream) == ACL_ERROR_GE_PARAM_INVALID
    io.release()
    acl.mdl.unload(model_id)
    acl.rt.destroy_stream(stream)


def test_intermediates_live_in_the_work_memory(sim_acl, catalog):
    """Clobbering the user work buffer between two layers' runs is impossible to observe from
    outside, but a work buffer filled before execution is overwritten by it: the executor
    really keeps intermediates there."""
    acl, entry = sim_acl, catalog("mlp")
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    work_ptr, _ = acl.rt.malloc(work, 0)
    acl.rt.memset(work_ptr, work, 0xEE, work)
    model_id, _ = acl.mdl.load_from_file_with_mem(str(entry.path), work_ptr, work, 0, 0)
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["x"]])
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
    host = np.empty(work, np.uint8)
    acl.rt.memcpy(host.ctypes.data, work, work_ptr, work, 2)
    assert (host != 0xEE).any()
    assert outputs_match(io, entry)
    io.release()
    acl.mdl.unload(model_id)
    acl.rt.free(work_ptr)


def test_a_freed_work_buffer_is_a_device_fault_not_a_crash(sim_acl, catalog):
    acl, entry = sim_acl, catalog("mlp")
    work, _, _ = acl.mdl.query_size(str(entry.path))
    work_ptr, _ = acl.rt.malloc(work, 0)
    model_id, _ = acl.mdl.load_from_file_with_mem(str(entry.path), work_ptr, work, 0, 0)
    with pytest.warns(HazardWarning, match="freed_while_loaded"):
        acl.rt.free(work_ptr)
    io = ModelIO.prepare(acl, model_id, [entry.inputs()["x"]])
    assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 507011  # RT_MODEL_EXECUTE
    io.release()
    acl.mdl.unload(model_id)
