"""Concurrent calls from several threads are safe: loads, executions and unloads of separate
models in parallel keep ids unique, outputs correct and memory balanced."""

from __future__ import annotations

import threading

import numpy as np

from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry

THREADS, ROUNDS = 4, 8


def test_parallel_load_execute_unload(sim, sim_acl, built_catalog):
    directory, manifest = built_catalog
    acl = sim_acl
    entries = [ModelEntry(directory, manifest["models"][n])
               for n in ("mlp", "conv", "noweights", "multi_io")]
    context, _ = acl.rt.get_context()
    before = sim.live_counts()
    ids: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(entry: ModelEntry) -> None:
        acl.rt.set_context(context)
        for _ in range(ROUNDS):
            model_id, ret = acl.mdl.load_from_file(str(entry.path))
            with lock:
                ids.append(model_id)
            io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
            if acl.mdl.execute(model_id, io.in_ds, io.out_ds) != 0 or not all(
                    np.allclose(io.outputs()[k], v, rtol=1e-4, atol=1e-5)
                    for k, v in entry.outputs().items()):
                failures.append(entry.name)
            io.release()
            if ret or acl.mdl.unload(model_id):
                failures.append(f"{entry.name}: load/unload")

    threads = [threading.Thread(target=worker, args=(entries[i % len(entries)],))
               for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(ids) == len(set(ids)) == THREADS * ROUNDS
    assert sim.live_counts() == before
    assert sim.sanitizer.hazards == []
