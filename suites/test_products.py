"""Product support lists (seeds/000, 001, 004): on an Atlas A2 (Ascend910B…) or A3
(Ascend910_93…) SoC the listed APIs exist and work; elsewhere these tests skip, naming the SoC."""

from __future__ import annotations

import pytest

from pytest_acl.oracles import execute_and_compare

A2_A3 = ("Ascend910B*", "Ascend910_93*")


@pytest.mark.acl_soc(*A2_A3)
@pytest.mark.acl_clause("products.load_from_mem.a2_a3", "products.query_size_from_mem.a2_a3",
                        "products.load_from_mem_with_mem.listed")
def test_listed_model_apis_work_on_a2_and_a3(acl, acl_device, acl_models):
    entry = acl_models["mlp"]
    data = entry.path.read_bytes()
    ptr = acl.util.bytes_to_ptr(data)
    work, weight, ret = acl.mdl.query_size_from_mem(ptr, len(data))
    assert ret == 0
    model_id, ret = acl.mdl.load_from_mem(ptr, len(data))
    assert ret == 0
    execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    assert acl.mdl.unload(model_id) == 0
    model_id, ret = acl.mdl.load_from_mem_with_mem(ptr, len(data), 0, 0, 0, 0)
    assert ret == 0 and acl.mdl.unload(model_id) == 0


@pytest.mark.acl_soc(*A2_A3)
@pytest.mark.acl_requires("mdl.bundle_init_from_file", "mdl.bundle_load_model_with_mem")
@pytest.mark.acl_clause("products.bundle_load_model_with_mem.a2_a3")
def test_bundle_load_model_with_mem_works_on_a2_and_a3(acl, acl_device, acl_models):
    entry = acl_models["bundle3"]
    bundle_id, ret = acl.mdl.bundle_init_from_file(str(entry.path), 0, 0)
    assert ret == 0
    model_id, ret = acl.mdl.bundle_load_model_with_mem(bundle_id, 0, 0, 0, 0, 0)
    assert ret == 0 and model_id != 0
    assert acl.mdl.bundle_unload(bundle_id) == 0
