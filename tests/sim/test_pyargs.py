"""pyACL's calling convention (reference/acl-api.md §4.1): PyArg_ParseTuple parsing, the
TypeError on a parse failure, and outputs-first return shapes with zeros on failure."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.constants import (
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_REPEAT_FINALIZE,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_INVALID_DEVICEID,
    ACL_ERROR_RT_INVALID_MEMORY_TYPE,
    ACL_ERROR_RT_PARAM_INVALID,
)
from pytest_acl.sim.pyargs import MDL_PARSE_FAILED_WITHOUT_BANG, parse_args

SETTINGS = settings(max_examples=60, deadline=None, database=None)


def parse_failed(name: str) -> str:
    return re.escape(f"{name} args parse failed") + "$"


@pytest.mark.parametrize("args", [
    (), (64,), (64, 0, 0),  # arity
    ("64", 0), (64.0, 0), (None, 0), (b"64", 0), (np.uint64(64), 0),  # size is "k": int only
    (64, "0"), (64, 0.0), (64, None),  # policy is "i"
    (64, 2**31), (64, -(2**31) - 1),  # "i" out of the int32 range
])
def test_malloc_parse_failure_is_a_type_error(sim_acl, args):
    with pytest.raises(TypeError, match=parse_failed("acl.rt.malloc")):
        sim_acl.rt.malloc(*args)


def test_keyword_arguments_are_refused(sim_acl):
    with pytest.raises(TypeError, match=parse_failed("acl.rt.malloc")):
        sim_acl.rt.malloc(size=64, policy=0)


@pytest.mark.parametrize("name", ["create_dataset", "create_config_handle"])
def test_a_function_that_parses_nothing_still_refuses_keywords(sim, name):
    """CPython refuses keywords to any METH_VARARGS function before pyACL's code runs
    (Objects/methodobject.c), naming it by its short name."""
    with pytest.raises(TypeError, match=re.escape(f"{name}() takes no keyword arguments")):
        getattr(sim.acl.mdl, name)(handle=1)


def _all_functions(acl):
    for module in (acl, acl.rt, acl.mdl, acl.util):
        for attr in sorted(vars(module)):
            if not attr.startswith("_") and callable(getattr(module, attr)):
                yield module.__name__, attr, getattr(module, attr)


def test_every_function_names_itself_in_its_parse_error(sim):
    """With too many arguments each function that parses raises "<module>.<name> args parse
    failed", plus "!" in most of acl.mdl (pyACL's mdl wrappers spell it so; the exceptions are
    cann-behaviour.md §9's, tested one by one in test_cann_binding.py)."""
    checked = 0
    for module_name, attr, function in _all_functions(sim.acl):
        name = f"{module_name}.{attr}"
        if not getattr(function, "parses_args", True):
            continue
        bang = module_name == "acl.mdl" and name not in MDL_PARSE_FAILED_WITHOUT_BANG
        suffix = "!" if bang else ""
        expected = f"{name} args parse failed{suffix}"
        if name == "acl.util.start_thread":  # util/thread.cpp only logs its message: CPython's
            expected = "function takes exactly 2 arguments (8 given)"
        too_many = max(8, len(getattr(function, "pyacl_format", "")) + 1)
        with pytest.raises(TypeError) as info:  # (set_aipp_csc_params, a stub, takes 17)
            function(*range(too_many))
        assert str(info.value) == expected
        checked += 1
    assert checked >= 35


@pytest.mark.parametrize(("call", "message"), [
    (lambda acl: acl.mdl.destroy_dataset("1"), "acl.mdl.destroy_dataset args parse failed!"),
    (lambda acl: acl.mdl.add_dataset_buffer(1), "acl.mdl.add_dataset_buffer args parse failed!"),
    (lambda acl: acl.mdl.get_dataset_buffer(1, 2.0),
     "acl.mdl.get_dataset_buffer args parse failed!"),
    (lambda acl: acl.create_data_buffer(0), "acl.create_data_buffer args parse failed"),
    (lambda acl: acl.init(None), "acl.init args parse failed"),
    (lambda acl: acl.init("a\0b"), "acl.init args parse failed"),  # "s": no embedded NUL
    (lambda acl: acl.get_soc_name(0), "acl.get_soc_name args parse failed"),
    (lambda acl: acl.rt.free("0x10"), "acl.rt.free args parse failed"),
])
def test_parse_failure_messages(sim, call, message):
    with pytest.raises(TypeError, match=re.escape(message) + "$"):
        call(sim.acl)


