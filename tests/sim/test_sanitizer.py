"""The sanitizer, and the documented sharing patterns (reference/acl-api.md §5.2, §5.3):
serial executions sharing one work buffer (under a lock, or on one stream) are correct and
hazard-free; the same patterns broken (no lock, two streams) are reported."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry
from pytest_acl.sim import Simulator
from pytest_acl.sim.sanitizer import HazardError, HazardWarning

ROUNDS = 30


@pytest.fixture
def entries(built_catalog):
    directory, manifest = built_catalog
    return [ModelEntry(directory, manifest["models"][n]) for n in ("mlp", "conv")]


def shared_setup(acl, entries):
    """Both models loaded on one user work buffer sized to the larger requirement."""
    work = max(acl.mdl.query_size(str(e.path))[0] for e in entries)
    work_ptr, _ = acl.rt.malloc(work, 0)
    runs = []
    for entry in entries:
        model_id, ret = acl.mdl.load_from_file_with_mem(str(entry.path), work_ptr, work, 0, 0)
        assert ret == 0
        runs.append((model_id, entry, ModelIO.prepare(acl, model_id,
                                                      list(entry.inputs().values()))))
    return work_ptr, runs


def correct(run) -> bool:
    _, entry, io = run
    outputs = io.outputs()
    return all(np.allclose(outputs[k], v, rtol=1e-4, atol=1e-5)
               for k, v in entry.outputs().items())


def teardown(acl, work_ptr, runs):
    for model_id, _, io in runs:
        io.release()
        acl.mdl.unload(model_id)
    acl.rt.free(work_ptr)


def in_threads(acl, runs, lock: threading.Lock | None) -> list[bool]:
    context, _ = acl.rt.get_context()
    barrier = threading.Barrier(len(runs))
    results: list[bool] = []

    def worker(run):
        acl.rt.set_context(context)
        barrier.wait()
        for _ in range(ROUNDS):
            if lock:
                with lock:
                    acl.mdl.execute(run[0], run[2].in_ds, run[2].out_ds)
                    results.append(correct(run))
            else:
                acl.mdl.execute(run[0], run[2].in_ds, run[2].out_ds)

    threads = [threading.Thread(target=worker, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_shared_work_buffer_under_a_lock_is_correct_and_hazard_free(sim, sim_acl, entries):
    work_ptr, runs = shared_setup(sim_acl, entries)
    results = in_threads(sim_acl, runs, threading.Lock())
    assert len(results) == 2 * ROUNDS and all(results)
    assert sim.sanitizer.hazards == []
    teardown(sim_acl, work_ptr, runs)


def test_shared_work_buffer_on_one_stream_is_correct_and_hazard_free(sim, sim_acl, entries):
    acl = sim_acl
    work_ptr, runs = shared_setup(acl, entries)
    stream, _ = acl.rt.create_stream()
    for _ in range(ROUNDS):
        for model_id, _, io in runs:
            assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0
    assert all(correct(run) for run in runs)
    assert sim.sanitizer.hazards == []
    acl.rt.destroy_stream(stream)
    teardown(acl, work_ptr, runs)


def test_shared_work_buffer_from_threads_without_a_lock_is_a_hazard(sim, sim_acl, entries):
    work_ptr, runs = shared_setup(sim_acl, entries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HazardWarning)
        in_threads(sim_acl, runs, lock=None)
    hazards = [h for h in sim.sanitizer.hazards if h.kind == "shared_work_concurrent"]
    assert hazards
    assert set(hazards[0].model_ids) == {runs[0][0], runs[1][0]}
    assert all(actor.startswith("thread") for actor in hazards[0].actors)
    assert f"{work_ptr:#x}" in hazards[0].message
    teardown(sim_acl, work_ptr, runs)


def test_shared_work_buffer_on_two_streams_is_a_hazard(sim, sim_acl, entries):
    acl = sim_acl
    work_ptr, runs = shared_setup(acl, entries)
    streams = [acl.rt.create_stream()[0] for _ in runs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HazardWarning)
        for _ in range(ROUNDS):
            for (model_id, _, io), stream in zip(runs, streams, strict=True):
                acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream)
        for stream in streams:
            acl.rt.synchronize_stream(stream)
    hazards = [h for h in sim.sanitizer.hazards if h.kind == "shared_work_concurrent"]
    assert hazards and all(actor.startswith("stream") for actor in hazards[0].actors)
    for stream in streams:
        acl.rt.destroy_stream(stream)
    teardown(acl, work_ptr, runs)


def test_one_model_on_two_streams_is_a_hazard(sim, sim_acl, entries):
    """The same model id must not run execute_async concurrently on two streams (§5.10)."""
    acl = sim_acl
    entry = entries[0]
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    streams = [acl.rt.create_stream()[0] for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HazardWarning)
        for _ in range(ROUNDS):
            for stream in streams:
                acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream)
        for stream in streams:
            acl.rt.synchronize_stream(stream)
    assert any(h.model_ids == (model_id, model_id) for h in sim.sanitizer.hazards)
    for stream in streams:
        acl.rt.destroy_stream(stream)
    io.release()
    acl.mdl.unload(model_id)


def test_error_mode_raises_and_off_mode_records_nothing(built_catalog):
    directory, manifest = built_catalog
    path = str(directory / manifest["models"]["mlp"]["file"])
    for mode in ("error", "off"):
        sim = Simulator(sanitizer=mode)
        acl = sim.acl
        acl.init()
        acl.rt.set_device(0)
        weight = acl.mdl.query_size(path)[1]
        weight_ptr, _ = acl.rt.malloc(weight, 0)
        acl.mdl.load_from_file_with_mem(path, 0, 0, weight_ptr, weight)
        if mode == "error":
            with pytest.raises(HazardError, match="freed_while_loaded"):
                acl.rt.free(weight_ptr)
        else:
            assert acl.rt.free(weight_ptr) == 0
            assert sim.sanitizer.hazards == []
        acl.finalize()


def test_a_bad_mode_is_refused(monkeypatch):
    from pytest_acl.sim import SimConfigError

    monkeypatch.setenv("PYTEST_ACL_SIM_SANITIZER", "loud")
    with pytest.raises(SimConfigError, match="PYTEST_ACL_SIM_SANITIZER.*off, warn, error"):
        Simulator.from_env()
