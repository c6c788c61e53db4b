"""pytest_acl.constants: every code of reference/acl-api.md §3 and the enums of §2 and §4.4."""

from __future__ import annotations

import pytest

from pytest_acl import constants
from pytest_acl.constants import (
    ACL_ERROR_NONE,
    AclError,
    CallbackBlockType,
    MdlConfigAttr,
    MdlExecConfigAttr,
    MdlLoadType,
    MemAttr,
    MemcpyKind,
    MemMallocPolicy,
    RunMode,
    describe,
    error_name,
)

# Every code reference/acl-api.md §3 names, copied from it: (code, name).
ACL_CODES = [
    (0, "ACL_SUCCESS"),
    (100000, "ACL_ERROR_INVALID_PARAM"), (100001, "ACL_ERROR_UNINITIALIZE"),
    (100002, "ACL_ERROR_REPEAT_INITIALIZE"), (100003, "ACL_ERROR_INVALID_FILE"),
    (100004, "ACL_ERROR_WRITE_FILE"), (100005, "ACL_ERROR_INVALID_FILE_SIZE"),
    (100006, "ACL_ERROR_PARSE_FILE"), (100007, "ACL_ERROR_FILE_MISSING_ATTR"),
    (100008, "ACL_ERROR_FILE_ATTR_INVALID"), (100009, "ACL_ERROR_INVALID_DUMP_CONFIG"),
    (100010, "ACL_ERROR_INVALID_PROFILING_CONFIG"), (100011, "ACL_ERROR_INVALID_MODEL_ID"),
    (100012, "ACL_ERROR_DESERIALIZE_MODEL"), (100013, "ACL_ERROR_PARSE_MODEL"),
    (100014, "ACL_ERROR_READ_MODEL_FAILURE"), (100015, "ACL_ERROR_MODEL_SIZE_INVALID"),
    (100016, "ACL_ERROR_MODEL_MISSING_ATTR"), (100017, "ACL_ERROR_MODEL_INPUT_NOT_MATCH"),
    (100018, "ACL_ERROR_MODEL_OUTPUT_NOT_MATCH"), (100019, "ACL_ERROR_MODEL_NOT_DYNAMIC"),
    (100020, "ACL_ERROR_OP_TYPE_NOT_MATCH"), (100021, "ACL_ERROR_OP_INPUT_NOT_MATCH"),
    (100022, "ACL_ERROR_OP_OUTPUT_NOT_MATCH"), (100023, "ACL_ERROR_OP_ATTR_NOT_MATCH"),
    (100024, "ACL_ERROR_OP_NOT_FOUND"), (100025, "ACL_ERROR_OP_LOAD_FAILED"),
    (100026, "ACL_ERROR_UNSUPPORTED_DATA_TYPE"), (100027, "ACL_ERROR_FORMAT_NOT_MATCH"),
    (100028, "ACL_ERROR_BIN_SELECTOR_NOT_REGISTERED"), (100029, "ACL_ERROR_KERNEL_NOT_FOUND"),
    (100030, "ACL_ERROR_BIN_SELECTOR_ALREADY_REGISTERED"),
    (100031, "ACL_ERROR_KERNEL_ALREADY_REGISTERED"), (100032, "ACL_ERROR_INVALID_QUEUE_ID"),
    (100033, "ACL_ERROR_REPEAT_SUBSCRIBE"), (100034, "ACL_ERROR_STREAM_NOT_SUBSCRIBE"),
    (100035, "ACL_ERROR_THREAD_NOT_SUBSCRIBE"), (100036, "ACL_ERROR_WAIT_CALLBACK_TIMEOUT"),
    (100037, "ACL_ERROR_REPEAT_FINALIZE"), (100038, "ACL_ERROR_NOT_STATIC_AIPP"),
    (100039, "ACL_ERROR_COMPILING_STUB_MODE"), (100040, "ACL_ERROR_GROUP_NOT_SET"),
    (100041, "ACL_ERROR_GROUP_NOT_CREATE"), (100042, "ACL_ERROR_PROF_ALREADY_RUN"),
    (100043, "ACL_ERROR_PROF_NOT_RUN"), (100044, "ACL_ERROR_DUMP_ALREADY_RUN"),
    (100045, "ACL_ERROR_DUMP_NOT_RUN"),
    (148046, "ACL_ERROR_PROF_REPEAT_SUBSCRIBE"), (148047, "ACL_ERROR_PROF_API_CONFLICT"),
    (148048, "ACL_ERROR_INVALID_MAX_OPQUEUE_NUM_CONFIG"), (148049, "ACL_ERROR_INVALID_OPP_PATH"),
    (148050, "ACL_ERROR_OP_UNSUPPORTED_DYNAMIC"),
    (148051, "ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED"), (148052, "ACL_ERROR_UNSUPPORTED_JPEG"),
    (148053, "ACL_ERROR_INVALID_BUNDLE_MODEL_ID"),
    (200000, "ACL_ERROR_BAD_ALLOC"), (200001, "ACL_ERROR_API_NOT_SUPPORT"),
    (200002, "ACL_ERROR_INVALID_DEVICE"), (200003, "ACL_ERROR_MEMORY_ADDRESS_UNALIGNED"),
    (200004, "ACL_ERROR_RESOURCE_NOT_MATCH"), (200005, "ACL_ERROR_INVALID_RESOURCE_HANDLE"),
    (200006, "ACL_ERROR_FEATURE_UNSUPPORTED"), (200007, "ACL_ERROR_PROF_MODULES_UNSUPPORTED"),
    (300000, "ACL_ERROR_STORAGE_OVER_LIMIT"),
    (500000, "ACL_ERROR_INTERNAL_ERROR"), (500001, "ACL_ERROR_FAILURE"),
    (500002, "ACL_ERROR_GE_FAILURE"), (500003, "ACL_ERROR_RT_FAILURE"),
    (500004, "ACL_ERROR_DRV_FAILURE"), (500005, "ACL_ERROR_PROFILING_FAILURE"),
]
RT_CODES = [
    (107000, "ACL_ERROR_RT_PARAM_INVALID"), (107001, "ACL_ERROR_RT_INVALID_DEVICEID"),
    (107002, "ACL_ERROR_RT_CONTEXT_NULL"), (107003, "ACL_ERROR_RT_STREAM_CONTEXT"),
    (107004, "ACL_ERROR_RT_MODEL_CONTEXT"), (107005, "ACL_ERROR_RT_STREAM_MODEL"),
    (107008, "ACL_ERROR_RT_ADDR_UNALIGNED"), (107016, "ACL_ERROR_RT_INVALID_MEMORY_TYPE"),
    (107017, "ACL_ERROR_RT_INVALID_HANDLE"), (107018, "ACL_ERROR_RT_INVALID_MALLOC_TYPE"),
    (107019, "ACL_ERROR_RT_WAIT_TIMEOUT"), (107020, "ACL_ERROR_RT_TASK_TIMEOUT"),
    (207000, "ACL_ERROR_RT_FEATURE_NOT_SUPPORT"), (207001, "ACL_ERROR_RT_MEMORY_ALLOCATION"),
    (207002, "ACL_ERROR_RT_MEMORY_FREE"), (207004, "ACL_ERROR_RT_NO_DEVICE"),
    (207005, "ACL_ERROR_RT_RESOURCE_ALLOC_FAIL"), (207006, "ACL_ERROR_RT_NO_PERMISSION"),
    (207008, "ACL_ERROR_RT_NO_STREAM_RESOURCE"), (207010, "ACL_ERROR_RT_NO_MODEL_RESOURCE"),
    (207012, "ACL_ERROR_RT_OVER_LIMIT"), (207018, "ACL_ERROR_RT_DEVICE_OOM"),
    (207020, "ACL_ERROR_RT_TIMEOUT"),
    (507000, "ACL_ERROR_RT_INTERNAL_ERROR"), (507001, "ACL_ERROR_RT_TS_ERROR"),
    (507008, "ACL_ERROR_RT_SOC_VERSION"), (507009, "ACL_ERROR_RT_TASK_TYPE_NOT_SUPPORT"),
    (507011, "ACL_ERROR_RT_MODEL_EXECUTE"), (507014, "ACL_ERROR_RT_AICORE_TIMEOUT"),
    (507015, "ACL_ERROR_RT_AICORE_EXCEPTION"), (507033, "ACL_ERROR_RT_DEV_SETUP_ERROR"),
    (507046, "ACL_ERROR_RT_STREAM_SYNC_TIMEOUT"), (507899, "ACL_ERROR_RT_DRV_INTERNAL_ERROR"),
    (507900, "ACL_ERROR_RT_AICPU_INTERNAL_ERROR"),
    # Not in §3's list but in rt_error_codes.h: what resetting a never-set device returns.
    (507007, "ACL_ERROR_RT_CONTEXT_RELEASE_ERROR"),
    # Not in §3's list but in rt_error_codes.h: the callback path's codes (errcode_manage.cc).
    (107011, "ACL_ERROR_RT_STREAM_SUBSCRIBE"), (107012, "ACL_ERROR_RT_THREAD_SUBSCRIBE"),
    (107015, "ACL_ERROR_RT_STREAM_NO_CB_REG"), (507012, "ACL_ERROR_RT_REPORT_TIMEOUT"),
]
GE_CODES = [
    (145000, "ACL_ERROR_GE_PARAM_INVALID"), (145001, "ACL_ERROR_GE_EXEC_NOT_INIT"),
    (145002, "ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID"),
    (145003, "ACL_ERROR_GE_EXEC_MODEL_ID_INVALID"),
    (145006, "ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID"),
    (145007, "ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID"),
    (145008, "ACL_ERROR_GE_EXEC_MODEL_QUEUE_ID_INVALID"),
    (145009, "ACL_ERROR_GE_EXEC_LOAD_MODEL_REPEATED"),
    (245000, "ACL_ERROR_GE_MEMORY_ALLOCATION"), (245001, "ACL_ERROR_GE_MEMORY_OPERATE_FAILED"),
    (245002, "ACL_ERROR_GE_DEVICE_MEMORY_OPERATE_FAILED"),
    (345102, "ACL_ERROR_GE_SUBHEALTHY"), (345103, "ACL_ERROR_GE_USER_RAISE_EXCEPTION"),
    (345104, "ACL_ERROR_GE_DATA_NOT_ALIGNED"),
    (545000, "ACL_ERROR_GE_INTERNAL_ERROR"), (545001, "ACL_ERROR_GE_LOAD_MODEL"),
    (545002, "ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED"),
    (545003, "ACL_ERROR_GE_EXEC_LOAD_WEIGHT_PARTITION_FAILED"),
    (545004, "ACL_ERROR_GE_EXEC_LOAD_TASK_PARTITION_FAILED"),
    (545005, "ACL_ERROR_GE_EXEC_LOAD_KERNEL_PARTITION_FAILED"),
    (545006, "ACL_ERROR_GE_EXEC_RELEASE_MODEL_DATA"), (545007, "ACL_ERROR_GE_COMMAND_HANDLE"),
    (545008, "ACL_ERROR_GE_GET_TENSOR_INFO"), (545009, "ACL_ERROR_GE_UNLOAD_MODEL"),
    (545601, "ACL_ERROR_GE_MODEL_EXECUTE_TIMEOUT"), (545602, "ACL_ERROR_GE_REDEPLOYING"),
]
ALL_CODES = ACL_CODES + RT_CODES + GE_CODES


