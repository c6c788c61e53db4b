"""Sharing rules (seeds/000, 002, 003): models executed serially share one work buffer sized
to the largest (sync under a lock from several threads; async on one stream), bundle graphs
too; one model loaded once per thread shares one read-only weight buffer."""

from __future__ import annotations

import threading

import pytest

from pytest_acl.om.partitions import PartitionType
from pytest_acl.om.reader import read_model
from pytest_acl.oracles import (
    device_bytes,
    distinct_inputs,
    execute_and_compare,
    reference_outputs,
)
from pytest_acl.variants import MODEL_WITH_MEM, SYSTEM, USER, Ownership, load_model

MODELS = ("mlp", "conv", "multi_io")


def threads_for(level: str) -> int:
    return 2 if level == "quick" else 4


def load_sharing_work(acl, acl_models, size_rule: str, variant):
    """Every model loaded with ``variant`` on one user work buffer: sized to the largest
    queried need, or to the total. Returns the buffer and the loads by model."""
    needs = {m: acl.mdl.query_size(str(acl_models[m].path))[0] for m in MODELS}
    size = max(needs.values()) if size_rule == "largest" else sum(needs.values())
    work_ptr, ret = acl.rt.malloc(size, 0)
    assert ret == 0
    loads = {}
    for name in MODELS:
        loaded, ret = load_model(variant, acl, acl_models[name], Ownership(USER, SYSTEM),
                                 given={"work": (work_ptr, size)})
        assert ret == 0, f"{name} refused a shared work buffer of {size} bytes ({variant.name})"
        loads[name] = loaded
    return work_ptr, loads


def release(acl, work_ptr, loads):
    for loaded in loads.values():
        loaded.release()
    assert acl.rt.free(work_ptr) == 0


WITH_MEM = [v.param() for v in MODEL_WITH_MEM]


@pytest.mark.acl_clause("sharing.work_serial_models_share_largest",
                        "sharing.serial_by_lock_for_sync")
