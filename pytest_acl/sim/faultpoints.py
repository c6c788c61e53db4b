"""Where the defects act: named fault points that the rules call, as an emulator exposes hooks.

The rules (models.py, launch.py, bundles.py, acl_mdl.py) read as CANN's behaviour alone. At
each place a defect can make the simulator deviate they call a point of ``runtime.faults``;
with no defect switched on, every point hands back what it was given (or answers "the rule
applies"). This is the only module that names the answer-changing defects (defects.py lists
them; faults.py holds the fatal ones' ways to die), and it asks through ``Defects.on``, which
refuses a name that is not a defect — a misspelt name is an error, never a dead branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pytest_acl.constants import AclError
from pytest_acl.om.header import HEADER_SIZE, ModelFileHeader
from pytest_acl.sim import faults
from pytest_acl.sim.pyargs import AclFail

if TYPE_CHECKING:
    from pytest_acl.sim.defects import Defects
    from pytest_acl.sim.runtime import Runtime

E = AclError
MIB = 2**20


class FaultPoints:
    """The points of one simulator, answering by the defects switched on in it."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    @property
    def _defects(self) -> Defects:
        return self._rt.defects

    def _on(self, name: str) -> bool:
        return self._defects.on(name)

    def crashing(self, device_id: int) -> None:
        """A fatal fault on ``device_id`` is about to end the process: with the defect
        crash_loses_device the device is first lost for the rest of the machine's life."""
        if self._on("crash_loses_device"):
            self._rt.machine.lose_device(device_id)

    # -- loading -----------------------------------------------------------------------------
    def model_bytes(self, view: memoryview, declared: int) -> memoryview:
        """The model as the loader reads it (``declared``: the length its header states)."""
        if self._on("truncated_model_accepted") and len(view) < declared < len(view) + MIB:
            return memoryview(bytes(view) + bytes(declared - len(view)))
        return view

    def config_attributes(self, values: dict[int, Any]) -> dict[int, Any]:
        """The attributes load_with_config goes on with."""
        from pytest_acl.constants import MdlConfigAttr as A
        from pytest_acl.sim import hostmem

        address = values.get(A.ACL_MDL_MEM_ADDR_PTR)
        if self._on("config_mem_size_from_header") and address and \
                A.ACL_MDL_MEM_SIZET not in values and hostmem.is_mapped(address, HEADER_SIZE):
            header = ModelFileHeader.unpack(hostmem.view(address, HEADER_SIZE))
            return values | {A.ACL_MDL_MEM_SIZET: HEADER_SIZE + header.payload_length}
        return values

    def config_model_bytes(self, data: bytes | memoryview) -> bytes | memoryview:
        """The bytes load_with_config hands to the loader."""
        if self._on("config_load_pads_short_models") and len(data) >= HEADER_SIZE:
            declared = HEADER_SIZE + ModelFileHeader.unpack(memoryview(data)).payload_length
            if len(data) < declared < len(data) + MIB:
                return bytes(data) + bytes(declared - len(data))
        return data

    def static_id(self, next_id: Callable[[], int], in_use: Callable[[int], bool]) -> int:
        if self._on("model_ids_reused"):
            candidate = 1
            while in_use(candidate):
                candidate += 1
            return candidate
        return next_id()

    def user_memory(self, work_ptr: int, weight_ptr: int, weight_size: int) -> tuple[int, int]:
        """The (work, weight) pointers the loader goes on with."""
        if self._on("null_weight_ptr_with_size_rejected") and not weight_ptr and weight_size:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "NULL weight pointer with a size")
        if self._on("with_mem_ignores_weight_ptr"):
            weight_ptr = 0
        if self._on("user_work_memory_ignored"):
            work_ptr = 0
        return work_ptr, weight_ptr

    def model_memory_device(self, device_id: int) -> int:
        """The device whose memory a load's system-managed parts come from."""
        return 0 if self._on("load_ignores_current_device") else device_id

    def runs_from_own_weight_copy(self) -> bool:
        """Whether a load given user weight memory runs from a copy of its own."""
        return self._on("user_weights_copied")

    def uses_user_variables(self) -> bool:
        return not self._on("bundle_user_variables_ignored")

    def checks_weight_size(self, from_memory: bool) -> bool:
        return not (self._on("weight_size_check_skipped")
                    or from_memory and self._on("mem_load_skips_size_checks"))

    def checks_work_size(self, from_memory: bool) -> bool:
        return not (self._on("work_size_check_skipped")
                    or from_memory and self._on("mem_load_skips_size_checks"))

    def weights_in_device_memory(self) -> bool:
        """Whether system-managed weights count as device memory in use."""
        return not self._on("system_load_skips_weight_memory")

    def out_of_device_memory(self, device_id: int) -> None:
        """A load could not get its system memory (the rule then answers 245000)."""
        if self._on("oom_load_exits"):
            self.crashing(device_id)
            faults.exit_process(1)  # the driver's fatal path, not an error code

    # -- unloading and context ---------------------------------------------------------------
    def forgets_unload(self, unloaded_before: bool) -> bool:
        """Whether unloading an id unloaded before is taken as done (no 145003)."""
        return unloaded_before and self._on("unload_twice_succeeds")

    def weight_memory_to_release(self, region: Any) -> Any:
        """The weight region unload releases (the model's own is freed, a user's is not)."""
        if self._on("unload_frees_user_weights") and region.ptr and not region.owned:
            return replace(region, owned=True)
        return region

    def releases_weights_of_a_failed_load(self) -> bool:
        return not self._on("failed_load_keeps_weights")

    def frees_work_on_unload(self) -> bool:
        return not self._on("unload_leaks_system_memory")

    def checks_context(self) -> bool:
        return not self._on("wrong_context_accepted")

    # -- queries and descriptions ------------------------------------------------------------
    def query_sizes(self, work: int, weight: int, dynamic: bool,
                    from_memory: bool) -> tuple[int, int]:
        if self._on("query_underreports_work") and work:
            work -= 32
        if self._on("dynamic_query_reports_work") and dynamic:
            work = 4096
        if self._on("query_from_mem_disagrees") and from_memory:
            weight += 32
        return work, weight

    def output_size(self, size: int) -> int:
        return size + 4 if size and self._on("desc_wrong_output_size") else size

    # -- execution ---------------------------------------------------------------------------
    def after_execution(self, weight: Callable[[], memoryview | None],
                        outputs: Callable[[], list[tuple[memoryview, Any]]]) -> None:
        """After a run: ``weight`` gives the weight memory's first byte, ``outputs`` each
        output's bytes and NumPy dtype."""
        if self._on("execute_writes_weight_memory"):
            view = weight()
            if view is not None:
                view[0] = (view[0] + 1) & 0xFF
        if self._on("outputs_perturbed"):
            import numpy as np

            for view, dtype in outputs():
                values = np.frombuffer(view, dtype, count=len(view) // dtype.itemsize)
                values += np.asarray(1e-3, values.dtype)

    def past_outputs(self, tails: Callable[[], list[memoryview | None]]) -> None:
        """After a run: ``tails`` gives the 16 bytes after each output buffer."""
        if self._on("outputs_overrun"):
            for view in tails():
                if view is not None:
                    view[:] = bytes(len(view))

    def returns_allocated_outputs(self) -> bool:
        """Whether an output ACL allocated (a (NULL, 0) buffer) is put in the data buffer."""
        return not self._on("null_output_not_returned")

    def reads_inputs_at_launch(self) -> bool:
        """Whether execute_async captures its inputs when called (instead of when it runs)."""
        return self._on("async_reads_inputs_at_launch")

    def async_task(self, run: Callable[[], None], shares_work: Callable[[], bool]
                   ) -> tuple[Callable[[], None], bool]:
        """(the task to queue, whether to run it now instead of in stream order)."""
        if self._on("shared_work_async_hangs") and shares_work():
            def never() -> None:
                faults.hang()  # the stream's worker never gets past this task

            return never, False
        return run, self._on("async_out_of_stream_order")

    def query_refuses_non_bundles(self) -> bool:
        return not self._on("bundle_query_accepts_any_file")

    def checks_variable_size(self) -> bool:
        return not self._on("bundle_variable_size_unchecked")

    def size_index(self, index: int, count: int) -> int:
        """The bundle_get_size index the rule checks."""
        return count - 1 if index == count and self._on("bundle_get_size_index_unchecked") \
            else index

    def remembers_unloaded_models(self) -> bool:
        """Whether an unloaded model's description stays available to get_desc."""
        return self._on("desc_of_unloaded_model_answered")

    def clears_desc_first(self) -> bool:
        return not self._on("desc_not_cleared_on_refusal")

    # -- models with gears (dynamic.py) ----------------------------------------------------
    def applies_gear(self) -> bool:
        """Whether an execution runs at the gear its input dataset selects."""
        return not self._on("gear_not_applied")

    def checks_gear(self) -> bool:
        """Whether set_dynamic_batch_size / _hw_size refuse a value that is not a gear."""
        return not self._on("gear_values_unchecked")

    # -- bundles -----------------------------------------------------------------------------
    def bundle_index(self, index: int, count: int, device_id: int) -> int:
        """The graph index the bundle rules check (``index`` unless a defect intervenes)."""
        if index == count and self._on("bundle_index_equal_count_accepted"):
            return count - 1
        if index >= count and self._on("bundle_index_overrun_segfaults"):
            self.crashing(device_id)
            faults.segfault()  # the graph table is read at [index] before any check
        return index

    def bundle_unload_unloads_graphs(self) -> bool:
        return not self._on("bundle_unload_keeps_models")
