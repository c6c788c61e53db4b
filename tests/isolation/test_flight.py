"""The flight recorder: what a process was doing survives its death, however it dies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pytest_acl.isolation.flight import FlightRecorder, read_flight


def die(tmp_path, body: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(f"""
        import ctypes, faulthandler, os, signal, sys, time
        from pathlib import Path
        from pytest_acl.isolation.flight import FlightRecorder
        recorder = FlightRecorder(Path({str(tmp_path)!r}), "gw0")
        recorder.arm_fatal_signals()
        recorder.test_started("suites/test_x.py::test_y[a-b]", 1)
    """) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_sigkill_in_a_call_leaves_the_test_and_the_call_in_flight(tmp_path):
    result = die(tmp_path, """
        recorder.call_started("acl.rt.malloc")
        recorder.call_returned()
        recorder.call_started("acl.mdl.load_from_mem")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert result.returncode == -9
    flight = read_flight(tmp_path, "gw0")
    assert flight.test["test"] == "suites/test_x.py::test_y[a-b]" and flight.test["device"] == 1
    assert flight.call == "acl.mdl.load_from_mem" and flight.call_in_flight
    assert flight.call_text == "ACL call in flight: acl.mdl.load_from_mem"
    assert not flight.timed_out and flight.fatal_error is None


def test_a_segfault_leaves_every_threads_stack(tmp_path):
    result = die(tmp_path, """
        recorder.call_started("acl.mdl.execute")
        recorder.call_returned()
        ctypes.string_at(1)
    """)
    assert result.returncode == -11
    flight = read_flight(tmp_path, "gw0")
    assert flight.fatal_error == "Segmentation fault"
    assert "<string>" in flight.stacks and not flight.call_in_flight
    assert flight.call_text == "last ACL call (it had returned): acl.mdl.execute"


def test_a_deadline_ends_the_process_with_the_stacks(tmp_path):
    result = die(tmp_path, """
        recorder.set_deadline(0.5)
        faulthandler.dump_traceback_later(0.5, exit=True, file=recorder.stacks)
        time.sleep(30)
    """)
    assert result.returncode == 1
    flight = read_flight(tmp_path, "gw0")
    assert flight.timed_out and "<string>" in flight.stacks
    assert flight.stacks.startswith("Timeout (0:00:00.500000)!")
    assert flight.test["deadline"] is not None


def test_a_finished_test_leaves_nothing_and_huge_ids_are_cut_not_fatal(tmp_path):
    recorder = FlightRecorder(tmp_path, "main")
    recorder.test_started("suites/t.py::test_" + "x" * 20000, None)
    recorder.call_started("acl." + "y" * 5000)
    flight = read_flight(tmp_path, "main")
    assert flight.test is None or flight.test["test"].startswith("suites/t.py")
    assert flight.call.startswith("acl.yyy")
    recorder.test_finished()
    assert read_flight(tmp_path, "main").test is None
    recorder.close(remove=True)
    assert read_flight(tmp_path, "main") is None
