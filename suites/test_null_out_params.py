"""NULL out-parameters: refused with ACL_ERROR_INVALID_PARAM, leaving nothing behind.

pyACL always passes its own variables for outputs, so only a C caller can pass NULL: these
tests call the C functions through ``acl.capi`` (the capi backend; None is NULL, ``OUT`` an
out-parameter allocated and returned) and skip as "not exposed by this backend" elsewhere. Each
first makes the same call with every out-parameter given, so a refusal is the NULL's doing.
A NULL desc is an input, which pyACL passes as 0: that one runs on every backend.
"""

from __future__ import annotations

import pytest

from pytest_acl.constants import AclError
from pytest_acl.oracles import device_used

INVALID = AclError.ACL_ERROR_INVALID_PARAM.value


def status(result):
    """The C function's aclError: the result alone, or last after the OUT values."""
    return result[-1] if isinstance(result, tuple) else result


@pytest.mark.acl_clause("null_out.query_size_code")
@pytest.mark.acl_requires("capi.aclmdlQuerySize", "capi.aclmdlQuerySizeFromMem")
@pytest.mark.parametrize("null", ["work", "weight", "both"])
def test_query_size_with_a_null_size_pointer(acl, acl_device, acl_models, acl_expect, null):
    c = acl.capi
    entry = acl_models["mlp"]
    path, data = str(entry.path), entry.path.read_bytes()
    work = None if null in ("work", "both") else c.OUT
    weight = None if null in ("weight", "both") else c.OUT
    assert c.aclmdlQuerySize(path, c.OUT, c.OUT) == acl.mdl.query_size(path)
    # the model's bytes in host memory, passed by address as C takes them
    assert c.aclmdlQuerySizeFromMem(data, len(data), c.OUT, c.OUT) == acl.mdl.query_size(path)
    acl_expect.code(status(c.aclmdlQuerySize(path, work, weight)), INVALID,
                    "null_out.query_size_code")
    acl_expect.code(status(c.aclmdlQuerySizeFromMem(data, len(data), work, weight)), INVALID,
                    "null_out.query_size_code")


@pytest.mark.acl_clause("null_out.load_model_id_code")
@pytest.mark.acl_requires("capi.aclmdlLoadFromFile", "capi.aclmdlLoadFromMem",
                          "capi.aclmdlLoadFromFileWithMem", "capi.aclmdlLoadFromMemWithMem")
@pytest.mark.parametrize("load", ["file", "mem", "file_with_mem", "mem_with_mem"])
def test_load_with_a_null_model_id(acl, acl_device, acl_models, acl_expect, load):
    c = acl.capi
    entry = acl_models["mlp"]
    path, data = str(entry.path), entry.path.read_bytes()
    calls = {  # system-managed work and weights: NULL pointers with any size
        "file": lambda model_id: c.aclmdlLoadFromFile(path, model_id),
        "mem": lambda model_id: c.aclmdlLoadFromMem(data, len(data), model_id),
        "file_with_mem": lambda model_id: c.aclmdlLoadFromFileWithMem(
            path, model_id, None, 0, None, 0),
        "mem_with_mem": lambda model_id: c.aclmdlLoadFromMemWithMem(
            data, len(data), model_id, None, 0, None, 0),
    }
    model_id, ret = calls[load](c.OUT)
    assert ret == 0, f"the load with a modelId out-pointer returned {ret}"
    assert acl.mdl.unload(model_id) == 0
    before = device_used(acl)
    acl_expect.code(status(calls[load](None)), INVALID, "null_out.load_model_id_code")
    acl_expect.value(device_used(acl), before, "null_out.load_model_id_code")


@pytest.mark.acl_clause("null_out.bundle_id_code")
@pytest.mark.acl_requires("capi.aclmdlBundleLoadFromFile", "capi.aclmdlBundleInitFromFile")
@pytest.mark.parametrize("entry_point", ["load", "init"])
def test_bundle_with_a_null_bundle_id(acl, acl_device, acl_models, acl_expect, entry_point):
    c = acl.capi
    path = str(acl_models["bundle3"].path)

    def call(bundle_id):
        if entry_point == "load":
            return c.aclmdlBundleLoadFromFile(path, bundle_id)
        return c.aclmdlBundleInitFromFile(path, None, 0, bundle_id)

    bundle_id, ret = call(c.OUT)
    assert ret == 0, f"the bundle {entry_point} with a bundleId out-pointer returned {ret}"
    assert acl.mdl.bundle_unload(bundle_id) == 0
    before = device_used(acl)
    acl_expect.code(status(call(None)), INVALID, "null_out.bundle_id_code")
    acl_expect.value(device_used(acl), before, "null_out.bundle_id_code")


@pytest.mark.acl_clause("null_out.malloc_dev_ptr_code")
@pytest.mark.acl_requires("capi.aclrtMalloc")
def test_malloc_with_a_null_dev_ptr(acl, acl_device, acl_expect):
    c = acl.capi
    pointer, ret = c.aclrtMalloc(c.OUT, 4096, 0)
    assert ret == 0 and pointer != 0
    assert acl.rt.free(pointer) == 0
    before = device_used(acl)
    acl_expect.code(status(c.aclrtMalloc(None, 4096, 0)), INVALID,
                    "null_out.malloc_dev_ptr_code")
    acl_expect.value(device_used(acl), before, "null_out.malloc_dev_ptr_code")


@pytest.mark.acl_clause("null_out.get_desc_code")
def test_get_desc_into_a_null_desc(acl, acl_device, acl_models, acl_expect):
    model_id, ret = acl.mdl.load_from_file(str(acl_models["mlp"].path))
    assert ret == 0
    try:
        acl_expect.code(acl.mdl.get_desc(0, model_id), INVALID, "null_out.get_desc_code")
    finally:
        assert acl.mdl.unload(model_id) == 0
