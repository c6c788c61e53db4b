"""The headers as pytest_acl/capi/prototypes.py reads them: every function the simulator
emulates with a C counterpart is declared, its pyACL name, format and return shape follow from
the C prototype (or pyACL's difference is named), and the roles of parameters are right."""

from __future__ import annotations

import cffi
import pytest

from pytest_acl.capi import prototypes
from pytest_acl.capi.prototypes import BUFFER, IN, OUT, HeaderError, pyacl_name, read_headers
from pytest_acl.sim import surface

API = prototypes.load()
TABLE = surface.load()
EMULATED = [(f.qualname, f.format.replace("|", ""), f.outputs, f.returns_ret)
            for f in TABLE.functions if f.emulated]
EXTRAS = [(e.qualname, e.format, e.outputs, e.returns_ret) for e in TABLE.extras]
WITH_C = [entry for entry in EMULATED + EXTRAS if entry[0] not in prototypes.NO_C_COUNTERPART]


def test_every_emulated_function_with_a_c_counterpart_is_declared():
    missing = [name for name, *_ in EMULATED + EXTRAS
               if API.by_pyacl(name) is None and name not in prototypes.NO_C_COUNTERPART]
    assert missing == []
    # and the exceptions are real: none of them is declared after all
    assert [n for n in prototypes.NO_C_COUNTERPART if API.by_pyacl(n)] == []


def test_every_declared_function_is_one_the_simulator_has():
    names = {name for name, *_ in EMULATED + EXTRAS}
    assert [f.name for f in API.functions.values() if f.pyacl_name not in names] == []


@pytest.mark.parametrize(("name", "fmt", "outputs", "returns_ret"), WITH_C,
                         ids=[entry[0] for entry in WITH_C])
def test_the_pyacl_form_follows_from_the_c_prototype(name, fmt, outputs, returns_ret):
    function = API.by_pyacl(name)
    differs = function.differs
    if differs is None or differs.kind != "arguments":
        assert function.pyacl_format == fmt, [(p.name, p.ctype) for p in function.inputs]
    else:  # the listed difference is needed: the rule would give another format
        assert function.pyacl_format != fmt
    assert function.returns_error == returns_ret
    if returns_ret and (differs is None or differs.kind != "outputs"):
        assert len(function.outputs) == outputs
    if not returns_ret:
        assert function.outputs == ()


@pytest.mark.parametrize(("c_name", "expected"), [
    ("aclmdlLoadFromFile", "acl.mdl.load_from_file"),
    ("aclmdlLoadFromMemWithMem", "acl.mdl.load_from_mem_with_mem"),
    ("aclmdlGetDynamicHW", "acl.mdl.get_dynamic_hw"),
    ("aclmdlSetDynamicHWSize", "acl.mdl.set_dynamic_hw_size"),
    ("aclmdlExecuteV2", "acl.mdl.execute_v2"),
    ("aclrtMallocAlign32", "acl.rt.malloc_align32"),
    ("aclGetDataBufferSizeV2", "acl.get_data_buffer_size_v2"),
    ("aclrtGetCurrentContext", "acl.rt.get_context"),
    ("aclrtUnSubscribeReport", "acl.rt.unsubscribe_report"),
    ("aclmdlBundleLoadModelWithMem", "acl.mdl.bundle_load_model_with_mem"),
])
def test_pyacl_names(c_name, expected):
    assert pyacl_name(c_name) == expected
    assert API.by_pyacl(expected).name == c_name


def test_a_name_that_is_not_ascendcl_is_refused():
    with pytest.raises(ValueError, match="not an AscendCL name"):
        pyacl_name("cudaMalloc")


@pytest.mark.parametrize(("function", "roles"), [
    ("aclmdlQuerySize", {"fileName": (IN, "string"), "workSize": (OUT, "int"),
                         "weightSize": (OUT, "int")}),
    ("aclmdlLoadFromMemWithMem", {"model": (IN, "pointer"), "modelSize": (IN, "int"),
                                  "modelId": (OUT, "int"), "workPtr": (BUFFER, "pointer"),
                                  "workSize": (IN, "int"), "weightPtr": (BUFFER, "pointer"),
                                  "weightSize": (IN, "int")}),
    ("aclrtMalloc", {"devPtr": (OUT, "pointer"), "size": (IN, "int"), "policy": (IN, "enum")}),
    ("aclrtCreateContext", {"context": (OUT, "handle"), "deviceId": (IN, "int")}),
    ("aclrtGetRunMode", {"runMode": (OUT, "enum")}),
    ("aclmdlGetDesc", {"modelDesc": (IN, "handle"), "modelId": (IN, "int")}),
    ("aclmdlGetInputDims", {"modelDesc": (IN, "handle"), "index": (IN, "int"),
                            "dims": (OUT, "struct")}),
    ("aclmdlSetInputDynamicDims", {"modelId": (IN, "int"), "dataset": (IN, "handle"),
                                   "index": (IN, "int"), "dims": (IN, "struct")}),
    ("aclrtMemcpy", {"dst": (BUFFER, "pointer"), "destMax": (IN, "int"),
                     "src": (IN, "pointer"), "count": (IN, "int"), "kind": (IN, "enum")}),
    ("aclrtLaunchCallback", {"fn": (IN, "callback"), "userData": (BUFFER, "pointer"),
                             "blockType": (IN, "enum"), "stream": (IN, "handle")}),
])
def test_roles_by_rule(function, roles):
    params = API.functions[function].params
    assert {p.name: (p.role, p.kind) for p in params} == roles


