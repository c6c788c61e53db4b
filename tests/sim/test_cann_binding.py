"""The pyACL binding as cann-behaviour.md §9 describes it, one test per row.

Sources (PYACL, hicann/runtime 134e2edb): python/pyACL/mdl/mdl_wrap.cpp, py_init_acl.cpp,
util/numpy_convert.cpp, util/thread.cpp, rt/rt_synchronize.cpp (tests/sim/test_callbacks.py
holds the callback path case by case).
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from contextlib import nullcontext

import numpy as np
import pytest

from pytest_acl.constants import (
    ACL_CALLBACK_BLOCK,
    ACL_ERROR_RT_REPORT_TIMEOUT,
    ACL_ERROR_RT_STREAM_NO_CB_REG,
    ACL_ERROR_RT_THREAD_SUBSCRIBE,
    ACL_MDL_PATH_PTR,
)
from pytest_acl.modelio import ModelIO
from pytest_acl.models.manifest import ModelEntry


def message(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize(("call", "text"), [
    (lambda acl: acl.mdl.load_with_config("1"), "acl.mdl.load_with_config args parse failed"),
    (lambda acl: acl.mdl.destroy_config_handle(),
     "acl.mdl.destroy_config_handle args parse failed"),
    (lambda acl: acl.mdl.set_config_opt(0, ACL_MDL_PATH_PTR),  # the outer "kiO" parse
     "acl.mdl.set_config_opt args parse failed"),
    (lambda acl: acl.mdl.set_dataset_tensor_desc(0, 0),
     "acl.mdl.set_dataset_tensor_desc args parse failed"),
    (lambda acl: acl.mdl.get_dataset_tensor_desc(0, "0"),
     "acl.mdl.get_dataset_tensor_desc args parse failed"),
    # ...while the parse of set_config_opt's value, and the rest of acl.mdl, say "!"
    (lambda acl: acl.mdl.set_config_opt(0, ACL_MDL_PATH_PTR, 123),
     "acl.mdl.set_config_opt args parse failed!"),
    (lambda acl: acl.mdl.destroy_dataset("1"), "acl.mdl.destroy_dataset args parse failed!"),
    (lambda acl: acl.mdl.load_from_file(1), "acl.mdl.load_from_file args parse failed!"),
])
def test_parse_error_text_with_and_without_bang(sim, call, text):
    """cann-behaviour.md §9: TypeError text — "!" in acl.mdl except the listed wrappers, so a
    test that matches pyACL's exact message passes on the simulator too."""
    with pytest.raises(TypeError, match=message(text)):
        call(sim.acl)


@pytest.mark.parametrize(("create", "destroy"), [
    ("create_desc", "destroy_desc"),
    ("create_dataset", "destroy_dataset"),
    ("create_config_handle", "destroy_config_handle"),
])
def test_creators_ignore_their_arguments(sim_acl, create, destroy):
    """cann-behaviour.md §9: create_desc, create_dataset, create_config_handle called with an
    argument — pyACL never parses them, so code that passes one still gets a handle."""
    handle = getattr(sim_acl.mdl, create)(1, "two", None)
    assert type(handle) is int and handle != 0
    assert getattr(sim_acl.mdl, destroy)(handle) == 0


@pytest.mark.parametrize("dims", [(2, 3), range(2), np.array([2, 3]), "23", None])
def test_tensor_desc_dims_must_be_a_list(sim_acl, dims):
    """cann-behaviour.md §9: acl.create_tensor_desc(dtype, dims, format) — dims must be a list
    (PyList_Check), so a tuple that the simulator once took fails as it does on a device."""
    with pytest.raises(TypeError, match=message("argument 2 is not list")):
        sim_acl.create_tensor_desc(0, dims, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16, np.uint8])
def test_ptr_to_numpy_empty_shape_is_0d(sim, dtype):
    """cann-behaviour.md §9: acl.util.ptr_to_numpy(ptr, (), dtype) — a 0-d array viewing the
    one element at ptr (PyArray_NewFromDescr with nd=0), not a "shape is empty" error."""
    memory = np.array([7], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Warning)  # ptr_to_numpy's deprecation warning
        view = sim.acl.util.ptr_to_numpy(memory.ctypes.data, (), np.dtype(dtype).num)
    assert view.shape == () and view.dtype == dtype and view == 7
    memory[0] = 9
    assert view == 9  # a view, no copy


def parse_error():
    return pytest.raises(TypeError, match=message("acl.app_log args parse failed"))


@pytest.mark.parametrize(("args", "outcome"), [
    ((3, "model loaded"), nullcontext()),
    ((np.int32(1), "\u00e9"), nullcontext()),  # "i" takes any __index__; "s" any UTF-8 str
    ((1,), parse_error()),
    ((1, "a", "b"), parse_error()),
    (("1", "message"), parse_error()),
    ((2**31, "message"), parse_error()),  # outside int32
    ((1, b"message"), parse_error()),
    ((1, "a\0b"), parse_error()),
])
def test_app_log_is_is_and_returns_none(sim, args, outcome):
    """cann-behaviour.md §9: acl.app_log(level, message) — format "is", returns None; code
    that logs through pyACL runs unchanged on the simulator."""
    with outcome:
        assert sim.acl.app_log(*args) is None


