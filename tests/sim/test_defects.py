"""Each registered defect, switched on, changes what a program observes — and nothing changes
with none switched on. (Whether the conformance suite catches each one is the suite's test.)
The fatal defects, which end or hang the process, are proven in test_fatal_defects.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.sim import SimConfigError, Simulator
from pytest_acl.sim.defects import DEFECTS, FATAL, Defects


def _path(models, name):
    return str(models(name).path)


def _run(acl, model_id, entry):
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    ret = acl.mdl.execute(model_id, io.in_ds, io.out_ds)
    outputs = io.outputs()
    io.release()
    return ret, outputs


def _used(acl):
    free, total, _ = acl.rt.get_mem_info(1)
    return total - free


def query_underreports_work(acl, models):
    return acl.mdl.query_size(_path(models, "mlp"))


def query_from_mem_disagrees(acl, models):
    data = models("mlp").path.read_bytes()
    return acl.mdl.query_size_from_mem(acl.util.bytes_to_ptr(data), len(data))


def dynamic_query_reports_work(acl, models):
    return acl.mdl.query_size(_path(models, "dyn_shape"))


def with_mem_ignores_weight_ptr(acl, models):
    _, weight, _ = acl.mdl.query_size(_path(models, "mlp"))
    ptr, _ = acl.rt.malloc(weight, 0)
    acl.rt.memset(ptr, weight, 0, weight)
    acl.mdl.load_from_file_with_mem(_path(models, "mlp"), 0, 0, ptr, weight)
    host = np.empty(weight, np.uint8)
    acl.rt.memcpy(host.ctypes.data, weight, ptr, weight, 2)
    return bool(host.any())


def user_work_memory_ignored(acl, models):
    work, _, _ = acl.mdl.query_size(_path(models, "mlp"))
    ptr, _ = acl.rt.malloc(work, 0)
    acl.rt.memset(ptr, work, 0xEE, work)
    model_id, _ = acl.mdl.load_from_file_with_mem(_path(models, "mlp"), ptr, work, 0, 0)
    _run(acl, model_id, models("mlp"))
    host = np.empty(work, np.uint8)
    acl.rt.memcpy(host.ctypes.data, work, ptr, work, 2)
    return bool((host != 0xEE).any())


def weight_size_check_skipped(acl, models):
    _, weight, _ = acl.mdl.query_size(_path(models, "mlp"))
    ptr, _ = acl.rt.malloc(weight, 0)
    return acl.mdl.load_from_file_with_mem(_path(models, "mlp"), 0, 0, ptr, weight - 1)[1]


def work_size_check_skipped(acl, models):
    work, _, _ = acl.mdl.query_size(_path(models, "mlp"))
    ptr, _ = acl.rt.malloc(work, 0)
    return acl.mdl.load_from_file_with_mem(_path(models, "mlp"), ptr, work - 1, 0, 0)[1]


def null_weight_ptr_with_size_rejected(acl, models):
    return acl.mdl.load_from_file_with_mem(_path(models, "mlp"), 0, 0, 0, 999)[1]


def system_load_skips_weight_memory(acl, models):
    before = _used(acl)
    acl.mdl.load_from_file(_path(models, "mlp"))
    return _used(acl) - before


def bundle_index_equal_count_accepted(acl, models):
    bundle_id, _ = acl.mdl.bundle_init_from_file(_path(models, "bundle3"), 0, 0)
    return acl.mdl.bundle_load_model(bundle_id, 3)[1]


def model_ids_reused(acl, models):
    first, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    acl.mdl.unload(first)
    return acl.mdl.load_from_file(_path(models, "mlp"))[0]


def unload_leaks_system_memory(acl, models):
    before = _used(acl)
    model_id, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    acl.mdl.unload(model_id)
    return _used(acl) - before


def execute_writes_weight_memory(acl, models):
    _, weight, _ = acl.mdl.query_size(_path(models, "mlp"))
    ptr, _ = acl.rt.malloc(weight, 0)
    model_id, _ = acl.mdl.load_from_file_with_mem(_path(models, "mlp"), 0, 0, ptr, weight)
    before = np.empty(weight, np.uint8)
    acl.rt.memcpy(before.ctypes.data, weight, ptr, weight, 2)
    _run(acl, model_id, models("mlp"))
    after = np.empty(weight, np.uint8)
    acl.rt.memcpy(after.ctypes.data, weight, ptr, weight, 2)
    return bool((before == after).all())


def truncated_model_accepted(acl, models):
    data = models("mlp").path.read_bytes()[:-1]
    return acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), len(data))[1]


def unload_twice_succeeds(acl, models):
    model_id, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    acl.mdl.unload(model_id)
    return acl.mdl.unload(model_id)


def wrong_context_accepted(acl, models):
    from pytest_acl.modelio import ModelIO

    model_id, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    io = ModelIO.prepare(acl, model_id, [np.zeros((2, 8), np.float32)])
    acl.rt.create_context(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return acl.mdl.execute(model_id, io.in_ds, io.out_ds)


def async_out_of_stream_order(acl, models):
    """The stream held by a task that waits for the test, the input copied asynchronously,
    then the model — all on one stream; the task is released only after execute_async
    returned, so whether the model saw its input depends on the order alone."""
    import threading

    entry = models("mlp")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    x = entry.inputs()["x"]
    io = ModelIO.prepare(acl, model_id, [np.zeros_like(x)])
    stream, _ = acl.rt.create_stream()
    gate = threading.Event()
    acl.__simulator__.runtime.stream(stream).submit(gate.wait)  # work already queued
    in_ptr = acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(io.in_ds, 0))
    acl.rt.memcpy_async(in_ptr, x.nbytes, x.ctypes.data, x.nbytes, 1, stream)
    acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream)
    gate.set()
    acl.rt.synchronize_stream(stream)
    return bool(np.allclose(io.outputs()["y"], entry.outputs()["y"], rtol=1e-4, atol=1e-5))


def desc_wrong_output_size(acl, models):
    model_id, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    desc = acl.mdl.create_desc()
    acl.mdl.get_desc(desc, model_id)
    return acl.mdl.get_output_size_by_index(desc, 0)


def outputs_perturbed(acl, models):
    model_id, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    return _run(acl, model_id, models("mlp"))[1]["y"].tobytes()


def bundle_unload_keeps_models(acl, models):
    bundle_id, _ = acl.mdl.bundle_load_from_file(_path(models, "bundle3"))
    acl.mdl.bundle_unload(bundle_id)
    return acl.__simulator__.live_counts()["models"]


def load_ignores_current_device(acl, models):
    """Device 1's memory in use after a system-managed load there."""
    assert acl.rt.set_device(1) == 0
    acl.mdl.load_from_file(_path(models, "mlp"))
    return _used(acl)