def test_k_masks_to_64_bits(sim_acl):
    """"k" takes any int and keeps its low 64 bits: ptr - 2**64 and ptr + 2**64 are ptr."""
    first, ret = sim_acl.rt.malloc(64, 0)
    assert ret == 0
    second, ret = sim_acl.rt.malloc(64, 0)
    assert ret == 0
    assert sim_acl.rt.free(first - 2**64) == 0
    assert sim_acl.rt.free(second + 2**64) == 0
    assert sim_acl.rt.free(first) == ACL_ERROR_RT_PARAM_INVALID  # really freed above


def test_negative_size_wraps_to_a_size_too_large_to_pad(sim_acl):
    """malloc(-1) asks for 2**64 - 1 bytes; padding it overflows, which CANN refuses (100000)."""
    assert sim_acl.rt.malloc(-1, 0) == (0, ACL_ERROR_INVALID_PARAM)


def test_i_range_and_index(sim_acl):
    assert sim_acl.rt.set_device(2**31 - 1) == ACL_ERROR_RT_INVALID_DEVICEID  # parsed, bad id
    assert sim_acl.rt.set_device(-(2**31)) == ACL_ERROR_RT_INVALID_DEVICEID
    assert sim_acl.rt.set_device(np.int32(1)) == 0  # "i" takes anything with __index__
    assert sim_acl.rt.get_device() == (1, 0)
    for bad in (2**31, -(2**31) - 1, 1.0, "1", None):
        with pytest.raises(TypeError, match=parse_failed("acl.rt.set_device")):
            sim_acl.rt.set_device(bad)


@pytest.mark.parametrize(("value", "expected"), [
    (5, 5), (2**32 + 5, 5), (-1, 0xFFFFFFFF), (True, 1), (np.uint64(2**32 + 7), 7)])
def test_I_masks_to_32_bits(value, expected):
    assert parse_args("acl.mdl.unload", "I", (value,), {}) == [expected]


def test_optional_arguments():
    assert parse_args("acl.init", "|s", (), {}) == []
    assert parse_args("acl.init", "|s", ("x.json",), {}) == ["x.json"]
    with pytest.raises(TypeError, match=re.escape("acl.init args parse failed")):
        parse_args("acl.init", "|s", ("a", "b"), {})


# The simulator's letters must accept and convert exactly what CPython's PyArg_ParseTuple does;
# CPython's own test module exposes one function per format letter.
values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**32, 2**64 - 1, 2**64]),
    st.booleans(), st.floats(allow_nan=False), st.none(), st.binary(max_size=4),
    st.text(max_size=4), st.sampled_from(["a\0b", "\udc80", "\u00e9"]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(np.int64),
)


@SETTINGS
@given(letter=st.sampled_from("kKIisbBhHlLfd"), value=values)
def test_letters_parse_as_cpython_getargs(letter, value):
    testcapi = pytest.importorskip("_testcapi")
    try:
        expected = getattr(testcapi, f"getargs_{letter}")(value)
    except (TypeError, ValueError, OverflowError):  # pyACL turns every one into TypeError
        with pytest.raises(TypeError):
            parse_args("acl.x", letter, (value,), {})
        return
    (got,) = parse_args("acl.x", letter, (value,), {})
    assert (got.encode() if letter == "s" else got) == expected


PARSE_FAILS = TypeError