@pytest.mark.parametrize(("code", "name"), ALL_CODES, ids=[n for _, n in ALL_CODES])
def test_every_reference_code_is_present_with_its_name(code, name):
    assert AclError[name] == code
    assert error_name(code) == name
    assert getattr(constants, name) == code  # module-level name, as pyACL programs spell it
    assert describe(code) == f"{code} ({name})"


def test_error_name_of_invalid_param():
    assert error_name(100000) == "ACL_ERROR_INVALID_PARAM"


def test_no_two_names_share_a_code():
    """An IntEnum silently turns a duplicate value into an alias; that would make error_name
    report the wrong name for one of them."""
    values = [member.value for member in AclError.__members__.values()]
    assert len(values) == len(set(values))


@pytest.mark.parametrize("code", [1, 99999, 123456, -1, 2**32])
def test_unknown_code_gets_a_placeholder_not_an_exception(code):
    assert error_name(code) == f"UNKNOWN_ACL_ERROR_{code}"
    assert describe(code) == f"{code} (UNKNOWN_ACL_ERROR_{code})"


def test_acl_error_none_is_the_old_spelling_of_success():
    assert ACL_ERROR_NONE == constants.ACL_SUCCESS == 0


ENUMS = {
    MemMallocPolicy: {
        "ACL_MEM_MALLOC_HUGE_FIRST": 0, "ACL_MEM_MALLOC_HUGE_ONLY": 1,
        "ACL_MEM_MALLOC_NORMAL_ONLY": 2, "ACL_MEM_MALLOC_HUGE_FIRST_P2P": 3,
        "ACL_MEM_MALLOC_HUGE_ONLY_P2P": 4, "ACL_MEM_MALLOC_NORMAL_ONLY_P2P": 5,
        "ACL_MEM_MALLOC_HUGE1G_ONLY": 6, "ACL_MEM_MALLOC_HUGE1G_ONLY_P2P": 7,
        "ACL_MEM_TYPE_LOW_BAND_WIDTH": 0x0100, "ACL_MEM_TYPE_HIGH_BAND_WIDTH": 0x1000,
        "ACL_MEM_ACCESS_USER_SPACE_READONLY": 0x100000},
    MemcpyKind: {
        "ACL_MEMCPY_HOST_TO_HOST": 0, "ACL_MEMCPY_HOST_TO_DEVICE": 1,
        "ACL_MEMCPY_DEVICE_TO_HOST": 2, "ACL_MEMCPY_DEVICE_TO_DEVICE": 3,
        "ACL_MEMCPY_DEFAULT": 4, "ACL_MEMCPY_HOST_TO_BUF_TO_DEVICE": 5,
        "ACL_MEMCPY_INNER_DEVICE_TO_DEVICE": 6, "ACL_MEMCPY_INTER_DEVICE_TO_DEVICE": 7},
    RunMode: {"ACL_DEVICE": 0, "ACL_HOST": 1},
    CallbackBlockType: {"ACL_CALLBACK_NO_BLOCK": 0, "ACL_CALLBACK_BLOCK": 1},  # acl_rt.h
    MemAttr: {
        "ACL_DDR_MEM": 0, "ACL_HBM_MEM": 1, "ACL_DDR_MEM_HUGE": 2, "ACL_DDR_MEM_NORMAL": 3,
        "ACL_HBM_MEM_HUGE": 4, "ACL_HBM_MEM_NORMAL": 5, "ACL_DDR_MEM_P2P_HUGE": 6,
        "ACL_DDR_MEM_P2P_NORMAL": 7, "ACL_HBM_MEM_P2P_HUGE": 8, "ACL_HBM_MEM_P2P_NORMAL": 9},
    MdlConfigAttr: {
        "ACL_MDL_PRIORITY_INT32": 0, "ACL_MDL_LOAD_TYPE_SIZET": 1, "ACL_MDL_PATH_PTR": 2,
        "ACL_MDL_MEM_ADDR_PTR": 3, "ACL_MDL_MEM_SIZET": 4, "ACL_MDL_WEIGHT_ADDR_PTR": 5,
        "ACL_MDL_WEIGHT_SIZET": 6, "ACL_MDL_WORKSPACE_ADDR_PTR": 7, "ACL_MDL_WORKSPACE_SIZET": 8,
        "ACL_MDL_INPUTQ_NUM_SIZET": 9, "ACL_MDL_INPUTQ_ADDR_PTR": 10,
        "ACL_MDL_OUTPUTQ_NUM_SIZET": 11, "ACL_MDL_OUTPUTQ_ADDR_PTR": 12,
        "ACL_MDL_WORKSPACE_MEM_OPTIMIZE": 13, "ACL_MDL_WEIGHT_PATH_PTR": 14,
        "ACL_MDL_MODEL_DESC_PTR": 15, "ACL_MDL_MODEL_DESC_SIZET": 16, "ACL_MDL_KERNEL_PTR": 17,
        "ACL_MDL_KERNEL_SIZET": 18, "ACL_MDL_KERNEL_ARGS_PTR": 19, "ACL_MDL_KERNEL_ARGS_SIZET": 20,
        "ACL_MDL_STATIC_TASK_PTR": 21, "ACL_MDL_STATIC_TASK_SIZET": 22,
        "ACL_MDL_DYNAMIC_TASK_PTR": 23, "ACL_MDL_DYNAMIC_TASK_SIZET": 24,
        "ACL_MDL_MEM_MALLOC_POLICY_SIZET": 25, "ACL_MDL_FIFO_PTR": 26, "ACL_MDL_FIFO_SIZET": 27,
        "ACL_MDL_WITHOUT_GRAPH_INT32": 28, "ACL_NPU_PERF_MODE": 29, "ACL_MDL_RESERVED": 0xFFFF},
    MdlLoadType: {
        "ACL_MDL_LOAD_FROM_FILE": 1, "ACL_MDL_LOAD_FROM_FILE_WITH_MEM": 2,
        "ACL_MDL_LOAD_FROM_MEM": 3, "ACL_MDL_LOAD_FROM_MEM_WITH_MEM": 4,
        "ACL_MDL_LOAD_FROM_FILE_WITH_Q": 5, "ACL_MDL_LOAD_FROM_MEM_WITH_Q": 6},
    MdlExecConfigAttr: {
        "ACL_MDL_STREAM_SYNC_TIMEOUT": 0, "ACL_MDL_EVENT_SYNC_TIMEOUT": 1,
        "ACL_MDL_WORK_ADDR_PTR": 2, "ACL_MDL_WORK_SIZET": 3, "ACL_MDL_MPAIMID_SIZET": 4,
        "ACL_MDL_AICQOS_SIZET": 5, "ACL_MDL_AICOST_SIZET": 6, "ACL_MDL_MEC_TIMETHR_SIZET": 7,
        "ACL_MDL_EXEC_PRIORITY_INT32": 8, "ACL_MDL_NPU_PERF_MODE": 9},
}


