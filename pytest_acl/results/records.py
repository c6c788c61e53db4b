"""What one test's result record holds, and the outcome taxonomy.

Outcomes beyond pass/fail/skip (DESIGN.md "Results"): ``not_supported`` (the backend or SoC
lacks the API — an applicability skip, not a defect), ``known_fail`` (an expected failure:
an xfail or an expectation entry), ``xpass`` (an expected failure passed), ``drift`` (an
observed-level mismatch), ``error`` (setup/teardown, i.e. infrastructure); and, written by
the supervisor of the test processes: ``crash`` (the process died while running the test),
``timeout`` (the test passed its time limit and was ended) and ``device_lost`` (the test
never ran: its device failed the health probe and no healthy device was left).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

OUTCOMES = ("pass", "fail", "skip", "not_supported", "known_fail", "waived", "xpass",
            "drift", "error", "crash", "timeout", "device_lost", "binding_defect")
# binding_defect: in a parity run, a test that failed through one binding and passed through
# another (results/parity.py decides it from the pair; the record itself says fail).
FAILING = {"fail", "error", "crash", "timeout", "xpass", "binding_defect"}
NOT_RUN = {"device_lost"}  # not a verdict on the test: a resumed run runs it again
# Properties the supervisor attaches to the report it makes for a test whose process died.
CRASH_PROPERTY, LOST_PROPERTY, INTERRUPTED_PROPERTY = "acl.crash", "acl.device_lost", \
    "acl.interrupted"
# A test that needs an API its backend lacks skips with this (fixtures._acl_markers).
NOT_EXPOSED = "not exposed by this backend"
NOT_SUPPORTED_REASONS = (NOT_EXPOSED, "does not match acl_soc")
_XDIST_GROUP = re.compile(r"@[^\]]*$")
PROPERTY_PREFIX = "acl."


def base_nodeid(nodeid: str) -> str:
    """The node id without an xdist ``@group`` suffix, so runs compare by test."""
    return _XDIST_GROUP.sub("", nodeid) if "]" in nodeid or "@" in nodeid else nodeid


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def outcome_of(phases: dict[str, pytest.TestReport]) -> tuple[str, str]:
    """(outcome, message) from a test's setup/call/teardown reports — or from the report
    the supervisor made when the test's process died (``when == "???"``, as xdist names it)."""
    ended = phases.get("???")
    if ended is not None:
        props = dict(ended.user_properties)
        if LOST_PROPERTY in props:
            return "device_lost", str(ended.longreprtext)
        crash = props.get(CRASH_PROPERTY)
        kind = crash.get("kind", "crash") if isinstance(crash, dict) else "crash"
        return str(kind), str(ended.longreprtext)[-8000:]
    setup, call, teardown = phases.get("setup"), phases.get("call"), phases.get("teardown")
    for report in (setup, call):
        if report is not None and report.skipped:
            if hasattr(report, "wasxfail"):
                waived = ("acl.expectation", "waived") in report.user_properties
                return ("waived" if waived else "known_fail"), str(report.wasxfail)
            reason = _skip_reason(report)
            if any(marker in reason for marker in NOT_SUPPORTED_REASONS):
                return "not_supported", reason
            return "skip", reason
    if setup is not None and setup.failed:
        return "error", str(setup.longreprtext)[-2000:]
    if call is not None:
        if call.failed:
            return "fail", str(call.longreprtext)[-2000:]
        if hasattr(call, "wasxfail"):
            return "xpass", str(call.wasxfail)
        drift = dict(call.user_properties).get("acl.drift")
        if drift:
            return "drift", str(drift)
    if teardown is not None and teardown.failed:
        return "error", str(teardown.longreprtext)[-2000:]
    return "pass", ""


def error_of(phases: dict[str, pytest.TestReport]) -> str:
    """The exception a failed phase ended with (``AssertionError: clause.id: …``), whole:
    the message keeps only the traceback's tail, which a long falsifying example fills."""
    for when in ("setup", "call", "teardown"):
        report = phases.get(when)
        if report is not None and report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            return str(crash.message)[:4000] if crash is not None else ""
    return ""


def properties(phases: dict[str, pytest.TestReport]) -> dict[str, Any]:
    """The ``acl.*`` user properties the worker attached (clauses, axes, device, …)."""
    found: dict[str, Any] = {}
    for report in phases.values():
        for name, value in report.user_properties:
            if name.startswith(PROPERTY_PREFIX):
                found[name.removeprefix(PROPERTY_PREFIX)] = value
    return found


def record(phases: dict[str, pytest.TestReport]) -> dict[str, Any]:
    any_report = next(iter(phases.values()))
    outcome, message = outcome_of(phases)
    props = properties(phases)
    return {
        "type": "test",
        "nodeid": base_nodeid(any_report.nodeid),
        "outcome": outcome,
        "message": message,
        "clauses": props.get("clauses", "").split(",") if props.get("clauses") else [],
        "axes": json.loads(props["axes"]) if isinstance(props.get("axes"), str)
        else props.get("axes", {}),
        "codes": props.get("codes", []),
        "timings": props.get("timings", {}),
        "device": props.get("device"),
        "worker": props.get("worker", "main"),
        "duration": round(sum(r.duration for r in phases.values()), 6),
    } | ({"binding": props["binding"]} if isinstance(props.get("binding"), str) else {}) \
        | ({"crash": props["crash"]} if isinstance(props.get("crash"), dict) else {}) \
        | ({"observed": props["observed"]} if isinstance(props.get("observed"), dict) else {}) \
        | ({"error": error} if outcome in ("fail", "error") and (error := error_of(phases))
           else {})


def record_key(record: dict[str, Any]) -> str:
    """The node id, prefixed with its host label in a merged run: the same test ran on
    several hosts or devices there, and each of those is a test of its own."""
    label = (record.get("source") or {}).get("label")
    return f"[{label}] {record['nodeid']}" if label else record["nodeid"]
