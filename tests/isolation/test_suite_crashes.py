"""The real conformance suite on a simulator that segfaults, exits and hangs (the fatal
defects): under -n 2 and serially (isolated), every test ends with exactly one final record —
crash (signal or exit status, ACL call in flight), timeout (the stacks of its threads) or its
own outcome — the run goes on, report.html says FAIL, verify says NOT CONFORMANT, and the
run ends within its time limits plus a minute. A device that fails its health probe after a
crash is quarantined: its tests move to a healthy device, or are recorded device_lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Whole-suite runs in subprocesses: more than the default per-test limit on a slow machine.
pytestmark = [pytest.mark.whole_suite, pytest.mark.timeout(900)]

FATAL = "bundle_index_overrun_segfaults,oom_load_exits,shared_work_async_hangs"
RESTART = 6  # seconds a crashed worker costs at most, a replacement started
LIMIT = 3
QUIET = ("-W", "ignore::pytest_acl.sim.sanitizer.HazardWarning")
SCRIPT = Path(sys.executable).with_name("pytest-acl")


def verify(run: Path) -> str:
    return subprocess.run([str(SCRIPT), "verify", str(run)], capture_output=True, text=True,
                          timeout=300).stdout


@pytest.mark.parametrize("how", [("-n", "2", "--acl-devices", "0,1"), ("--acl-isolate", "yes")],
                         ids=["two-workers", "serial-isolated"])
def test_crashes_and_hangs_in_the_suite_are_recorded_and_the_run_goes_on(
        run_suite, full_run, suite_size, tmp_path, how):
    run = run_suite(tmp_path / "reports", "--acl-level", "full", "--acl-timeout", str(LIMIT),
                    *how, *QUIET, PYTEST_ACL_SIM_DEFECTS=FATAL)
    assert run.result.returncode == 1, run.output[-3000:]
    lines = run.lines
    collected = [line for line in lines if line["type"] == "collection"][0]["tests"]
    tests = [line for line in lines if line["type"] == "test"]
    assert sorted(r["nodeid"] for r in tests) == sorted(collected)  # each exactly once
    assert len(collected) == suite_size
    by_id = run.records

    segfaults = [r for n, r in by_id.items()
                 if "test_index_at_or_beyond_the_count_is_refused" in n]
    assert len(segfaults) == 8
    for record in segfaults:
        assert record["outcome"] == "crash", record["message"][:500]
        assert record["crash"]["signal"] == "SIGSEGV" and "SIGSEGV" in record["message"]
        assert record["crash"]["call_in_flight"] and \
            record["crash"]["call"].startswith("acl.mdl.bundle_")
        assert "Segmentation fault" in record["crash"]["stacks"]

    exited = by_id["suites/test_lifecycle.py::"
                   "test_load_without_enough_device_memory_fails_cleanly"]
    assert exited["outcome"] == "crash" and exited["crash"]["exit_status"] == 1
    assert exited["crash"]["call"] == "acl.mdl.load_from_mem" and exited["crash"]["call_in_flight"]
    assert "exited with status 1" in exited["message"]

    hung = by_id["suites/test_sharing.py::test_shared_work_async_on_one_stream[file_with_mem]"]
    assert hung["outcome"] == "timeout"
    assert f"past its limit of {LIMIT} s" in hung["message"]
    assert "Timeout (0:00:03)!" in hung["crash"]["stacks"]
    assert "synchronize_stream" in hung["crash"]["stacks"] or \
        hung["crash"]["call"] == "acl.rt.synchronize_stream"

    # not_supported: the C-only tests, which skip as not exposed on the simulator's pyACL
    failing = {n for n, r in by_id.items()
               if r["outcome"] not in ("pass", "drift", "not_supported")}
    assert all(by_id[n]["outcome"] in ("crash", "timeout") for n in failing)
    assert lines[-1]["type"] == "summary" and lines[-1]["verdict"] == "FAIL"
    assert 'id="verdict">FAIL<' in (run.directory / "report.html").read_text()
    assert verify(run.directory).startswith("verdict: NOT CONFORMANT")
    hangs = sum(r["outcome"] == "timeout" for r in tests)
    crashes = sum(r["outcome"] == "crash" for r in tests)
    # each hang costs its limit, each crash a new worker (Python, pytest, the plugins: a few
    # seconds on a busy 2-core machine); nothing else may slow the run down
    budget = 2 * full_run.seconds + hangs * LIMIT + crashes * RESTART + 60
    assert run.seconds < budget, (run.seconds, budget, hangs, crashes)


def test_a_device_that_fails_its_probe_is_quarantined_and_its_tests_move(run_suite, tmp_path):
    """Device 0's worker crashes and loses the device; the probe fails; the tests go to
    device 1's worker and the run is complete (FAIL for the crash, nothing lost)."""
    # one test that runs out of device memory (-k: not the tests that run out at every
    # budget), so exactly one worker crashes
    run = run_suite(tmp_path / "reports", "-n", "2", "--acl-devices", "0,1", *QUIET,
                    "-k", "not short_of_device_memory_anywhere",
                    paths=("suites/test_lifecycle.py", "suites/test_query_size.py",
                           "suites/test_config.py"),
                    PYTEST_ACL_SIM_DEFECTS="oom_load_exits,crash_loses_device",
                    PYTEST_ACL_SIM_MACHINE_DIR=str(tmp_path / "machine"))
    assert run.result.returncode == 1, run.output[-3000:]
    assert "FAILED — device" in run.output and "quarantined" in run.output
    outcomes = [r["outcome"] for r in run.records.values()]
    assert outcomes.count("crash") == 1 and "device_lost" not in outcomes
    assert len(outcomes) == run.lines[1]["count"]
    assert run.lines[-1]["verdict"] == "FAIL"


def test_without_a_healthy_device_the_rest_is_device_lost_and_resume_runs_it(run_suite,
                                                                               tmp_path):
    machine = tmp_path / "machine"
    paths = ("suites/test_lifecycle.py", "suites/test_query_size.py")
    run = run_suite(tmp_path / "reports", "--acl-isolate", "yes", *QUIET, paths=paths,
                    PYTEST_ACL_SIM_DEFECTS="oom_load_exits,crash_loses_device",
                    PYTEST_ACL_SIM_MACHINE_DIR=str(machine))
    assert run.result.returncode != 0
    outcomes = {n: r["outcome"] for n, r in run.records.items()}
    lost = [n for n, o in outcomes.items() if o == "device_lost"]
    assert lost and len(outcomes) == run.lines[1]["count"]
    assert run.lines[-1]["verdict"] == "INCOMPLETE"
    assert "device lost" in run.records[lost[0]]["message"]
    assert verify(run.directory).startswith("verdict: INCOMPLETE")

    for marker in machine.iterdir():  # the card is replaced
        marker.unlink()
    resumed = run_suite(tmp_path / "reports", "--acl-isolate", "yes", "--acl-resume",
                        str(run.directory), *QUIET, paths=paths)
    final = {r["nodeid"]: r["outcome"] for r in resumed.lines if r["type"] == "test"}
    assert all(final[n] != "device_lost" for n in lost), final
    assert resumed.lines[-1]["verdict"] == "FAIL"  # the crash stays on record
