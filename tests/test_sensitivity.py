"""Suite sensitivity: every defect of the simulator's registry makes the conformance suite
fail.

- Quick (every ``pytest tests``): each defect, one parametrized test, runs the suite test that
  should kill it (``KILLED_BY``, data) in-process with ``-x`` and ``--acl-strict-codes``;
  the same tests pass without defects.
- The full sweep (``-m whole_suite``, CI): the whole quick suite against each defect in a
  subprocess, printing the kill table (defect → first failing test). Observed-level clauses
  count (``--acl-strict-codes``); the table says which kills came through behaviour drift.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pytest_acl.sim.defects import DEFECTS, FATAL

ROOT = Path(__file__).resolve().parent.parent
# The process-ending and hanging defects are left out: the runner's tests use them.
KILLABLE = [defect for defect in DEFECTS if defect not in FATAL]
# The test that kills each defect: the first failure of its file in the full sweep (node
# ids under suites/; run alone, in-process, with --acl-strict-codes).
KILLED_BY = {
    "query_underreports_work":
        "test_load_variants.py::"
        "test_variant_loads_runs_and_unloads[default_context-sync-file_with_mem-work_user-"
        "weight_system-exact-mlp]",
    "query_from_mem_disagrees":
        "test_query_size.py::test_queries_agree_with_each_other_and_the_file[mlp]",
    "dynamic_query_reports_work":
        "test_query_size.py::test_queries_agree_with_each_other_and_the_file[dyn_shape]",
    "with_mem_ignores_weight_ptr":
        "test_sharing.py::test_one_weight_buffer_shared_by_per_thread_loads[file_with_mem]",
    "user_work_memory_ignored":
        "test_user_memory.py::"
        "test_weights_live_in_the_user_buffer_and_stay_unchanged[file_with_mem-mlp]",
    "weight_size_check_skipped":
        "test_user_memory.py::"
        "test_too_small_user_buffers_are_refused_on_every_path[file_with_mem-weight]",
    "work_size_check_skipped":
        "test_user_memory.py::"
        "test_too_small_user_buffers_are_refused_on_every_path[file_with_mem-work]",
    "null_weight_ptr_with_size_rejected":
        "test_bundles.py::"
        ""
        "test_every_graph_loads_and_runs_the_weight_update_flow[bundle_init_file_load_model_with_mem-work_system-weight_system]",
    "system_load_skips_weight_memory":
        "test_query_size.py::test_system_managed_load_takes_the_queried_memory[mlp]",
    "bundle_index_equal_count_accepted":
        "test_bundles.py::test_index_at_or_beyond_the_count_is_refused[bundle_load_file]",
    "model_ids_reused": "test_lifecycle.py::test_ids_are_unique_count_up_and_are_not_reused",
    "unload_leaks_system_memory": "test_bad_models.py::test_corruption[checksum_garbage-load_file]",
    "execute_writes_weight_memory":
        "test_sharing.py::test_one_weight_buffer_shared_by_per_thread_loads[file_with_mem]",
    "truncated_model_accepted": "test_bad_models.py::test_corruption[truncated_body-load_file]",
    "unload_twice_succeeds":
        "test_lifecycle.py::test_unload_twice_and_execute_after_unload_are_refused",
    "wrong_context_accepted": "test_lifecycle.py::test_execute_and_unload_from_another_context",
    "async_out_of_stream_order": "test_sharing.py::test_async_pipeline_on_one_stream_runs_in_order",
    "desc_wrong_output_size":
        "test_load_variants.py::"
        "test_variant_loads_runs_and_unloads[default_context-sync-file-work_system-weight_system-"
        "mlp]",
    "outputs_perturbed":
        "test_bundles.py::test_every_graph_loads_and_runs_the_weight_update_flow[bundle_load_file]",
    "bundle_unload_keeps_models":
        "test_bundles.py::test_every_graph_loads_and_runs_the_weight_update_flow[bundle_load_file]",
    "load_ignores_current_device":
        "test_query_size.py::test_system_managed_load_takes_the_queried_memory[mlp]",
    "unload_frees_user_weights":
        "test_sharing.py::test_one_weight_buffer_shared_by_per_thread_loads[file_with_mem]",
    "failed_load_keeps_weights":
        "test_lifecycle.py::"
        "test_a_load_short_of_device_memory_anywhere_fails_cleanly[all_but_a_little-mlp]",
    "async_reads_inputs_at_launch":
        "test_sharing.py::test_async_pipeline_on_one_stream_runs_in_order",
    "user_weights_copied":
        "test_load_variants.py::"
        "test_variant_loads_runs_and_unloads[default_context-sync-file_with_mem-work_system-"
        "weight_user-exact-mlp]",
    "bundle_user_variables_ignored":
        "test_bundles.py::"
        ""
        "test_every_graph_loads_and_runs_the_weight_update_flow[bundle_init_file_load_model_with_mem-work_user-weight_user-exact]",
    "mem_load_skips_size_checks":
        "test_user_memory.py::"
        "test_too_small_user_buffers_are_refused_on_every_path[mem_with_mem-work]",
    "bundle_variable_size_unchecked": "test_bundles.py::test_too_small_variable_memory_is_refused",
    "bundle_get_size_index_unchecked":
        "test_bundles.py::test_query_info_from_memory_and_the_size_index_range",
    "desc_of_unloaded_model_answered":
        "test_lifecycle.py::test_desc_of_an_unloaded_model_is_refused_and_a_reused_desc_cleared",
    "desc_not_cleared_on_refusal":
        "test_lifecycle.py::test_desc_of_an_unloaded_model_is_refused_and_a_reused_desc_cleared",
    "outputs_overrun": "test_lifecycle.py::test_load_execute_unload_in_a_created_context",
    "null_output_not_returned":
        "test_lifecycle.py::test_sync_execute_allocates_null_output_buffers[mlp]",
    "config_load_pads_short_models":
        "test_bad_models.py::test_corruption[truncated_body-config_file]",
    "bundle_query_accepts_any_file":
        "test_bad_models.py::test_bundle_corruption[model_as_bundle-bundle_query_info_from_file]",
    "config_mem_size_from_header":
        "test_config.py::test_missing_required_attributes[mem_without_size]",
    "gear_not_applied":
        "test_dynamic_shapes.py::test_each_gear_runs_to_its_reference[dyn_hw-gear0]",
    "gear_values_unchecked":
        "test_dynamic_shapes.py::test_a_batch_not_among_the_gears_is_refused[3]",
}
INNER = ("-q", "-p", "no:cacheprovider", "-W", "ignore::pytest_acl.sim.sanitizer.HazardWarning")


def killing_file(defect: str) -> str:
    return KILLED_BY[defect].split("::", 1)[0]


def test_every_defect_has_its_killing_test():
    assert set(KILLED_BY) == set(KILLABLE)
    assert all((ROOT / "suites" / killing_file(name)).is_file() for name in KILLED_BY)


def run_in_process(pytester, monkeypatch, built_catalog, defect: str, *files: str):
    """The suite files on a fresh process-wide simulator with ``defect`` switched on."""
    import pytest_acl.sim

    monkeypatch.setattr(pytest_acl.sim, "_default", None)
    monkeypatch.setenv("PYTEST_ACL_SIM_DEFECTS", defect)
    return pytester.runpytest(*(str(ROOT / "suites" / name) for name in files), *INNER, "-x",
                              "--acl-strict-codes", "--acl-model-dir", str(built_catalog[0]))


def test_the_killing_files_pass_without_defects(pytester, monkeypatch, built_catalog):
    result = run_in_process(pytester, monkeypatch, built_catalog, "",
                            *sorted(set(KILLED_BY.values())))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]


@pytest.mark.parametrize("defect", KILLABLE)
def test_each_defect_is_killed_by_its_test(pytester, monkeypatch, built_catalog, defect):
    result = run_in_process(pytester, monkeypatch, built_catalog, defect, KILLED_BY[defect])
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]


def run_suite(model_dir: Path, defect: str | None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_ACL_", "PYTEST_ADDOPTS"))}
    if defect:
        env["PYTEST_ACL_SIM_DEFECTS"] = defect
    with tempfile.TemporaryDirectory() as reports:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "suites", *INNER, "-x", "--acl-report-dir", reports,
             "--acl-model-dir", str(model_dir), "--acl-strict-codes"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return result.returncode, result.stdout


def first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" ", 1)[1].split(" - ", 1)[0]
    return "(none)"


@pytest.mark.whole_suite
@pytest.mark.timeout(900)
def test_every_defect_is_killed_by_the_quick_suite(built_catalog, capsys):
    model_dir = built_catalog[0]
    clean_status, clean_output = run_suite(model_dir, None)
    assert clean_status == 0, "the suite must pass without defects:\n" + clean_output[-3000:]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(KILLABLE, pool.map(lambda d: run_suite(model_dir, d), KILLABLE),
                           strict=True))
    rows = []
    for defect, (status, output) in results.items():
        how = "drift" if "behaviour drift" in output else "must"
        rows.append((defect, status != 0, first_failure(output), how))
    width = max(len(d) for d in KILLABLE)
    with capsys.disabled():
        print(f"\nkill table ({len(rows)} defects, quick suite, --acl-strict-codes)")
        for defect, killed, test, how in rows:
            print(f"  {defect:<{width}}  {'killed' if killed else 'SURVIVED'} by {test}"
                  + (f" [{how}]" if killed else ""))
    survivors = [defect for defect, killed, _, _ in rows if not killed]
    assert survivors == [], f"defects the suite does not catch: {survivors}"


def test_drift_alone_does_not_fail_without_strict_codes(pytester, monkeypatch, built_catalog):
    """Without --acl-strict-codes an observed-level mismatch is DRIFT, not a failure."""
    import pytest_acl.sim

    monkeypatch.setattr(pytest_acl.sim, "_default", None)
    monkeypatch.setenv("PYTEST_ACL_SIM_DEFECTS", "model_ids_reused")
    result = pytester.runpytest(str(ROOT / "suites" / "test_lifecycle.py"), *INNER, "-rA",
                                "--acl-model-dir", str(built_catalog[0]))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    assert "1 drift" in result.stdout.str() and "lifecycle.id_numbering" in result.stdout.str()
