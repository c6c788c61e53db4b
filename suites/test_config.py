"""Config-based loading: required attributes, invalid attributes and values, and a handle
that may be destroyed after the load (reference/acl-api.md §2.1)."""

from __future__ import annotations

import pytest

from pytest_acl.constants import ACL_ERROR_INVALID_PARAM
from pytest_acl.constants import MdlConfigAttr as A
from pytest_acl.constants import MdlLoadType as T
from pytest_acl.oracles import execute_and_compare

pytestmark = pytest.mark.acl_requires("mdl.create_config_handle", "mdl.set_config_opt",
                                      "mdl.load_with_config")

# Each case lacks exactly one required attribute; the others are right (MODEL_ADDRESS and
# MODEL_SIZE stand for a real model in host memory), so only the missing one can refuse it.
MODEL_ADDRESS, MODEL_SIZE = "model address", "model size"
MISSING = {
    "no_load_type": [(A.ACL_MDL_MEM_ADDR_PTR, MODEL_ADDRESS), (A.ACL_MDL_MEM_SIZET, MODEL_SIZE)],
    "file_without_path": [(A.ACL_MDL_LOAD_TYPE_SIZET, T.ACL_MDL_LOAD_FROM_FILE)],
    "mem_without_address": [(A.ACL_MDL_LOAD_TYPE_SIZET, T.ACL_MDL_LOAD_FROM_MEM),
                            (A.ACL_MDL_MEM_SIZET, MODEL_SIZE)],
    "mem_without_size": [(A.ACL_MDL_LOAD_TYPE_SIZET, T.ACL_MDL_LOAD_FROM_MEM),
                         (A.ACL_MDL_MEM_ADDR_PTR, MODEL_ADDRESS)],
}
INVALID = {"unknown_attribute": (99, 1), "load_type_0": (A.ACL_MDL_LOAD_TYPE_SIZET, 0),
           "load_type_7": (A.ACL_MDL_LOAD_TYPE_SIZET, 7),
           "optimize_huge": (A.ACL_MDL_WORKSPACE_MEM_OPTIMIZE, 2**64 - 1),
           "null_model_address": (A.ACL_MDL_MEM_ADDR_PTR, 0)}


@pytest.fixture
def handle(acl, acl_device):
    value = acl.mdl.create_config_handle()
    assert value != 0
    yield value
    acl.mdl.destroy_config_handle(value)


@pytest.mark.acl_clause("config.missing_required_attribute_refused",
                        "config.missing_required_attribute_code")
@pytest.mark.parametrize("case", sorted(MISSING))
def test_missing_required_attributes(acl, handle, acl_models, acl_expect, case):
    data = acl_models["mlp"].path.read_bytes()
    real = {MODEL_ADDRESS: acl.util.bytes_to_ptr(data), MODEL_SIZE: len(data)}
    for attr, value in MISSING[case]:
        assert acl.mdl.set_config_opt(handle, int(attr), int(real.get(value, value))) == 0
    model_id, ret = acl.mdl.load_with_config(handle)
    acl_expect.refusal(ret, ACL_ERROR_INVALID_PARAM, "config.missing_required_attribute_refused",
                       "config.missing_required_attribute_code")
    assert model_id == 0, f"load_with_config with {case} returned model id {model_id}"


@pytest.mark.acl_clause("config.invalid_attribute_or_value_refused",
                        "config.invalid_attribute_or_value_code")
@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_attributes_and_values(acl, handle, acl_expect, case):
    attr, value = INVALID[case]
    ret = acl.mdl.set_config_opt(handle, int(attr), value)
    acl_expect.refusal(ret, ACL_ERROR_INVALID_PARAM, "config.invalid_attribute_or_value_refused",
                       "config.invalid_attribute_or_value_code")


@pytest.mark.acl_clause("config.handle_destroyable_after_load", "config.each_load_type_loads")
def test_handle_destroyed_after_load_leaves_a_working_model(acl, acl_device, acl_models):
    entry = acl_models["multi_io"]
    handle = acl.mdl.create_config_handle()
    assert acl.mdl.set_config_opt(handle, int(A.ACL_MDL_LOAD_TYPE_SIZET),
                                  int(T.ACL_MDL_LOAD_FROM_FILE)) == 0
    assert acl.mdl.set_config_opt(handle, int(A.ACL_MDL_PATH_PTR), str(entry.path)) == 0
    model_id, ret = acl.mdl.load_with_config(handle)
    assert ret == 0
    assert acl.mdl.destroy_config_handle(handle) == 0
    execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    assert acl.mdl.unload(model_id) == 0
