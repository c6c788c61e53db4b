"""Bundles: every bundle variant loads every graph index with system and user memory and runs
the weight-update flow to the reference (graphs share variables); the index range, repeated
loads, unknown bundles, foreign graphs, init-mode lookups, the query flow and full release."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_acl.constants import (
    ACL_ERROR_API_NOT_SUPPORT,
    ACL_ERROR_INVALID_BUNDLE_MODEL_ID,
    ACL_ERROR_INVALID_PARAM,
)
from pytest_acl.om.bundle import read_bundle
from pytest_acl.oracles import device_used, execute_and_compare, refused, written
from pytest_acl.variants import (
    BUNDLE_VARIANTS,
    SYSTEM_ONLY,
    USER,
    Ownership,
    load_bundle_graph,
    open_bundle,
)

INIT_WITH_MEM = [v for v in BUNDLE_VARIANTS if v.family == "bundle_init" and v.with_mem]
INIT = [v for v in BUNDLE_VARIANTS if v.family == "bundle_init"]
QUERY_APIS = ("mdl.bundle_create_query_info", "mdl.bundle_query_info_from_file",
              "mdl.bundle_get_query_model_num", "mdl.bundle_get_var_weight_size",
              "mdl.bundle_get_size")


FLOW_CLAUSES = ("bundle.graphs_share_variables", "bundle.graph_count_matches_file",
                "bundle.unload_releases_everything", "bundle.unloaded_ids_refused",
                "load.outputs_match_reference")


def _param(variant, ownership=None):
    return variant.param(ownership or SYSTEM_ONLY[0], clauses=FLOW_CLAUSES,
                         label=ownership.id if ownership else "")


CASES = [_param(v) for v in BUNDLE_VARIANTS if not v.with_mem] + [
    _param(v, o) for v in INIT_WITH_MEM
    for o in (Ownership(), Ownership(USER, USER), Ownership(USER, USER, "larger"))]


@pytest.mark.parametrize(("variant", "ownership"), CASES)
def test_every_graph_loads_and_runs_the_weight_update_flow(acl, acl_device, acl_models,
                                                          variant, ownership):
    entry = acl_models["bundle3"]
    before = device_used(acl)
    bundle, ret = open_bundle(variant, acl, entry, user_variables=ownership.work == USER)
    assert ret == 0 and bundle.bundle_id != 0
    graphs = []
    try:
        count = len(read_bundle(entry.path.read_bytes()).models)
        if variant.family == "bundle_load":
            assert acl.mdl.bundle_get_model_num(bundle.bundle_id) == (count, 0)
        for index in range(count):  # var_init writes the variable, infer reads it, ...
            model_id, ret = load_bundle_graph(variant, bundle, entry, index, ownership)
            assert ret == 0 and model_id != 0
            graphs.append(model_id)
            execute_and_compare(acl, model_id, entry.inputs(index), entry.outputs(index))
        if "variables" in bundle.loaded.user_memory:
            written(acl, bundle.loaded, "variables", "var_init")
    finally:
        bundle.release()
    assert device_used(acl) == before
    assert_released(acl, bundle.bundle_id, graphs)


def assert_released(acl, bundle_id: int, graphs: list[int]) -> None:
    """The bundle and its graphs are gone as far as the API can tell, on any backend."""
    __tracebackhide__ = True
    refused(acl.mdl.bundle_get_model_num(bundle_id)[-1], f"a query of unloaded bundle {bundle_id}")
    desc = acl.mdl.create_desc()
    try:
        for model_id in graphs:
            refused(acl.mdl.get_desc(desc, model_id),
                    f"get_desc of graph {model_id} after its bundle was unloaded")
    finally:
        acl.mdl.destroy_desc(desc)


@pytest.mark.acl_clause("bundle.index_range", "bundle.index_out_of_range_code")
@pytest.mark.parametrize("variant", [v.param() for v in BUNDLE_VARIANTS])
@given(beyond=st.one_of(st.integers(0, 16), st.integers(0, 2**64 - 1)))
def test_index_at_or_beyond_the_count_is_refused(acl, acl_device, acl_models, acl_expect,
                                                  variant, beyond):
    entry = acl_models["bundle3"]
    bundle, ret = open_bundle(variant, acl, entry)
    assert ret == 0
    try:
        index = min(entry.data["graph_count"] + beyond, 2**64 - 1)
        model_id, ret = load_bundle_graph(variant, bundle, entry, index, SYSTEM_ONLY[0])
        refused(ret, f"graph index {index} of {entry.data['graph_count']}")
        assert model_id == 0
        acl_expect.code(ret, ACL_ERROR_INVALID_PARAM, "bundle.index_out_of_range_code")
    finally:
        bundle.release()


@pytest.mark.acl_clause("bundle.same_index_twice_new_id", "lifecycle.ids_unique_among_live_models")
@pytest.mark.parametrize("variant", [v.param() for v in INIT])
def test_same_index_twice_gives_two_ids(acl, acl_device, acl_models, acl_expect, variant):
    entry = acl_models["bundle3"]
    bundle, _ = open_bundle(variant, acl, entry)
    try:
        first, ret1 = load_bundle_graph(variant, bundle, entry, 1, SYSTEM_ONLY[0])
        second, ret2 = load_bundle_graph(variant, bundle, entry, 1, SYSTEM_ONLY[0])
        assert ret1 == 0
        acl_expect.code(ret2, 0, "bundle.same_index_twice_new_id")
        if ret2 == 0:
            assert first != second
    finally:
        bundle.release()


@pytest.mark.acl_clause("bundle.unknown_bundle_refused", "bundle.unknown_bundle_code",
                        "bundle.foreign_model_refused", "bundle.foreign_model_code",
                        "bundle.get_model_id_in_init_mode_not_supported",
                        "bundle.get_model_id_in_init_mode_code")
@pytest.mark.acl_requires("mdl.bundle_init_from_file", "mdl.bundle_load_model",
                          "mdl.bundle_unload_model", "mdl.bundle_load_from_file")
def test_unknown_bundles_foreign_graphs_and_init_mode_lookups(acl, acl_device, acl_models,
                                                             acl_expect):
    path = str(acl_models["bundle3"].path)
    loaded, _ = acl.mdl.bundle_load_from_file(path)
    one, _ = acl.mdl.bundle_init_from_file(path, 0, 0)
    two, _ = acl.mdl.bundle_init_from_file(path, 0, 0)
    try:
        unknown = max(loaded, one, two) + 1000
        num, ret = acl.mdl.bundle_get_model_num(unknown)
        acl_expect.refusal(ret, ACL_ERROR_INVALID_BUNDLE_MODEL_ID,
                           "bundle.unknown_bundle_refused", "bundle.unknown_bundle_code")
        acl_expect.refusal(acl.mdl.bundle_unload(unknown), ACL_ERROR_INVALID_BUNDLE_MODEL_ID,
                           "bundle.unknown_bundle_refused", "bundle.unknown_bundle_code")
        graph, _ = acl.mdl.bundle_load_model(one, 0)
        acl_expect.refusal(acl.mdl.bundle_unload_model(two, graph), ACL_ERROR_INVALID_PARAM,
                           "bundle.foreign_model_refused", "bundle.foreign_model_code")
        inner, _ = acl.mdl.bundle_get_model_id(loaded, 0)
        acl_expect.refusal(acl.mdl.unload(inner), ACL_ERROR_INVALID_PARAM,
                           "bundle.foreign_model_refused", "bundle.foreign_model_code")
        _, ret = acl.mdl.bundle_get_model_id(one, 0)
        acl_expect.refusal(ret, ACL_ERROR_API_NOT_SUPPORT,
                           "bundle.get_model_id_in_init_mode_not_supported",
                           "bundle.get_model_id_in_init_mode_code")
    finally:
        for bundle_id in (loaded, one, two):
            acl.mdl.bundle_unload(bundle_id)


def query_bundle(acl, entry, source: str) -> tuple[int, list[tuple[int, int]]]:
    """The variable size and each graph's (work, weight) sizes, as the query API reports them
    for the bundle file or its bytes."""
    info = acl.mdl.bundle_create_query_info()
    try:
        if source == "file":
            ret = acl.mdl.bundle_query_info_from_file(str(entry.path), info)
        else:
            data = entry.path.read_bytes()
            ret = acl.mdl.bundle_query_info_from_mem(acl.util.bytes_to_ptr(data), len(data), info)
        assert ret == 0, f"bundle_query_info_from_{source} returned {ret}"
        count, ret = acl.mdl.bundle_get_query_model_num(info)
        assert ret == 0
        var_size, ret = acl.mdl.bundle_get_var_weight_size(info)
        assert ret == 0
        sizes = []
        for index in range(count):
            work, weight, ret = acl.mdl.bundle_get_size(info, index)
            assert ret == 0, f"bundle_get_size({index}) returned {ret}"
            sizes.append((work, weight))
        return var_size, sizes
    finally:
        acl.mdl.bundle_destroy_query_info(info)


@pytest.mark.acl_clause("bundle.query_sizes_per_graph",
                        "bundle.graph_count_matches_file",
                        "sharing.work_serial_models_share_largest")
@pytest.mark.acl_requires(*QUERY_APIS, "mdl.bundle_query_info_from_mem", "mdl.bundle_unload_model")
@pytest.mark.parametrize("variant", [v.param() for v in INIT_WITH_MEM])
def test_query_flow_with_one_shared_work_buffer(acl, acl_device, acl_stream, acl_models,
                                                acl_hazards, variant):
    """query → init with user variables of the queried size → every graph with weights of
    its queried size and one work buffer sized to the largest graph → run serially on one
    stream → unload → free."""
    entry = acl_models["bundle3"]
    var_size, sizes = query_bundle(acl, entry, variant.source)
    assert len(sizes) == len(read_bundle(entry.path.read_bytes()).models)
    work = max(w for w, _ in sizes)
    work_ptr = acl.rt.malloc(work, 0)[0] if work else 0
    bundle, ret = open_bundle(variant, acl, entry, user_variables=True,
                              given={"variables": var_size})
    try:
        assert ret == 0, f"{variant.name} returned {ret}"
        ids = []
        for index, (_, weight) in enumerate(sizes):
            model_id, ret = load_bundle_graph(variant, bundle, entry, index, Ownership(USER, USER),
                                              given={"work": (work_ptr, work), "weight": weight})
            assert ret == 0, f"graph {index} with the queried sizes: {variant.name} returned {ret}"
            ids.append(model_id)
        for index, model_id in enumerate(ids):
            execute_and_compare(acl, model_id, entry.inputs(index), entry.outputs(index),
                                acl_stream)
        for model_id in ids:
            assert acl.mdl.bundle_unload_model(bundle.bundle_id, model_id) == 0
    finally:
        bundle.release()  # unloads the bundle, then frees its buffers
    if work_ptr:
        assert acl.rt.free(work_ptr) == 0
    assert acl_hazards.new() == []


@pytest.mark.acl_clause("bundle.too_small_variable_memory_refused",
                        "bundle.too_small_variable_memory_code")
@pytest.mark.acl_requires("mdl.bundle_init_from_file")
def test_too_small_variable_memory_is_refused(acl, acl_device, acl_models, acl_expect):
    entry = acl_models["bundle3"]
    var_size = entry.data["var_size"]
    ptr, ret = acl.rt.malloc(var_size, 0)
    assert ret == 0
    before = device_used(acl)
    bundle_id, ret = acl.mdl.bundle_init_from_file(str(entry.path), ptr, var_size - 1)
    try:
        acl_expect.refusal(ret, ACL_ERROR_INVALID_PARAM, "bundle.too_small_variable_memory_refused",
                           "bundle.too_small_variable_memory_code")
        assert device_used(acl) == before, "the refused init left device memory of its own"
    finally:
        if ret == 0:
            acl.mdl.bundle_unload(bundle_id)
        assert acl.rt.free(ptr) == 0


@pytest.mark.acl_clause("bundle.index_range", "bundle.index_out_of_range_code")
@pytest.mark.acl_requires(*QUERY_APIS, "mdl.bundle_query_info_from_mem")
def test_query_info_from_memory_and_the_size_index_range(acl, acl_device, acl_models,
                                                         acl_expect):
    """bundle_query_info_from_mem gives the file's graph count, and bundle_get_size refuses
    an index at or beyond it."""
    entry = acl_models["bundle3"]
    data = entry.path.read_bytes()
    info = acl.mdl.bundle_create_query_info()
    try:
        assert acl.mdl.bundle_query_info_from_mem(acl.util.bytes_to_ptr(data), len(data),
                                                  info) == 0
        count, ret = acl.mdl.bundle_get_query_model_num(info)
        assert ret == 0 and count == len(read_bundle(data).models)
        for index in range(count):
            assert acl.mdl.bundle_get_size(info, index)[-1] == 0
        for index in (count, count + 1):
            *sizes, ret = acl.mdl.bundle_get_size(info, index)
            acl_expect.refusal(ret, ACL_ERROR_INVALID_PARAM, "bundle.index_range",
                               "bundle.index_out_of_range_code")
            assert sizes == [0, 0], f"a refused bundle_get_size({index}) gave sizes {sizes}"
    finally:
        acl.mdl.bundle_destroy_query_info(info)
