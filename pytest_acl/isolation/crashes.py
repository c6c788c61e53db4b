"""What a dead test process tells: a ``crash`` or ``timeout`` description from its exit
status and its flight recorder, for the live supervisor (the xdist controller) and for
``--acl-resume`` after a serial run died alike."""

from __future__ import annotations

import signal
from typing import Any

from pytest_acl.isolation.flight import Flight

# Signals that mean "someone stopped the run", not "the test crashed its process".
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT}


def exit_text(status: int | None) -> str:
    if status is None:
        return "exit status unknown"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"killed by {name} (signal {-status})"
    return f"exited with status {status}"


def stopped_from_outside(status: int | None) -> bool:
    """The process was stopped by an interrupt or termination signal (Ctrl-C, a CI job being
    cancelled), which is not a verdict on the test it was running."""
    return status is not None and status < 0 and -status in STOP_SIGNALS


def describe(flight: Flight | None, status: int | None, worker: str, device: int | None,
             limit: float | None = None, limit_source: str | None = None) -> dict[str, Any]:
    """The ``crash`` field of the record: kind (crash or timeout), how the process ended,
    the ACL call in flight, the stacks of its threads and a one-paragraph message."""
    timed_out = flight is not None and flight.timed_out
    where = f"worker {worker}" + (f" on device {device}" if device is not None else "")
    if timed_out:
        limit_text = f"its limit of {limit:g} s" if limit else "its time limit"
        if limit_source:
            limit_text += f" (from {limit_source})"
        headline = f"timeout: the test ran past {limit_text} and was ended ({where})"
    else:
        fatal = flight.fatal_error if flight is not None else None
        headline = f"crash: {where} died while running this test: {exit_text(status)}" + \
            (f" — {fatal}" if fatal else "")
    call = flight.call_text if flight is not None else "the ACL call in flight is unknown"
    stacks = flight.stacks.strip() if flight is not None else ""
    message = f"{headline}\n{call}" + (f"\n\nStacks of its threads:\n{stacks}" if stacks else "")
    return {"kind": "timeout" if timed_out else "crash", "worker": worker, "device": device,
            "exit_status": status, "exit": exit_text(status),
            "signal": signal.Signals(-status).name if status is not None and status < 0
            and -status in signal.Signals._value2member_map_ else None,
            "call": flight.call if flight is not None else None,
            "call_in_flight": bool(flight and flight.call_in_flight),
            "stacks": stacks, "message": message}