@pytest.mark.parametrize("enum", list(ENUMS), ids=lambda e: e.__name__)
def test_enum_matches_the_reference(enum):
    assert {m.name: m.value for m in enum} == ENUMS[enum]


@pytest.mark.parametrize("enum", [AclError, *ENUMS], ids=lambda e: e.__name__)
def test_enum_members_are_module_level_names(enum):
    """Module-level names are copied from all enums into one namespace; a name used by two
    enums with different values would silently take the last one."""
    for name, member in enum.__members__.items():
        assert getattr(constants, name) == member.value, name


def test_other_model_constants():
    assert constants.ACL_WORKSPACE_MEM_OPTIMIZE_DEFAULT == 0
    assert constants.ACL_WORKSPACE_MEM_OPTIMIZE_INPUTOUTPUT == 1
    assert constants.INVALID_MODEL_ID == 0xFFFFFFFF


def test_module_constants_are_written_out_one_per_enum_member():
    """The module-level names are plain assignments a type checker sees (no generated
    globals), one per member of every exported enum, and nothing else of that shape."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(constants.__file__).read_text())
    written = {node.targets[0].id: f"{node.value.value.id}.{node.value.attr}"
               for node in tree.body if isinstance(node, ast.Assign)
               and isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name)}
    expected = {name: f"{enum.__name__}.{name}" for enum in constants.EXPORTED_ENUMS
                for name in enum.__members__}
    expected["ACL_ERROR_NONE"] = "AclError.ACL_SUCCESS"  # the old spelling, kept as an alias
    assert written == expected
