"""How a dead test process is described: signal or exit status, call in flight, stacks."""

from __future__ import annotations

from pytest_acl.isolation.crashes import describe, exit_text, stopped_from_outside
from pytest_acl.isolation.flight import Flight


def flight(stacks: str = "", call: str | None = "acl.mdl.load_from_mem",
           in_flight: bool = True) -> Flight:
    return Flight("gw1", {"test": "suites/t.py::test_x", "device": 1}, call, in_flight, stacks)


def test_exit_texts():
    assert exit_text(-11) == "killed by SIGSEGV (signal 11)"
    assert exit_text(-6) == "killed by SIGABRT (signal 6)"
    assert exit_text(-9) == "killed by SIGKILL (signal 9)"
    assert exit_text(1) == "exited with status 1"
    assert exit_text(None) == "exit status unknown"


def test_interrupts_are_not_crashes_but_the_oom_killer_is():
    assert stopped_from_outside(-2) and stopped_from_outside(-15) and stopped_from_outside(-1)
    assert not stopped_from_outside(-9) and not stopped_from_outside(-11)
    assert not stopped_from_outside(1) and not stopped_from_outside(None)


def test_a_crash_names_the_signal_the_call_and_the_stacks():
    info = describe(flight("Fatal Python error: Segmentation fault\n\nThread 0x1 ..."), -11,
                    "gw1", 1)
    assert info["kind"] == "crash" and info["signal"] == "SIGSEGV"
    assert info["message"].startswith("crash: worker gw1 on device 1 died while running this "
                                      "test: killed by SIGSEGV (signal 11) — Segmentation fault")
    assert "ACL call in flight: acl.mdl.load_from_mem" in info["message"]
    assert "Stacks of its threads:" in info["message"]


def test_a_timeout_names_its_limit_and_where_it_came_from():
    info = describe(flight("Timeout (0:00:05)!\nThread 0x1 ...", "acl.rt.synchronize_stream"),
                    1, "gw0", 0, 5.0, "command line")
    assert info["kind"] == "timeout" and info["exit_status"] == 1
    assert info["message"].startswith("timeout: the test ran past its limit of 5 s (from "
                                      "command line) and was ended (worker gw0 on device 0)")


def test_without_a_black_box_it_says_what_is_unknown():
    info = describe(None, None, "gw3", None)
    assert info["kind"] == "crash" and "exit status unknown" in info["message"]
    assert "the ACL call in flight is unknown" in info["message"]
