"""Every load variant × memory ownership × model: loads, runs to the reference outputs,
describes the model the same way, and gives all memory back on unload."""

from __future__ import annotations

import pytest

from pytest_acl.oracles import (
    description,
    device_used,
    execute_and_compare,
    uses_the_user_memory,
    written,
)
from pytest_acl.variants import MODEL_VARIANTS, USER, load_model

MODELS = ("mlp", "conv", "noweights", "multi_io")


def _case(variant, ownership):
    """The variant with one ownership, and the ownership's clauses."""
    clauses = []
    if variant.with_mem:
        clauses += ["with_mem.work_ptr_null_is_system_managed" if ownership.work != USER
                    else "with_mem.queried_sizes_suffice",
                    "with_mem.weight_ptr_null_is_system_managed" if ownership.weight != USER
                    else "with_mem.user_memory_is_device_memory_used_by_the_model"]
        if USER not in (ownership.work, ownership.weight):
            clauses += ["with_mem.work_size_ignored_when_null",
                        "with_mem.weight_size_ignored_when_null"]
    return variant.param(ownership, clauses=tuple(clauses), label=ownership.id)


CASES = [_case(v, o) for v in MODEL_VARIANTS for o in v.ownerships]


@pytest.fixture(params=["default_context", "created_context"])
def context(request, acl, acl_device):
    """The context the model lives in: the device's default one, or one created for it."""
    if request.param == "default_context":
        yield acl.rt.get_context()[0]
        return
    yield request.getfixturevalue("acl_context")


@pytest.fixture(params=["sync", "async"])
def stream(request, acl, context):
    """None for aclmdlExecute, else a stream (in the test's context) for aclmdlExecuteAsync."""
    if request.param == "sync":
        yield None
        return
    created, ret = acl.rt.create_stream()
    assert ret == 0
    yield created
    assert acl.rt.destroy_stream(created) == 0


@pytest.mark.acl_clause("load.outputs_match_reference", "load.descriptions_agree_across_load_paths",
                        "lifecycle.unload_releases_memory",
                        "context.load_execute_unload_same_context")
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(("variant", "ownership"), CASES)
def test_variant_loads_runs_and_unloads(acl, context, stream, acl_models, variant, ownership,
                                        model):
    entry = acl_models[model]
    before = device_used(acl)
    loaded, ret = load_model(variant, acl, entry, ownership)
    try:
        assert ret == 0 and loaded.model_id != 0, f"{variant.name} returned {ret}"
        if loaded.user_memory:
            own = (entry.work_size if ownership.work != USER else 0) + \
                (entry.weight_size if ownership.weight != USER else 0)
            uses_the_user_memory(acl, loaded, before, own)
        execute_and_compare(acl, loaded.model_id, entry.inputs(), entry.outputs(), stream)
        if "work" in loaded.user_memory:
            written(acl, loaded, "work", "an execution")
        desc = description(acl, loaded.model_id)
        assert [(name, dims, size) for name, dims, size, _ in desc["inputs"]] == [
            (t["name"], tuple(t["shape"]), t["nbytes"]) for t in entry.data["inputs"]]
        assert [(name, dims, size) for name, dims, size, _ in desc["outputs"]] == [
            (t["name"], tuple(t["shape"]), t["nbytes"]) for t in entry.data["outputs"]]
    finally:
        loaded.release()
    assert device_used(acl) == before


@pytest.mark.acl_clause("query.dynamic_shape_not_for_user_memory", "load.outputs_match_reference")
@pytest.mark.parametrize("variant", [v.param() for v in MODEL_VARIANTS if not v.with_mem])
def test_dynamic_model_loads_with_system_memory(acl, acl_device, acl_models, variant):
    entry = acl_models["dyn_shape"]
    loaded, ret = load_model(variant, acl, entry, variant.ownerships[0])
    try:
        assert ret == 0
        execute_and_compare(acl, loaded.model_id, entry.inputs(), entry.outputs())
    finally:
        loaded.release()


@pytest.mark.acl_clause("load.outputs_match_reference", "with_mem.queried_sizes_suffice")
@pytest.mark.parametrize("variant", [v.param() for v in MODEL_VARIANTS
                                     if v.name in ("file", "mem_with_mem")])
def test_large_weights_load_and_run(acl, acl_device, acl_models, variant):
    from pytest_acl.variants import Ownership

    entry = acl_models["bigweights"]
    before = device_used(acl)
    loaded, ret = load_model(variant, acl, entry, Ownership(USER, USER) if variant.with_mem
                             else Ownership())
    try:
        assert ret == 0
        execute_and_compare(acl, loaded.model_id, entry.inputs(), entry.outputs())
    finally:
        loaded.release()
    assert device_used(acl) == before
