"""The library's exports, called in-process with cffi values (no build needed): C arguments
become the simulator's pyACL call, outputs land in out-pointers only on success, structs are
filled, and no Python exception reaches C."""

from __future__ import annotations

import cffi
import pytest

from pytest_acl.capi import prototypes
from pytest_acl.capi.simlib.exports import Exports
from pytest_acl.sim.pyargs import INTERNAL_ERRORS

API = prototypes.load()


@pytest.fixture(scope="module")
def ffi():
    module = cffi.FFI()
    module.cdef(API.cdef_types())
    return module


@pytest.fixture
def exports(ffi, sim_acl):
    return Exports(ffi, sim_acl)


def export(exports, name):
    return exports.make(API.functions[name])


def test_outputs_are_written_on_success_only(ffi, exports, sim_acl):
    pointer = ffi.new("void **")
    assert export(exports, "aclrtMalloc")(pointer, 100, 0) == 0
    address = int(ffi.cast("uintptr_t", pointer[0]))
    assert address and sim_acl.rt.free(address) == 0
    pointer[0] = ffi.cast("void *", 7)
    assert export(exports, "aclrtMalloc")(pointer, 0, 0) == 100000  # size 0 (§3.1)
    assert int(ffi.cast("uintptr_t", pointer[0])) == 7


def test_a_null_out_parameter_is_refused_before_the_call(ffi, exports, sim_acl):
    used = sim_acl.__simulator__.live_counts()["device0.bytes_in_use"]
    assert export(exports, "aclrtMalloc")(ffi.NULL, 100, 0) == 100000
    assert sim_acl.__simulator__.live_counts()["device0.bytes_in_use"] == used
    assert "the out-parameter devPtr is NULL" in sim_acl.get_recent_err_msg()


def test_strings_handles_and_structs(ffi, exports, sim_acl, built_catalog):
    directory, manifest = built_catalog
    path = ffi.new("char[]", str(directory / manifest["models"]["mlp"]["file"]).encode())
    model_id = ffi.new("uint32_t *")
    assert export(exports, "aclmdlLoadFromFile")(path, model_id) == 0
    desc = export(exports, "aclmdlCreateDesc")()
    assert ffi.typeof(desc).cname == "aclmdlDesc *" and desc != ffi.NULL
    assert export(exports, "aclmdlGetDesc")(desc, model_id[0]) == 0
    dims = ffi.new("aclmdlIODims *")
    assert export(exports, "aclmdlGetOutputDims")(desc, 0, dims) == 0
    assert (ffi.string(dims.name), dims.dimCount, list(dims.dims[0:2])) == (b"y", 2, [4, 10])
    name = export(exports, "aclmdlGetInputNameByIndex")(desc, 0)
    assert ffi.string(name) == b"x"
    assert export(exports, "aclmdlGetInputNameByIndex")(desc, 0) == name  # kept, not remade
    assert export(exports, "aclmdlGetNumOutputs")(desc) == 1
    assert export(exports, "aclmdlDestroyDesc")(desc) == 0
    assert export(exports, "aclmdlUnload")(model_id[0]) == 0
    assert export(exports, "aclmdlLoadFromFile")(ffi.NULL, model_id) == 100000


@pytest.mark.internal_errors_expected
def test_a_simulator_bug_is_an_internal_error_not_an_exception(ffi, sim_acl):
    class Broken:
        class rt:
            @staticmethod
            def get_device():
                raise KeyError("bug")

    exports = Exports(ffi, Broken)
    before = INTERNAL_ERRORS.count
    out = ffi.new("int32_t *", 5)
    assert exports.make(API.functions["aclrtGetDevice"])(out) == 500000
    assert out[0] == 5
    assert INTERNAL_ERRORS.count == before + 1
    assert "aclrtGetDevice: internal simulator error KeyError" in INTERNAL_ERRORS.recent[-1]


def test_an_argument_pyacl_refuses_is_invalid_param(ffi, exports):
    """A path that is not UTF-8 (a C program may pass any bytes) cannot be a pyACL str."""
    path = ffi.new("char[]", b"\xff\xfe.om")
    assert export(exports, "aclmdlLoadFromFile")(path, ffi.new("uint32_t *")) == 100000