def unload_frees_user_weights(acl, models):
    """Whether the user's weight buffer is still live after the model using it unloads."""
    entry = models("mlp")
    ptr, _ = acl.rt.malloc(entry.weight_size, 0)
    model_id, _ = acl.mdl.load_from_file_with_mem(str(entry.path), 0, 0, ptr, entry.weight_size)
    acl.mdl.unload(model_id)
    return acl.rt.free(ptr)


def failed_load_keeps_weights(acl, models):
    """Device memory in use after a load whose work memory did not fit."""
    entry = models("mlp")
    free, _, _ = acl.rt.get_mem_info(1)
    hog, _ = acl.rt.malloc(free - entry.weight_size - entry.work_size // 2, 0)
    before = _used(acl)
    acl.mdl.load_from_file(str(entry.path))
    return _used(acl) - before


def async_reads_inputs_at_launch(acl, models):
    """The output of an execute_async whose input is copied in, on its stream, just before."""
    from pytest_acl.constants import MemcpyKind

    entry = models("mlp")
    x = entry.inputs()["x"]
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, [np.zeros_like(x)])
    stream, _ = acl.rt.create_stream()
    in_ptr = acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(io.in_ds, 0))
    data = np.ascontiguousarray(x).tobytes()
    acl.rt.memcpy_async(in_ptr, x.nbytes, acl.util.bytes_to_ptr(data), x.nbytes,
                        MemcpyKind.ACL_MEMCPY_HOST_TO_DEVICE, stream)
    acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream)
    acl.rt.synchronize_stream(stream)
    return next(iter(io.outputs().values())).tobytes()


def user_weights_copied(acl, models):
    """Device memory a load takes besides the user weight buffer it was given."""
    entry = models("mlp")
    ptr, _ = acl.rt.malloc(entry.weight_size, 0)
    before = _used(acl)
    acl.mdl.load_from_file_with_mem(str(entry.path), 0, 0, ptr, entry.weight_size)
    return _used(acl) - before


def bundle_user_variables_ignored(acl, models):
    """Device memory a bundle init takes besides the user variable buffer it was given."""
    entry = models("bundle3")
    ptr, _ = acl.rt.malloc(entry.data["var_size"], 0)
    before = _used(acl)
    acl.mdl.bundle_init_from_file(str(entry.path), ptr, entry.data["var_size"])
    return _used(acl) - before


def mem_load_skips_size_checks(acl, models):
    """load_from_mem_with_mem with a weight buffer one byte short."""
    entry = models("mlp")
    data = entry.path.read_bytes()
    ptr, _ = acl.rt.malloc(entry.weight_size, 0)
    return acl.mdl.load_from_mem_with_mem(acl.util.bytes_to_ptr(data), len(data), 0, 0, ptr,
                                          entry.weight_size - 1)[-1]


def bundle_variable_size_unchecked(acl, models):
    entry = models("bundle3")
    ptr, _ = acl.rt.malloc(entry.data["var_size"], 0)
    return acl.mdl.bundle_init_from_file(str(entry.path), ptr, entry.data["var_size"] - 1)[-1]


def bundle_get_size_index_unchecked(acl, models):
    info = acl.mdl.bundle_create_query_info()
    acl.mdl.bundle_query_info_from_file(_path(models, "bundle3"), info)
    return acl.mdl.bundle_get_size(info, 3)


