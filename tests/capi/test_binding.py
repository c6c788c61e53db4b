"""The capi backend on the simulator's own libascendcl.so (built once per session, conftest.py):
the binding gives pyACL's shapes (the same as the sim backend's, on the very simulator behind
the library), pyACL's TypeErrors, NULL out-parameters through ``acl.capi``, and the suite runs
through it."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_acl.capi import prototypes
from pytest_acl.capi.binding import OUT, open_library
from pytest_acl.constants import AclError, MemAttr
from pytest_acl.sim import default_simulator, surface

INVALID = AclError.ACL_ERROR_INVALID_PARAM.value


@pytest.fixture(scope="module")
def both(simlib):
    """(capi, sim): the binding and the sim backend's module, one simulator behind both,
    initialised with device 0 set; finalised afterwards if this fixture initialised it."""
    capi, sim = open_library(simlib.library), default_simulator().acl
    initialised = capi.init()
    assert initialised in (0, AclError.ACL_ERROR_REPEAT_INITIALIZE.value)
    assert capi.rt.set_device(0) == 0
    yield capi, sim
    assert capi.rt.reset_device(0) == 0
    if initialised == 0:
        assert capi.finalize() == 0


def test_every_pyacl_function_with_a_c_counterpart_is_bound(both):
    capi, _ = both
    assert capi.capi.unbound == {}
    table = surface.load()
    names = [f.qualname for f in table.functions if f.emulated] + \
            [e.qualname for e in table.extras]
    missing = []
    for name in names:
        if name in prototypes.NO_C_COUNTERPART and not name.startswith("acl.util."):
            continue
        target = capi
        for part in name.split(".")[1:]:
            target = getattr(target, part, None)
        if not callable(target):
            missing.append(name)
    assert missing == []


def test_shapes_match_the_sim_backends(both, built_catalog):
    capi, sim = both
    path = str(built_catalog[0] / "mlp.om")
    data = (built_catalog[0] / "mlp.om").read_bytes()
    pointer = sim.util.bytes_to_ptr(data)
    for call in (lambda acl: acl.get_version(), lambda acl: acl.get_soc_name(),
                 lambda acl: acl.rt.get_device_count(), lambda acl: acl.rt.get_device(),
                 lambda acl: acl.rt.get_run_mode(),
                 lambda acl: acl.mdl.query_size(path),
                 lambda acl: acl.mdl.query_size_from_mem(pointer, len(data)),
                 lambda acl: acl.mdl.query_size(path + ".missing"),
                 lambda acl: acl.mdl.get_desc(0, 12345),
                 lambda acl: acl.mdl.unload(12345),
                 lambda acl: acl.rt.free(0)):
        assert call(capi) == call(sim)
    # a model loaded through one is the other's too: one simulator, one handle space
    model_id, ret = capi.mdl.load_from_file(path)
    assert ret == 0
    desc = sim.mdl.create_desc()
    try:
        assert capi.mdl.get_desc(desc, model_id) == 0
        for call in (lambda acl: acl.mdl.get_num_inputs(desc),
                     lambda acl: acl.mdl.get_input_dims(desc, 0),
                     lambda acl: acl.mdl.get_output_dims(desc, 0),
                     lambda acl: acl.mdl.get_input_dims(desc, 99),
                     lambda acl: acl.mdl.get_input_name_by_index(desc, 0),
                     lambda acl: acl.mdl.get_input_size_by_index(desc, 0),
                     lambda acl: acl.mdl.get_input_index_by_name(desc, "nothing such"),
                     lambda acl: acl.mdl.get_input_dims_range(desc, 0)):
            assert call(capi) == call(sim)
        dims, ret = capi.mdl.get_input_dims(desc, 0)
        assert ret == 0 and dims["dimCount"] == len(dims["dims"]) > 0
    finally:
        assert capi.mdl.destroy_desc(desc) == 0
        assert sim.mdl.unload(model_id) == 0


def test_the_hand_made_shapes_match_the_sim_backends(both):
    """The pyACL forms shapes.py makes by hand: dicts and lists of dicts out (failure values
    included), dicts and lists in, values by attribute, and the recent error message."""
    capi, sim = both
    unused = 2**64 - 1  # index -1 through pyACL's "k"
    dims = {"name": "x", "dimCount": 2, "dims": [1, 2]}
    for call in (lambda acl: acl.mdl.get_dynamic_batch(0),
                 lambda acl: acl.mdl.get_dynamic_hw(0, 0),
                 lambda acl: acl.mdl.get_input_dims_range(0, 0),
                 lambda acl: acl.mdl.get_input_dynamic_dims(0, unused, 2),
                 lambda acl: acl.mdl.get_input_dynamic_dims(0, unused, 5000),
                 lambda acl: acl.mdl.set_input_dynamic_dims(0, 0, 0, dims),
                 lambda acl: acl.mdl.set_dynamic_batch_size(0, 0, 0, 2),
                 lambda acl: acl.mdl.add_dataset_buffer(0, 0),
                 lambda acl: acl.mdl.set_dataset_tensor_desc(7, 0, 0),
                 lambda acl: acl.mdl.set_config_opt(0, 2, "path"),
                 lambda acl: (acl.mdl.query_size("/missing.om"), acl.get_recent_err_msg())):
        assert call(capi) == call(sim)
    handle = capi.mdl.create_exec_config_handle()
    desc = capi.create_tensor_desc(0, [1, 2, 3], 0)
    try:
        for call in (lambda acl: acl.mdl.set_exec_config_opt(handle, 0, 5),
                     lambda acl: acl.mdl.set_exec_config_opt(handle, 2, 5),
                     lambda acl: acl.get_tensor_desc_num_dims(desc),
                     lambda acl: acl.get_tensor_desc_dim_v2(desc, 2),
                     lambda acl: acl.get_tensor_desc_dim_v2(desc, 3)):
            assert call(capi) == call(sim)
        assert capi.get_tensor_desc_dim_v2(desc, 2) == (3, 0)
    finally:
        assert capi.mdl.destroy_exec_config_handle(handle) == 0
        assert capi.destroy_tensor_desc(desc) is None


def test_device_memory_through_the_binding(both):
    capi, sim = both
    free_before, total, ret = capi.rt.get_mem_info(MemAttr.ACL_HBM_MEM)
    assert ret == 0 and (free_before, total) == sim.rt.get_mem_info(MemAttr.ACL_HBM_MEM)[:2]
    device_ptr, ret = capi.rt.malloc(4096, 0)
    assert ret == 0 and device_ptr != 0
    assert capi.rt.get_mem_info(MemAttr.ACL_HBM_MEM)[0] < free_before
    source = np.arange(1024, dtype=np.int32).tobytes()
    back = np.zeros(1024, dtype=np.int32)
    assert capi.rt.memcpy(device_ptr, 4096, capi.util.bytes_to_ptr(source), 4096, 1) == 0
    assert capi.rt.memcpy(back.ctypes.data, 4096, device_ptr, 4096, 2) == 0
    assert back.tobytes() == source
    assert capi.rt.free(device_ptr) == 0
    assert capi.rt.get_mem_info(MemAttr.ACL_HBM_MEM)[0] == free_before


@pytest.mark.parametrize(("function", "args"), [
    ("mdl.query_size", (3,)), ("mdl.query_size", ()), ("rt.malloc", ("1", 0)),
    ("mdl.load_from_file_with_mem", ("x", 0, 0, 0)), ("rt.set_device", (2**31,)),
    ("mdl.set_config_opt", (0, 2, 5)), ("create_tensor_desc", (0, (1, 2), 0)),
    ("create_tensor_desc", (0, [1, "2"], 0)),
    ("mdl.set_input_dynamic_dims", (0, 0, 0, {"dimCount": 1, "dims": ["1"]})),
    ("mdl.get_input_dims", (0, "0")), ("rt.launch_callback", (None, None, 0, 0)),
])
def test_wrong_arguments_raise_what_the_sim_backend_raises(both, function, args):
    capi, sim = both
    errors = []
    for acl in (capi, sim):
        target = acl
        for part in function.split("."):
            target = getattr(target, part)
        with pytest.raises(TypeError) as caught:
            target(*args)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_null_out_parameters_are_refused(both, built_catalog):
    c = both[0].capi
    path = str(built_catalog[0] / "mlp.om")
    assert c.aclmdlQuerySize(path, None, None) == INVALID
    assert c.aclmdlQuerySize(path, OUT, None) == (0, INVALID)
    work, weight, ret = c.aclmdlQuerySize(path, OUT, OUT)
    assert (work, weight, ret) == both[0].mdl.query_size(path) and ret == 0
    assert c.aclrtMalloc(None, 64, 0) == INVALID
    assert c.aclmdlLoadFromFile(path, None) == INVALID


def test_c_only_calls_say_what_is_wrong(both):
    c = both[0].capi
    with pytest.raises(TypeError, match=r"acl.capi.aclmdlQuerySize\(fileName, workSize, "
                                        r"weightSize\) takes 3 arguments \(1 given\)"):
        c.aclmdlQuerySize("x")
    with pytest.raises(TypeError, match="OUT given for a parameter of type size_t, which is "
                                        "not a pointer"):
        c.aclrtMalloc(OUT, OUT, 0)


def test_the_backend_says_it_is_the_simulators_library(simlib, monkeypatch):
    from pytest_acl.backends import capi
    from pytest_acl.sim import check_env

    monkeypatch.setattr(capi, "_configured", (simlib.library, "command line"))
    backend = capi.load()
    assert backend.version == (f"libascendcl.so at {simlib.library} (from command line; ACL "
                               "interface 1.17.0) — the pytest-acl simulator's library")
    assert backend.simulated and backend.cann_version == check_env().cann


@pytest.mark.whole_suite  # real suite files in a subprocess (CI runs the whole suite on capi)
def test_a_suite_subset_passes_through_capi(simlib, run_suite, tmp_path):
    """The C-only tests run (none skipped) and the runtime, callback and gear tests pass; the
    whole suite through capi is CI's job (.ci/run)."""
    run = run_suite(tmp_path, "--acl-backend", "capi", "--acl-capi-lib", str(simlib.library),
                    "-p", "no:randomly", "-rs",
                    paths=("suites/test_null_out_params.py", "suites/test_runtime_smoke.py",
                           "suites/test_callbacks.py", "suites/test_dynamic_shapes.py"))
    assert run.result.returncode == 0, run.output[-3000:]
    outcomes = {nodeid: record["outcome"] for nodeid, record in run.records.items()}
    assert len(outcomes) > 40 and set(outcomes.values()) == {"pass"}
    assert sum("test_null_out_params" in nodeid for nodeid in outcomes) == 11
    assert "the pytest-acl simulator's library" in run.lines[0]["backend_version"]