@pytest.mark.parametrize("variant", WITH_MEM)
def test_shared_work_under_a_lock_from_threads(acl, acl_device, acl_models, acl_hazards,
                                               acl_level, variant):
    count = threads_for(acl_level)
    cases = {}  # model → (per-thread inputs, their expected outputs)
    for name in MODELS:
        entry = acl_models[name]
        inputs = distinct_inputs(entry.inputs(), count)
        cases[name] = inputs, reference_outputs(acl, str(entry.path), inputs,
                                                [a.nbytes for a in entry.outputs().values()])
    work_ptr, loads = load_sharing_work(acl, acl_models, "largest", variant)
    context, _ = acl.rt.get_context()
    lock, errors = threading.Lock(), []
    barrier = threading.Barrier(count)

    def worker(index: int) -> None:
        acl.rt.set_context(context)
        try:
            barrier.wait(timeout=60)  # all threads contend from the start
        except threading.BrokenBarrierError as error:
            errors.append(f"thread {index}: {error!r}")
            return
        for round_ in range(3):
            name = MODELS[(index + round_) % len(MODELS)]
            inputs, expected = cases[name]
            with lock:
                try:
                    execute_and_compare(acl, loads[name].model_id, inputs[index], expected[index])
                except AssertionError as error:
                    errors.append(f"thread {index}, {name}: {error}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert acl_hazards.new() == []
    release(acl, work_ptr, loads)


@pytest.mark.acl_clause("sharing.work_serial_models_share_largest",
                        "sharing.serial_by_one_stream_for_async")
@pytest.mark.parametrize("variant", WITH_MEM)
def test_shared_work_async_on_one_stream(acl, acl_device, acl_stream, acl_models, acl_hazards,
                                         variant):
    work_ptr, loads = load_sharing_work(acl, acl_models, "largest", variant)
    for _ in range(2):
        for name in MODELS:
            entry = acl_models[name]
            execute_and_compare(acl, loads[name].model_id, entry.inputs(), entry.outputs(),
                                acl_stream)
    assert acl_hazards.new() == []
    release(acl, work_ptr, loads)


@pytest.mark.acl_clause("sharing.work_total_size_english_page")
@pytest.mark.parametrize("variant", WITH_MEM)
def test_shared_work_sized_to_the_total(acl, acl_device, acl_models, variant):
    work_ptr, loads = load_sharing_work(acl, acl_models, "total", variant)
    for name in MODELS:
        entry = acl_models[name]
        execute_and_compare(acl, loads[name].model_id, entry.inputs(), entry.outputs())
    release(acl, work_ptr, loads)


@pytest.mark.acl_clause("sharing.weight_same_model_per_thread",
                        "sharing.weight_not_freed_while_shared",
                        "with_mem.weights_read_only_during_inference")
@pytest.mark.parametrize("variant", WITH_MEM)
def test_one_weight_buffer_shared_by_per_thread_loads(acl, acl_device, acl_models,
                                                      acl_hazards, acl_level, variant):
    entry = acl_models["conv"]
    _, weight, _ = acl.mdl.query_size(str(entry.path))
    count = threads_for(acl_level)
    inputs = distinct_inputs(entry.inputs(), count)  # a thread that gets another's data shows
    expected = reference_outputs(acl, str(entry.path), inputs,
                                 [a.nbytes for a in entry.outputs().values()])
    weight_ptr, _ = acl.rt.malloc(weight, 0)
    context, _ = acl.rt.get_context()
    errors, ids, held = [], [], []
    barrier = threading.Barrier(count)

    def worker(index: int) -> None:
        acl.rt.set_context(context)
        loaded, ret = load_model(variant, acl, entry, Ownership(SYSTEM, USER),
                                 given={"weight": (weight_ptr, weight)})
        if ret:
            errors.append(f"{variant.name} returned {ret}")
            barrier.abort()
            return
        model_id = loaded.model_id
        ids.append(model_id)
        held.append(loaded)  # a load from memory keeps its model bytes alive
        try:
            barrier.wait(timeout=60)
            for _ in range(3):
                execute_and_compare(acl, model_id, inputs[index], expected[index])
        except (AssertionError, threading.BrokenBarrierError) as error:
            errors.append(f"thread {index}: {error}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(ids)) == len(threads)
    weights = read_model(entry.path.read_bytes()).groups[0].find(PartitionType.WEIGHTS_DATA)
    assert device_bytes(acl, weight_ptr, weight) == bytes(weights.data), \
        "the shared weight buffer changed during the concurrent executions"
    for index, model_id in enumerate(ids):  # each unload leaves the buffer to the others
        assert acl.mdl.unload(model_id) == 0
        for other in ids[index + 1:]:
            execute_and_compare(acl, other, inputs[0], expected[0])
    assert device_bytes(acl, weight_ptr, weight) == bytes(weights.data), \
        "unloading a sharer changed the shared weight buffer"
    assert acl.rt.free(weight_ptr) == 0  # after every sharer unloaded
    assert acl_hazards.new() == []


# Work queued ahead of the pipeline, long enough (tenths of a second on the simulator) that
# a runtime running execute_async at once, out of stream order, is caught even on a loaded
# machine.
BUSY_COPIES = 12


@pytest.mark.acl_clause("sharing.serial_by_one_stream_for_async",
                        "runtime.async_copies_in_stream_order")
def test_async_pipeline_on_one_stream_runs_in_order(acl, acl_device, acl_stream, acl_models,
                                                    device_memory, host_memory):
    """Busy stream → input copied in → model → output copied out, all queued on one stream:
    the model must see the input copied before it and the copy-out must see its output."""
    import numpy as np

    from pytest_acl.constants import MemcpyKind
    from pytest_acl.modelio import ModelIO

    entry = acl_models["mlp"]
    x, y = entry.inputs()["x"], entry.outputs()["y"]
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    assert ret == 0
    io = ModelIO.prepare(acl, model_id, [np.zeros_like(x)], [y.nbytes])
    busy_size = 32 << 20
    busy_src, busy_dst = device_memory(busy_size), device_memory(busy_size)
    assert acl.rt.memset(busy_src.ptr, busy_size, 1, busy_size) == 0  # a copy of memory never
    #                                        written may cost nothing; these move bytes
    host_x, host_y = host_memory(x.nbytes), host_memory(y.nbytes)
    host_x.write(x)
    in_ptr = acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(io.in_ds, 0))
    out_ptr = acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(io.out_ds, 0))
    for _ in range(2):  # twice: once in order can be luck for a runtime that does not order
        busy = [acl.rt.memcpy_async(busy_dst.ptr, busy_size, busy_src.ptr, busy_size,
                                    MemcpyKind.ACL_MEMCPY_DEVICE_TO_DEVICE, acl_stream)
                for _ in range(BUSY_COPIES)]
        queued = [
            acl.rt.memcpy_async(in_ptr, x.nbytes, host_x.ptr, x.nbytes,
                                MemcpyKind.ACL_MEMCPY_HOST_TO_DEVICE, acl_stream),
            acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, acl_stream),
            acl.rt.memcpy_async(host_y.ptr, y.nbytes, out_ptr, y.nbytes,
                                MemcpyKind.ACL_MEMCPY_DEVICE_TO_HOST, acl_stream),
        ]
        assert busy + queued == [0] * (BUSY_COPIES + 3)
        assert acl.rt.synchronize_stream(acl_stream) == 0
        np.testing.assert_allclose(np.frombuffer(host_y.read(), y.dtype).reshape(y.shape), y,
                                   rtol=1e-4, atol=1e-5)
        assert acl.rt.memset(in_ptr, x.nbytes, 0, x.nbytes) == 0  # the next round's input
        host_y.write(np.zeros_like(y))
    io.release()
    assert acl.mdl.unload(model_id) == 0


