"""Size queries: what they report, that file and memory agree with each other and with the
file, that the query → malloc → load flow works, and what a system-managed load takes."""

from __future__ import annotations

import pytest

from pytest_acl.om.reader import expected_sizes, read_model
from pytest_acl.oracles import device_used, execute_and_compare
from pytest_acl.variants import MODEL_WITH_MEM, USER, Ownership, load_model

MODELS = ("mlp", "conv", "noweights", "multi_io", "bigweights", "dyn_shape")


def query_both(acl, entry):
    data = entry.path.read_bytes()
    from_file = acl.mdl.query_size(str(entry.path))
    from_mem = acl.mdl.query_size_from_mem(acl.util.bytes_to_ptr(data), len(data))
    return data, from_file, from_mem


@pytest.mark.acl_clause("query.reports_work_and_weight", "query.from_mem_equals_from_file",
                        "query.sizes_from_the_file", "products.query_size_from_mem.a2_a3")
@pytest.mark.parametrize("model", MODELS)
def test_queries_agree_with_each_other_and_the_file(acl, acl_device, acl_models, acl_expect,
                                                   model):
    data, from_file, from_mem = query_both(acl, acl_models[model])
    assert from_file[2] == 0 and from_mem[2] == 0
    assert from_file == from_mem
    acl_expect.value(from_file[:2], expected_sizes(read_model(data)), "query.sizes_from_the_file")


@pytest.mark.acl_clause("query.dynamic_reports_work_zero",
                        "query.dynamic_shape_not_for_user_memory")
def test_dynamic_model_query(acl, acl_device, acl_models, acl_expect):
    entry = acl_models["dyn_shape"]
    work, weight, ret = acl.mdl.query_size(str(entry.path))
    acl_expect.code(ret, 0, "query.dynamic_reports_work_zero")
    acl_expect.value(work, 0, "query.dynamic_reports_work_zero")
    acl_expect.value(weight, entry.weight_size, "query.dynamic_reports_work_zero")


@pytest.mark.acl_clause("query.before_allocating_user_memory", "with_mem.queried_sizes_suffice",
                        "query.sizes_are_device_memory")
@pytest.mark.parametrize("model", ("mlp", "conv", "multi_io"))
@pytest.mark.parametrize("variant", [v.param() for v in MODEL_WITH_MEM])
def test_query_malloc_load_flow(acl, acl_device, acl_models, variant, model):
    """query (from the file or the bytes, as the variant loads) → malloc exactly that →
    load with it → execute → unload → free."""
    entry = acl_models[model]
    loaded, ret = load_model(variant, acl, entry, Ownership(USER, USER))
    try:
        assert ret == 0, f"{variant.name} with the queried sizes returned {ret}"
        execute_and_compare(acl, loaded.model_id, entry.inputs(), entry.outputs())
    finally:
        loaded.release()


@pytest.mark.acl_clause("query.system_load_consumes_queried_memory")
@pytest.mark.parametrize("model", ("mlp", "conv", "bigweights"))
def test_system_managed_load_takes_the_queried_memory(acl, acl_device, acl_models, model):
    entry = acl_models[model]
    work, weight, _ = acl.mdl.query_size(str(entry.path))
    before = device_used(acl)
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    assert ret == 0
    taken = device_used(acl) - before
    assert work + weight <= taken <= 2 * (work + weight) + 2**20, (
        f"a system-managed load took {taken} bytes for {work} work + {weight} weight")
    assert acl.mdl.unload(model_id) == 0
    assert device_used(acl) == before