def test_the_documented_prototypes_exactly():
    """A few prototypes as reference/acl-api.md §1.1, §1.5 and the seed pages print them."""
    declared = {f.name: f.declaration() for f in API.functions.values()}
    assert declared["aclmdlQuerySizeFromMem"] == (
        "aclError aclmdlQuerySizeFromMem(const void *model, size_t modelSize, "
        "size_t *workSize, size_t *weightSize);")
    assert declared["aclmdlLoadFromFileWithMem"] == (
        "aclError aclmdlLoadFromFileWithMem(const char *modelPath, uint32_t *modelId, "
        "void *workPtr, size_t workSize, void *weightPtr, size_t weightSize);")
    assert declared["aclmdlBundleLoadModelWithMem"] == (
        "aclError aclmdlBundleLoadModelWithMem(uint32_t bundleId, size_t index, "
        "void *workPtr, size_t workSize, void *weightPtr, size_t weightSize, "
        "uint32_t *modelId);")
    assert declared["aclmdlCreateDesc"] == "aclmdlDesc *aclmdlCreateDesc(void);"


def test_constants_and_enums_are_the_projects_own():
    """Every aclError code and enum of pytest_acl/constants.py is in the headers with its
    value, and the headers have no code the project does not know."""
    from pytest_acl import constants

    for enum in constants.EXPORTED_ENUMS:
        if enum is constants.MdlLoadType:
            continue  # macros, checked below with the rest
        for member in enum:
            assert API.constants.get(member.name) == member.value, member.name
    for member in constants.MdlLoadType:
        assert API.constants[member.name] == member.value
    codes = {n for n in API.constants if n.startswith("ACL_ERROR_") and n != "ACL_ERROR_NONE"}
    assert codes == {m.name for m in constants.AclError if m.name != "ACL_SUCCESS"}
    assert API.strings["ACL_DYNAMIC_TENSOR_NAME"] == constants.ACL_DYNAMIC_TENSOR_NAME


def test_the_cdef_is_one_cffi_reads_and_lays_out_as_c():
    ffi = cffi.FFI()
    ffi.cdef(API.cdef())
    assert ffi.sizeof("aclmdlIODims") == 128 + 8 + 128 * 8
    assert ffi.sizeof("aclmdlHW") == 8 + 128 * 2 * 8
    assert ffi.typeof("aclError").cname == "int"
    assert int(ffi.cast("aclrtMemcpyKind", 2)) == 2


def test_an_unreadable_header_is_named(tmp_path):
    (tmp_path / "acl").mkdir()
    (tmp_path / "acl" / "acl.h").write_text(
        "typedef int aclError;\nACL_FUNC_VISIBILITY aclError aclInit(struct x (*y)[2]);\n")
    with pytest.raises(HeaderError, match=r"acl/acl\.h: cannot read the declaration"):
        read_headers(tmp_path)


def test_an_unknown_parameter_type_is_named(tmp_path):
    (tmp_path / "acl").mkdir()
    (tmp_path / "acl" / "acl.h").write_text(
        "typedef int aclError;\nACL_FUNC_VISIBILITY aclError aclInit(mystery_t m);\n")
    with pytest.raises(HeaderError, match="'mystery_t' is not a known type"):
        read_headers(tmp_path)