@pytest.mark.acl_clause("sharing.serial_by_one_stream_for_async")
def test_executions_in_flight_on_one_stream_run_in_order(acl, acl_device, acl_stream,
                                                         acl_models, host_memory, acl_level):
    """Several executions queued on one stream before any synchronisation, all through one
    input and one output buffer, each with its own input copied in before it and its output
    copied out after it: every copy-out sees its own execution's result only if the stream
    ran copies and executions in the order they were queued."""
    import numpy as np

    from pytest_acl.constants import MemcpyKind
    from pytest_acl.modelio import ModelIO

    entry = acl_models["mlp"]
    x, y = entry.inputs()["x"], entry.outputs()["y"]
    count = 4 if acl_level == "quick" else 12
    inputs = [case["x"] for case in distinct_inputs({"x": x}, count)]
    expected = [case["y"] for case in reference_outputs(
        acl, str(entry.path), [{"x": array} for array in inputs], [y.nbytes])]
    assert len({e.tobytes() for e in expected}) == count  # distinct results

    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    assert ret == 0
    io = ModelIO.prepare(acl, model_id, [np.zeros_like(x)], [y.nbytes])
    in_ptr = acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(io.in_ds, 0))
    out_ptr = acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(io.out_ds, 0))
    host_in = [host_memory(x.nbytes) for _ in range(count)]
    host_out = [host_memory(y.nbytes) for _ in range(count)]
    for buffer, array in zip(host_in, inputs, strict=True):
        buffer.write(array)
    for source, target in zip(host_in, host_out, strict=True):
        queued = [
            acl.rt.memcpy_async(in_ptr, x.nbytes, source.ptr, x.nbytes,
                                MemcpyKind.ACL_MEMCPY_HOST_TO_DEVICE, acl_stream),
            acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, acl_stream),
            acl.rt.memcpy_async(target.ptr, y.nbytes, out_ptr, y.nbytes,
                                MemcpyKind.ACL_MEMCPY_DEVICE_TO_HOST, acl_stream),
        ]
        assert queued == [0, 0, 0]
    assert acl.rt.synchronize_stream(acl_stream) == 0
    for index, (target, want) in enumerate(zip(host_out, expected, strict=True)):
        got = np.frombuffer(target.read(), y.dtype).reshape(y.shape)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                                   err_msg=f"execution {index} of {count} in flight")
    io.release()
    assert acl.mdl.unload(model_id) == 0