def test_the_health_probe_opens_the_sessions_library(simlib, built_catalog, tmp_path,
                                                     monkeypatch):
    """After a crash the probe process loads the backend without the session's options: it
    gets the library --acl-capi-lib named through its environment."""
    from pytest_acl.backends import capi
    from pytest_acl.isolation.health import probe

    for name in ("PYTEST_ACL_CAPI_LIB", "ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH",
                 "LD_LIBRARY_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(capi, "_configured", (simlib.library, "command line"))
    result = probe("capi", 0, built_catalog[0], tmp_path)
    assert result.healthy, result.detail


OLD_LIBRARY = r"""
#include <stddef.h>
#include <stdint.h>
int aclrtGetVersion(int32_t *major, int32_t *minor, int32_t *patch)
{ *major = 1; *minor = 12; *patch = 0; return 0; }
int aclmdlQuerySize(const char *path, size_t *work, size_t *weight)
{ if (!path || !work || !weight) return 100000; *work = 64; *weight = 32; return 0; }
"""


def test_functions_a_library_lacks_are_not_exposed(simlib, tmp_path):
    """An older libascendcl.so (without the CANN 9 bundle family, say): what it does not
    export is absent, so the suite's acl_requires skips those tests as not exposed. (simlib:
    a C compiler is there, or the test skips or fails as the library's build does.)"""
    import subprocess

    from pytest_acl.markers import missing_apis

    source = tmp_path / "old.c"
    source.write_text(OLD_LIBRARY)
    library = tmp_path / "libascendcl.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    acl = open_library(library)
    assert acl.get_version() == (1, 12, 0, 0)
    assert acl.mdl.query_size("x") == (64, 32, 0)
    assert acl.capi.aclmdlQuerySize("x", None, OUT) == (0, INVALID)
    assert "aclmdlBundleInitFromFile" in acl.capi.library.missing
    assert missing_apis(acl, ["mdl.query_size", "mdl.bundle_init_from_file",
                              "capi.aclmdlBundleInitFromFile"]) == [
        "acl.mdl.bundle_init_from_file", "acl.capi.aclmdlBundleInitFromFile"]


def test_a_running_python_keeps_its_path_and_the_library_stays_mapped(simlib):
    """Loaded into a running Python, the library leaves sys.path alone (a checkout on it
    made pytest's rewrite hook fail later sessions), and a dropped binding does not unmap it:
    its embedded module stays in sys.modules, and reading it crashed the process."""
    script = f"""
import gc, sys
import pytest_acl
before = list(sys.path)
from pytest_acl.capi.binding import open_library
acl = open_library({str(simlib.library)!r})
assert acl.init() == 0
assert sys.path == before, set(sys.path) - set(before)
del acl
gc.collect()
embedded = sys.modules["_pytest_acl_simlib"]
getattr(embedded.lib, "no_such_name", None)
print("alive")
"""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "alive", result.stderr[-2000:]


def test_ctrl_c_during_a_call_through_the_library_interrupts_the_caller(simlib):
    """Ctrl-C landing inside the library's Python cannot cross C (cffi would print it and
    return 0, ACL_SUCCESS, and the interrupt would be lost): the caller gets it."""
    script = f"""
import sys, time
from pytest_acl.capi.binding import open_library
acl = open_library({str(simlib.library)!r})
assert acl.init() == 0
print("ready", flush=True)
end = time.monotonic() + 20
try:
    while time.monotonic() < end:
        acl.rt.get_device_count()
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
print("never interrupted", flush=True)
"""
    import signal
    import subprocess
    import sys
    import time

    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 3 and out.strip() == "interrupted", (out, err[-2000:])
    assert "From cffi callback" not in err