# Every AscendCL name the official C++ sample's model code uses (Ascend/samples
# cplusplus/level2_simple_inference/1_classification/resnet50_imagenet_classification/src:
# model_process.cpp, sample_process.cpp, utils.cpp; reference/acl-api.md §0 SAMPLES, §5.14).
_SAMPLE_TEXT = """
aclCreateDataBuffer aclDataBuffer aclDestroyDataBuffer aclError aclFinalize
aclGetDataBufferAddr aclGetDataBufferSizeV2 aclInit aclmdlAddDatasetBuffer aclmdlCreateDataset
aclmdlCreateDesc aclmdlDataset aclmdlDesc aclmdlDestroyDataset aclmdlDestroyDesc aclmdlExecute
aclmdlGetDatasetBuffer aclmdlGetDatasetNumBuffers aclmdlGetDesc aclmdlGetInputSizeByIndex
aclmdlGetNumOutputs aclmdlGetOutputSizeByIndex aclmdlLoadFromFileWithMem aclmdlQuerySize
aclmdlUnload aclrtContext aclrtCreateContext aclrtCreateStream aclrtDestroyContext
aclrtDestroyStream aclrtFree aclrtFreeHost aclrtGetRunMode aclrtMalloc aclrtMallocHost
aclrtMemcpy aclrtResetDevice aclrtRunMode aclrtSetDevice aclrtStream
ACL_SUCCESS ACL_MEM_MALLOC_HUGE_FIRST ACL_MEM_MALLOC_NORMAL_ONLY ACL_MEMCPY_HOST_TO_DEVICE
ACL_MEMCPY_DEVICE_TO_HOST ACL_MEMCPY_DEVICE_TO_DEVICE ACL_HOST ACL_DEVICE
"""
SAMPLE_NAMES = frozenset(_SAMPLE_TEXT.split())


def test_every_name_the_official_sample_uses_is_declared():
    declared = (set(API.functions) | set(API.constants) | set(API.enums) | API.opaque
                | API.pointers | API.scalars | API.structs)
    assert sorted(SAMPLE_NAMES - declared) == []


def test_the_variadic_aclapplog_and_its_macro_are_read_apart_from_the_pyacl_functions():
    """aclAppLog (acl_base.h, as hicann/runtime acl_base_rt.h declares it) is read with its
    ``...``, kept out of the functions with a pyACL form (no Python implementation, no binding:
    acl.app_log stays in NO_C_COUNTERPART), and in the cdef a binding reads; ACL_APP_LOG is
    a function-like macro, aclLogLevel an enum with CANN's values."""
    function = API.variadic["aclAppLog"]
    assert function.declaration() == (
        "void aclAppLog(aclLogLevel logLevel, const char *func, const char *file, "
        "uint32_t line, const char *fmt, ...);")
    assert "aclAppLog" not in API.functions and API.by_pyacl("acl.app_log") is None
    assert "acl.app_log" in prototypes.NO_C_COUNTERPART
    assert API.enums["aclLogLevel"] == {"ACL_DEBUG": 0, "ACL_INFO": 1, "ACL_WARNING": 2,
                                        "ACL_ERROR": 3}
    assert API.function_macros["ACL_APP_LOG"].endswith(
        "aclAppLog(level, __FUNCTION__, __FILE__, __LINE__, fmt, ##__VA_ARGS__)")
    assert function.declaration() in API.cdef_functions().splitlines()
    ffi = cffi.FFI()
    ffi.cdef(API.cdef())
    assert ffi.typeof("void(*)(aclLogLevel, const char *, const char *, uint32_t, "
                      "const char *, ...)").ellipsis


def test_the_variadic_parameters_and_continued_macros_are_checked(tmp_path):
    (tmp_path / "acl").mkdir()
    header = tmp_path / "acl" / "acl.h"
    header.write_text("ACL_FUNC_VISIBILITY void aclLog(const char *fmt, ...);\n")
    assert read_headers(tmp_path).variadic["aclLog"].params[0].kind == "string"
    header.write_text("ACL_FUNC_VISIBILITY void aclLog(...);\n")
    with pytest.raises(HeaderError, match="'...' needs a named parameter"):
        read_headers(tmp_path)
    header.write_text("#define ACL_LOG(fmt, ...) \\\n    aclLog(fmt, ##__VA_ARGS__)\n")
    with pytest.raises(HeaderError, match="continues with"):
        read_headers(tmp_path)


# The application-log names an official C++ inference sample uses (Ascend/samples
# cplusplus/level2_simple_inference/2_object_detection/YOLOV3_carColor_sample/inc/
# AclLiteUtils.h: its ACLLITE_LOG_* macros call aclAppLog directly) and the macro CANN's
# aclAppLog documentation recommends.
LOG_NAMES = frozenset({"aclAppLog", "ACL_ERROR", "ACL_INFO", "ACL_WARNING", "ACL_DEBUG",
                       "ACL_APP_LOG", "aclLogLevel"})


def test_the_log_names_applications_use_are_declared():
    declared = (set(API.variadic) | set(API.function_macros) | set(API.constants)
                | set(API.enums))
    assert sorted(LOG_NAMES - declared) == []
