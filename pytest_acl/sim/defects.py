"""Named, injectable non-conformances: proof that the suite catches what it claims to.

Switch them on with ``PYTEST_ACL_SIM_DEFECTS=name,name`` or ``Simulator(defects=[...])``.
With none switched on the simulator behaves exactly as documented; each defect changes one
observable behaviour, described in one line here.

The defects in :data:`FATAL` end or hang the process (faults.py) instead of answering wrongly:
they model fatal driver bugs, for testing that the test runner survives them. Each has a
narrow trigger that only a few suite tests reach.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

DEFECTS = {
    "query_underreports_work": "query_size and query_size_from_mem report 32 bytes less work "
                               "memory than the model needs",
    "query_from_mem_disagrees": "query_size_from_mem reports 32 bytes more weight memory than "
                                "query_size",
    "dynamic_query_reports_work": "a dynamic model's size query reports 4096 bytes of work "
                                  "memory instead of 0",
    "with_mem_ignores_weight_ptr": "load_*_with_mem allocates its own weight memory and never "
                                   "writes the user's weight buffer",
    "user_work_memory_ignored": "a user work buffer is accepted but intermediates go to "
                                "memory the runtime allocates itself",
    "weight_size_check_skipped": "a user weight buffer smaller than the weights is accepted",
    "work_size_check_skipped": "a user work buffer smaller than required is accepted",
    "null_weight_ptr_with_size_rejected": "a NULL weight pointer with a non-zero size is "
                                          "refused with 100000 instead of meaning "
                                          "system-managed",
    "system_load_skips_weight_memory": "a system-managed load keeps the weights out of device "
                                       "memory (device memory use is below the queried size)",
    "bundle_index_equal_count_accepted": "a bundle graph index equal to the graph count is "
                                         "accepted (it loads the last graph)",
    "model_ids_reused": "static model ids restart at the lowest id not in use",
    "unload_leaks_system_memory": "unload does not free the system-managed work memory",
    "execute_writes_weight_memory": "each execution increments the first byte of the weight "
                                    "memory",
    "truncated_model_accepted": "a model shorter than its header says is padded with zeros "
                                "and loaded",
    "unload_twice_succeeds": "unloading an already unloaded model id returns 0",
    "wrong_context_accepted": "execute from another context is accepted, and the sanitizer "
                              "does not report it",
    "async_out_of_stream_order": "execute_async runs at once instead of after the work "
                                 "already queued on its stream",
    "desc_wrong_output_size": "get_output_size_by_index reports 4 bytes more than the output",
    "outputs_perturbed": "execution adds 1e-3 to every output value",
    "load_ignores_current_device": "a load takes its system-managed work and weight memory "
                                   "from device 0, whatever the current device",
    "unload_frees_user_weights": "unload frees a user-managed weight buffer as if it were the "
                                 "model's own (another model sharing it then faults)",
    "failed_load_keeps_weights": "a load that gets its weight memory but not its work memory "
                                 "keeps the weight memory",
    "async_reads_inputs_at_launch": "execute_async takes its inputs' bytes when it is called, "
                                    "not when the stream reaches it",
    "user_weights_copied": "a load given user weight memory fills it but runs from a weight "
                           "copy it allocates itself",
    "bundle_user_variables_ignored": "a bundle given user variable memory keeps its variables "
                                     "in memory it allocates itself",
    "mem_load_skips_size_checks": "loads from memory (load_from_mem_with_mem, config MEM "
                                  "types, bundle graphs) accept too-small user work and weight "
                                  "buffers",
    "bundle_variable_size_unchecked": "bundle_init_from_* accepts a user variable buffer "
                                      "smaller than the bundle's variables",
    "bundle_get_size_index_unchecked": "bundle_get_size answers an index equal to the graph "
                                       "count with the last graph's sizes",
    "desc_of_unloaded_model_answered": "get_desc of an unloaded model id succeeds with the "
                                       "description it had",
    "desc_not_cleared_on_refusal": "a refused get_desc leaves the desc's previous contents",
    "outputs_overrun": "an execution writes 16 zero bytes past the end of each output buffer "
                       "(where the allocation has room)",
    "null_output_not_returned": "a sync execute with a (NULL, 0) output buffer allocates the "
                                "output but never puts its address in the data buffer",
    "config_load_pads_short_models": "load_with_config pads a model shorter than its header "
                                     "says with zeros and loads it",
    "bundle_query_accepts_any_file": "bundle_query_info_from_* takes a file that is not a "
                                     "bundle as a bundle of one graph",
    "config_mem_size_from_header": "load_with_config of a memory load type without "
                                   "ACL_MDL_MEM_SIZET takes the size from the model's header",
    "bundle_unload_keeps_models": "bundle_unload leaves the bundle's loaded graphs loaded",
    "gear_not_applied": "a model with gears runs at its largest gear whatever "
                        "set_dynamic_batch_size / set_dynamic_hw_size chose",
    "gear_values_unchecked": "set_dynamic_batch_size / set_dynamic_hw_size accept a batch or "
                             "image size that is not one of the model's gears",
    "bundle_index_overrun_segfaults": "a bundle graph index at or beyond the graph count reads "
                                      "past the graph table: the process dies with SIGSEGV",
    "oom_load_exits": "a load that cannot get enough device memory ends the process with "
                      "exit status 1 instead of returning the error code",
    "shared_work_async_hangs": "an execute_async whose work memory is shared with another "
                               "loaded model never completes: synchronize_stream waits forever",
    "crash_loses_device": "a crash defect (SIGSEGV or exit) first loses its device: every "
                          "later set_device on it returns 507033, in any process of the "
                          "machine dir",
}

# Defects that end or hang the process; the runner's crash and timeout handling is tested
# with them (the suite-sensitivity kill table leaves them out).
FATAL = frozenset({"bundle_index_overrun_segfaults", "oom_load_exits",
                   "shared_work_async_hangs", "crash_loses_device"})


class Defects(frozenset[str]):
    """The defects switched on in one simulator (``"name" in defects``)."""

    def __new__(cls, names: Iterable[str] = ()) -> Defects:
        chosen = {name.strip() for name in names if name.strip()}
        unknown = sorted(chosen - set(DEFECTS))
        if unknown:
            from pytest_acl.sim.config import SimConfigError

            raise SimConfigError(f"unknown simulator defect(s) {', '.join(unknown)}; known: "
                                 f"{', '.join(sorted(DEFECTS))}")
        return super().__new__(cls, chosen)

    def on(self, name: str) -> bool:
        """Whether the defect ``name`` is switched on; a name that is no defect is an error
        (the fault points ask through this, faultpoints.py)."""
        if name not in DEFECTS:
            raise KeyError(f"no simulator defect named {name!r}; known: "
                           f"{', '.join(sorted(DEFECTS))}")
        return name in self

    @classmethod
    def from_env(cls) -> Defects:
        try:
            return cls(os.environ.get("PYTEST_ACL_SIM_DEFECTS", "").split(","))
        except ValueError as exc:
            raise type(exc)(f"PYTEST_ACL_SIM_DEFECTS: {exc}") from None