@pytest.mark.parametrize(("letter", "value", "expected"), [
    # "b": unsigned char in [0, 255] (getargs.c refuses negative values and values above)
    ("b", 0, 0), ("b", 255, 255), ("b", True, 1), ("b", np.int8(7), 7), ("b", -1, PARSE_FAILS),
    ("b", 256, PARSE_FAILS), ("b", 1.0, PARSE_FAILS),
    # "B": unsigned char, masked like "I"
    ("B", 255, 255), ("B", 256, 0), ("B", -1, 255), ("B", np.uint64(2**64 - 2), 254),
    ("B", 1.5, PARSE_FAILS),
    # "h": short, range-checked; "H": unsigned short, masked
    ("h", -(2**15), -(2**15)), ("h", 2**15 - 1, 2**15 - 1), ("h", 2**15, PARSE_FAILS),
    ("h", "1", PARSE_FAILS), ("H", 2**16 + 3, 3), ("H", -1, 2**16 - 1), ("H", None, PARSE_FAILS),
    # "l" long and "L" long long: int64 range, any __index__
    ("l", 2**63 - 1, 2**63 - 1), ("l", -(2**63), -(2**63)), ("l", 2**63, PARSE_FAILS),
    ("L", np.int64(-5), -5), ("L", -(2**63) - 1, PARSE_FAILS), ("L", 2.0, PARSE_FAILS),
    # "d" double, "f" float (rounded to single precision): floats, ints, __float__, not str
    ("d", 1.5, 1.5), ("d", 3, 3.0), ("d", np.float32(0.5), 0.5), ("d", True, 1.0),
    ("d", 2**1024, PARSE_FAILS), ("d", "1.5", PARSE_FAILS), ("d", None, PARSE_FAILS),
    ("f", 0.1, float(np.float32(0.1))), ("f", 1e300, float("inf")), ("f", -7, -7.0),
    ("f", b"1", PARSE_FAILS),
])
def test_the_binding_s_other_letters(letter, value, expected):
    """The letters of the wrappers beyond the emulated ones (surface.toml), as CPython's
    getargs.c converts them; pyACL turns every failure into its TypeError."""
    if expected is PARSE_FAILS:
        with pytest.raises(TypeError, match=parse_failed("acl.x")):
            parse_args("acl.x", letter, (value,), {})
    else:
        (got,) = parse_args("acl.x", letter, (value,), {})
        assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("call", "expected"), [
    (lambda acl: acl.rt.malloc(0, 0), (0, ACL_ERROR_INVALID_PARAM)),
    (lambda acl: acl.rt.malloc_host(0), (0, ACL_ERROR_INVALID_PARAM)),
    (lambda acl: acl.rt.get_mem_info(99), (0, 0, ACL_ERROR_RT_INVALID_MEMORY_TYPE)),
    (lambda acl: acl.rt.create_context(99), (0, ACL_ERROR_RT_INVALID_DEVICEID)),
])
def test_outputs_are_zero_on_failure(sim_acl, call, expected):
    assert call(sim_acl) == expected


@pytest.mark.parametrize(("call", "expected"), [
    (lambda acl: acl.rt.get_device(), (0, ACL_ERROR_RT_CONTEXT_NULL)),
    (lambda acl: acl.rt.get_context(), (0, ACL_ERROR_RT_CONTEXT_NULL)),
    (lambda acl: acl.rt.create_stream(), (0, ACL_ERROR_RT_CONTEXT_NULL)),
    (lambda acl: acl.rt.malloc(64, 0), (0, ACL_ERROR_RT_CONTEXT_NULL)),
    (lambda acl: acl.rt.get_mem_info(1), (0, 0, ACL_ERROR_RT_CONTEXT_NULL)),
    (lambda acl: acl.finalize_reference(), (0, ACL_ERROR_REPEAT_FINALIZE)),
    # functions returning a plain value give 0, not a tuple
    (lambda acl: acl.get_data_buffer_addr(0), 0),
    (lambda acl: acl.mdl.get_dataset_num_buffers(0), 0),
])
def test_failure_shapes_without_a_context(sim, call, expected):
    assert call(sim.acl) == expected


def test_success_shapes_and_plain_int_codes(sim_acl):
    """Outputs first, then ret; every value a plain int as in pyACL (never an IntEnum)."""
    results = [sim_acl.rt.get_device_count(), sim_acl.rt.get_run_mode(), sim_acl.get_version(),
               sim_acl.rt.get_mem_info(1), sim_acl.rt.malloc(64, 0), (sim_acl.init(),)]
    assert [len(r) for r in results] == [2, 2, 4, 3, 2, 1]
    assert [r[-1] for r in results[:-1]] == [0] * 5
    assert results[-1] == (100002,)
    assert all(type(value) is int for r in results for value in r)