def test_get_cur_output_dims_is_kk_and_returns_dims_and_ret(sim_acl, built_catalog):
    """cann-behaviour.md §9: acl.mdl.get_cur_output_dims(desc, index) — format "kk", returns
    ({"name", "dimCount", "dims"}, ret)."""
    directory, _ = built_catalog
    model_id, _ = sim_acl.mdl.load_from_file(str(directory / "mlp.om"))
    desc = sim_acl.mdl.create_desc()
    assert sim_acl.mdl.get_desc(desc, model_id) == 0
    dims, ret = sim_acl.mdl.get_cur_output_dims(desc, 0)
    assert ret == 0 and dims == sim_acl.mdl.get_output_dims(desc, 0)[0]
    assert set(dims) == {"name", "dimCount", "dims"} and dims["dimCount"] == len(dims["dims"])
    assert sim_acl.mdl.get_cur_output_dims(desc, 9) == ({}, 100000)
    with pytest.raises(TypeError, match="acl.mdl.get_cur_output_dims args parse failed!"):
        sim_acl.mdl.get_cur_output_dims(desc)
    assert sim_acl.mdl.destroy_desc(desc) == 0
    assert sim_acl.mdl.unload(model_id) == 0


def test_return_tuples_out_parameters_and_parsing(sim_acl, tmp_path):
    """cann-behaviour.md §9: return tuples, out-parameters 0 on failure, I/k/K/s parsing — as
    in acl-api.md §4 (tests/sim/test_pyargs.py holds the letter-by-letter cases)."""
    assert sim_acl.mdl.load_from_file(str(tmp_path / "absent.om")) == (0, 145002)
    assert sim_acl.mdl.unload(-1) == 145003  # "I" masks -1 to 0xFFFFFFFF
    with pytest.raises(TypeError, match="args parse failed!"):
        sim_acl.mdl.load_from_mem(np.int64(1), 2)  # "k" takes no NumPy integer
    with pytest.raises(TypeError, match="args parse failed!"):
        sim_acl.mdl.load_from_file("a\0b")  # "s": no embedded NUL


def test_start_thread_and_stop_thread_are_oo_and_k(sim):
    """cann-behaviour.md §9: acl.util.start_thread(fn, args) / stop_thread(tid) — "OO" →
    (tid, ret), "K" → ret; the tid is the new thread's pthread id, the one subscribe_report
    takes, and stop_thread waits for fn to end."""
    seen, gate = [], threading.Event()

    def fn(args):
        gate.wait(10)
        seen.append((args, threading.get_ident()))

    tid, ret = sim.acl.util.start_thread(fn, ["args", 1])
    assert ret == 0 and type(tid) is int
    gate.set()
    assert sim.acl.util.stop_thread(tid) == 0
    assert seen == [(["args", 1], tid)]
    with pytest.raises(TypeError, match=message("acl.util.stop_thread args parse failed")):
        sim.acl.util.stop_thread("1")
    with pytest.raises(TypeError, match=message("parameter must be callable")):
        sim.acl.util.start_thread(None, [])


def test_the_completion_callback_path_for_execute_async(sim_acl, built_catalog):
    """cann-behaviour.md §9: acl.rt.subscribe_report, unsubscribe_report, process_report,
    launch_callback — a program that reads execute_async's outputs in a callback runs
    unchanged: the callback runs on the subscribed thread once the stream has executed the
    model, and a blocking one holds synchronize_stream until it has run."""
    directory, manifest = built_catalog
    entry = ModelEntry(directory, manifest["models"]["mlp"])
    acl = sim_acl
    model_id, _ = acl.mdl.load_from_file(str(entry.path))
    stream, _ = acl.rt.create_stream()
    context, _ = acl.rt.get_context()
    io = ModelIO.prepare(acl, model_id, list(entry.inputs().values()))
    assert acl.rt.launch_callback(print, None, ACL_CALLBACK_BLOCK,
                                  stream) == ACL_ERROR_RT_STREAM_NO_CB_REG
    running, codes, outputs = [True], [], []

    def callback_thread(args):
        acl.rt.set_context(args[0])
        while running[0]:
            codes.append(acl.rt.process_report(args[1]))

    tid, ret = acl.util.start_thread(callback_thread, [context, 20])
    assert ret == 0
    assert acl.rt.subscribe_report(tid, stream) == 0
    assert acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream) == 0
    assert acl.rt.launch_callback(
        lambda data: outputs.append((data.outputs()["y"], threading.get_ident())), io,
        ACL_CALLBACK_BLOCK, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0
    assert len(outputs) == 1 and outputs[0][1] == tid
    np.testing.assert_allclose(outputs[0][0], entry.outputs()["y"], rtol=1e-4, atol=1e-5)
    assert acl.rt.unsubscribe_report(tid, stream) == 0
    running[0] = False
    deadline = time.monotonic() + 10
    while any(t.ident == tid for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert acl.util.stop_thread(tid) == 0
    assert 0 in codes
    assert set(codes) <= {0, ACL_ERROR_RT_REPORT_TIMEOUT, ACL_ERROR_RT_THREAD_SUBSCRIBE}
    io.release()
    assert acl.mdl.unload(model_id) == 0
    assert acl.rt.destroy_stream(stream) == 0