def desc_of_unloaded_model_answered(acl, models):
    model_id, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    acl.mdl.unload(model_id)
    return acl.mdl.get_desc(acl.mdl.create_desc(), model_id)


def desc_not_cleared_on_refusal(acl, models):
    model_id, _ = acl.mdl.load_from_file(_path(models, "mlp"))
    desc = acl.mdl.create_desc()
    acl.mdl.get_desc(desc, model_id)
    acl.mdl.get_desc(desc, 4242)
    return acl.mdl.get_num_inputs(desc)


def outputs_overrun(acl, models):
    """The bytes right after an output buffer (within its allocation) after an execution."""
    entry = models("mlp")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    acl.mdl.execute(model_id, io.in_ds, io.out_ds)
    try:
        io.outputs()  # checks the canary after each output buffer
    except AssertionError as error:
        return str(error)
    return "canaries intact"


def null_output_not_returned(acl, models):
    entry = models("mlp")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    handle = acl.mdl.get_dataset_buffer(io.out_ds, 0)
    acl.update_data_buffer(handle, 0, 0)
    acl.mdl.execute(model_id, io.in_ds, io.out_ds)
    return acl.get_data_buffer_addr(handle) != 0


def config_load_pads_short_models(acl, models):
    from pytest_acl.constants import MdlConfigAttr as A
    from pytest_acl.constants import MdlLoadType as T

    data = models("mlp").path.read_bytes()[:-1]
    handle = acl.mdl.create_config_handle()
    acl.mdl.set_config_opt(handle, A.ACL_MDL_LOAD_TYPE_SIZET, int(T.ACL_MDL_LOAD_FROM_MEM))
    acl.mdl.set_config_opt(handle, A.ACL_MDL_MEM_ADDR_PTR, acl.util.bytes_to_ptr(data))
    acl.mdl.set_config_opt(handle, A.ACL_MDL_MEM_SIZET, len(data))
    return acl.mdl.load_with_config(handle)[-1]


def bundle_query_accepts_any_file(acl, models):
    info = acl.mdl.bundle_create_query_info()
    return acl.mdl.bundle_query_info_from_file(_path(models, "mlp"), info)


def config_mem_size_from_header(acl, models):
    from pytest_acl.constants import MdlConfigAttr as A
    from pytest_acl.constants import MdlLoadType as T

    data = models("mlp").path.read_bytes()
    handle = acl.mdl.create_config_handle()
    acl.mdl.set_config_opt(handle, A.ACL_MDL_LOAD_TYPE_SIZET, int(T.ACL_MDL_LOAD_FROM_MEM))
    acl.mdl.set_config_opt(handle, A.ACL_MDL_MEM_ADDR_PTR, acl.util.bytes_to_ptr(data))
    return acl.mdl.load_with_config(handle)[-1]


def gear_not_applied(acl, models):
    from pytest_acl.gear_io import GearIO

    entry = models("dyn_batch")
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = GearIO.prepare(acl, model_id, entry.gear_inputs(0))
    acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index, 1)
    acl.mdl.execute(model_id, io.in_ds, io.out_ds)
    outputs = io.outputs(entry.gear_outputs(0))
    io.release()
    return outputs["y"].tobytes()


def gear_values_unchecked(acl, models):
    model_id, _ = acl.mdl.load_from_file(_path(models, "dyn_batch"))
    ptr, _ = acl.rt.malloc(8, 0)
    dataset = acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, 8))
    return acl.mdl.set_dynamic_batch_size(model_id, dataset, 0, 3)


OBSERVATIONS = {name: globals()[name] for name in DEFECTS if name not in FATAL}


@pytest.fixture
def models(built_catalog):
    directory, manifest = built_catalog
    return lambda name: ModelEntry(directory, manifest["models"][name])


def observe(defects, name, models):
    sim = Simulator(defects=defects)
    acl = sim.acl
    acl.init()
    acl.rt.set_device(0)
    try:
        return OBSERVATIONS[name](acl, models)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acl.finalize()


def test_there_are_at_least_15_defects_each_described():
    assert len(DEFECTS) >= 15
    assert all(description and "\n" not in description for description in DEFECTS.values())


@pytest.mark.parametrize("name", sorted(OBSERVATIONS))
def test_each_defect_changes_observable_behaviour(name, models):
    clean = observe((), name, models)
    broken = observe((name,), name, models)
    assert clean != broken, f"{name}: {clean!r} both ways"


def test_unknown_defects_are_refused_with_the_list(monkeypatch):
    with pytest.raises(SimConfigError, match="unknown simulator defect.*nope.*known: "):
        Defects(["nope"])
    monkeypatch.setenv("PYTEST_ACL_SIM_DEFECTS", "outputs_perturbed, unload_twice_succeeds")
    assert Simulator.from_env().defects == {"outputs_perturbed", "unload_twice_succeeds"}
    monkeypatch.setenv("PYTEST_ACL_SIM_DEFECTS", "x")
    with pytest.raises(SimConfigError, match="PYTEST_ACL_SIM_DEFECTS"):
        Simulator.from_env()
