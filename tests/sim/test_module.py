"""The shape of the simulator's acl module (reference §4.1: functions only, no constants),
the independence of Simulator instances, and the process-wide default simulator."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import pytest_acl.sim
from pytest_acl.constants import (
    ACL_ERROR_RT_INVALID_HANDLE,
    ACL_ERROR_RT_PARAM_INVALID,
    ACL_HBM_MEM,
    ACL_MEMCPY_DEVICE_TO_HOST,
)
from pytest_acl.sim import Simulator, default_simulator

EXPECTED = {
    "acl": {"init", "finalize", "finalize_reference", "get_version", "get_soc_name", "app_log",
            "data_type_size", "get_recent_err_msg",
            "create_data_buffer", "destroy_data_buffer", "update_data_buffer",
            "get_data_buffer_addr", "get_data_buffer_size", "get_data_buffer_size_v2",
            "create_tensor_desc", "destroy_tensor_desc", "get_tensor_desc_num_dims",
            "get_tensor_desc_dim_v2", "get_tensor_desc_type", "get_tensor_desc_format",
            "get_tensor_desc_size"},
    "acl.rt": {"set_device", "reset_device", "get_device", "get_device_count", "get_run_mode",
               "create_context", "destroy_context", "set_context", "get_context",
               "create_stream", "destroy_stream", "synchronize_stream", "synchronize_device",
               "malloc", "malloc_align32", "malloc_cached", "free", "malloc_host", "free_host",
               "memcpy", "memcpy_async", "memset", "get_mem_info",
               "device_get_stream_priority_range",
               "subscribe_report", "unsubscribe_report", "process_report", "launch_callback"},
    "acl.mdl": {"create_dataset", "destroy_dataset", "add_dataset_buffer",
                "get_dataset_num_buffers", "get_dataset_buffer", "set_dataset_tensor_desc",
                "get_dataset_tensor_desc",
                "load_from_file", "load_from_mem", "load_from_file_with_mem",
                "load_from_mem_with_mem", "unload", "query_size", "query_size_from_mem",
                "create_desc", "destroy_desc", "get_desc", "get_num_inputs", "get_num_outputs",
                "get_input_size_by_index", "get_output_size_by_index", "get_input_dims",
                "get_input_dims_v2", "get_output_dims", "get_cur_output_dims",
                "get_input_data_type", "get_output_data_type", "get_input_format",
                "get_output_format",
                "get_input_name_by_index", "get_output_name_by_index",
                "get_input_index_by_name", "get_output_index_by_name", "execute",
                "execute_async", "create_config_handle", "destroy_config_handle",
                "set_config_opt", "load_with_config",
                "get_desc_from_file", "get_desc_from_mem", "get_tensor_real_name",
                "create_exec_config_handle", "destroy_exec_config_handle",
                "set_exec_config_opt", "execute_v2",
                "bundle_load_from_file", "bundle_load_from_mem", "bundle_unload",
                "bundle_get_model_num", "bundle_get_model_id", "bundle_create_query_info",
                "bundle_destroy_query_info", "bundle_query_info_from_file",
                "bundle_query_info_from_mem", "bundle_get_query_model_num",
                "bundle_get_var_weight_size", "bundle_get_size", "bundle_init_from_file",
                "bundle_init_from_mem", "bundle_load_model", "bundle_load_model_with_mem",
                "bundle_load_model_with_config", "bundle_unload_model",
                # models with gears (dynamic.py)
                "get_dynamic_batch", "get_dynamic_hw", "set_dynamic_batch_size",
                "set_dynamic_hw_size", "set_input_dynamic_dims", "get_input_dims_range",
                "get_input_dynamic_gear_count", "get_input_dynamic_dims"},
    "acl.util": {"bytes_to_ptr", "ptr_to_bytes", "numpy_to_ptr", "numpy_contiguous_to_ptr",
                 "ptr_to_numpy", "start_thread", "stop_thread"},
}


def public(module: types.ModuleType) -> dict[str, object]:
    return {name: value for name, value in vars(module).items() if not name.startswith("_")}


# Every submodule PyInit_acl registers (surface.toml); those beyond rt, mdl and util hold
# stubs only (tests/sim/test_surface.py).
SUBMODULES = {"rt", "mdl", "media", "op", "blas", "util", "prof", "himpi", "fv"}


def modules(acl) -> dict[str, types.ModuleType]:
    return {"acl": acl, **{f"acl.{name}": getattr(acl, name) for name in sorted(SUBMODULES)}}


def is_stub(value: object) -> bool:
    """A function outside the emulated scope: it answers ACL_ERROR_API_NOT_SUPPORT."""
    return getattr(value, "pyacl_stub", False)


class TestShape:
    def test_submodules_are_modules(self, sim):
        for name, module in modules(sim.acl).items():
            assert isinstance(module, types.ModuleType)
            assert module.__name__ == name
        assert "simulator" in repr(sim.acl)

    @pytest.mark.parametrize("name", list(EXPECTED))
    def test_functions_only_no_constants(self, sim, name):
        """The emulated functions are EXPECTED's; every other member is a stub (or, in acl,
        a submodule)."""
        members = public(modules(sim.acl)[name])
        functions = {k for k, v in members.items() if callable(v)
                     and not isinstance(v, types.ModuleType) and not is_stub(v)}
        others = {k for k, v in members.items() if k not in functions and not is_stub(v)}
        assert others == (SUBMODULES if name == "acl" else set())
        assert not any(isinstance(v, (int, float, str)) for v in members.values())
        assert functions == EXPECTED[name]

    def test_each_function_lives_in_one_module(self, sim):
        """No emulated function is in two modules (the binding itself has a few names in two:
        acl.init and acl.prof.init, acl.mdl.execute and acl.op.execute; those are stubs)."""
        seen: dict[str, str] = {}
        for name, module in modules(sim.acl).items():
            for function, value in public(module).items():
                if function not in SUBMODULES and not is_stub(value):
                    assert function not in seen, f"{function} in {seen.get(function)} and {name}"
                    seen[function] = name


class TestIndependentSimulators:
    def test_modules_are_distinct(self):
        first, second = Simulator(), Simulator()
        assert first.acl is not second.acl
        assert first.acl.rt is not second.acl.rt
        assert first.acl.__simulator__ is first and second.acl.__simulator__ is second

    def test_state_is_not_shared(self):
        a, b = Simulator(devices=2, hbm="1GiB").acl, Simulator(devices=3, hbm="2GiB").acl
        assert a.init() == 0
        assert b.init() == 0  # not a repeat: b has its own reference count
        a.rt.set_device(0)
        ptr, _ = a.rt.malloc(4096, 0)
        context, _ = a.rt.get_context()
        stream, _ = a.rt.create_stream()
        a.rt.memset(ptr, 4096, 0x11, 4096)

        assert b.rt.get_device_count() == (3, 0)
        assert b.rt.get_device()[1] != 0  # a's current device is not b's
        assert b.rt.free(ptr) == ACL_ERROR_RT_PARAM_INVALID
        assert b.rt.set_context(context) == ACL_ERROR_RT_PARAM_INVALID
        assert b.rt.destroy_stream(stream) == ACL_ERROR_RT_INVALID_HANDLE
        b.rt.set_device(0)
        assert b.rt.get_mem_info(ACL_HBM_MEM) == (2 * 2**30, 2 * 2**30, 0)
        b_ptr, _ = b.rt.malloc(4096, 0)  # may even be the same number as ptr …
        out = bytearray(4096)
        host = np.frombuffer(out, dtype=np.uint8)
        b.rt.memcpy(host.ctypes.data, 4096, b_ptr, 4096, ACL_MEMCPY_DEVICE_TO_HOST)
        assert 0x11 not in out  # … but it is not a's memory

        assert b.finalize() == 0
        assert a.rt.get_device() == (0, 0)  # finalizing b left a alone
        assert a.rt.free(ptr) == 0
        assert a.finalize() == 0


class TestDefaultSimulator:
    def test_acl_is_the_process_wide_default(self):
        from pytest_acl.sim import acl as first
        from pytest_acl.sim import acl as second

        assert first is second
        assert first is default_simulator().acl
        assert first.__simulator__ is default_simulator()
        assert first is not Simulator().acl

    def test_unknown_attribute(self):
        with pytest.raises(AttributeError):
            pytest_acl.sim.no_such_thing  # noqa: B018

    def _run(self, code: str, tmp_path: Path, **env: str) -> str:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_ACL_")}
        environment.update(env)
        result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                                env=environment, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def test_importing_creates_nothing(self, tmp_path):
        code = """
            import pytest_acl.sim as sim
            print(sim._default is None)
            sim.acl
            print(sim._default is not None)
        """
        assert self._run(code, tmp_path).split() == ["True", "True"]

    def test_shim_import_acl_is_the_default_simulator(self, tmp_path):
        shim = Path(pytest_acl.sim.__file__).parent / "shim"
        code = """
            import acl
            import acl.rt
            from acl import util
            import pytest_acl.sim as sim
            print(acl is sim.acl, acl.rt is sim.acl.rt, util is sim.acl.util)
            print(acl.rt.get_device_count())
        """
        out = self._run(code, tmp_path, PYTHONPATH=str(shim), PYTEST_ACL_SIM_DEVICES="3")
        assert out.splitlines() == ["True True True", "(3, 0)"]
