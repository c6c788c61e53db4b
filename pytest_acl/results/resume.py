"""``--acl-resume RUN_DIR``: continue an interrupted or killed run in its own directory.

The run must be the same run: same suite (version and fingerprint), backend, device set and
options (all but those that only say how the run is carried out: report directory, resume,
time limit, isolation, signing key) — otherwise a usage error names the difference — and
the resumed session must collect the same tests. Tests with a final record are not run
again; ``device_lost`` tests are (they never ran). New records are appended to the run's
``results.jsonl``, after a ``session`` line; the verdict covers the union.

Before that, the black boxes of processes that died in an earlier session are read (a
serial session has no supervisor to record its own death): a test that was in flight when
its process got a fatal signal or passed its deadline is recorded ``crash`` / ``timeout``.
A death with no trace (``os._exit``, SIGKILL) is taken for an interruption and the test runs
again — unless the same test was in flight at an earlier such death too: then it is
recorded ``crash`` ("died twice").
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_acl import __version__
from pytest_acl.isolation import crashes
from pytest_acl.isolation.flight import FLIGHT_DIR, flight_names, read_flight
from pytest_acl.options import Resolved
from pytest_acl.results.records import NOT_RUN
from pytest_acl.results.runfile import RunFile, RunFileError, read_run
from pytest_acl.results.verdict import INCOMPLETE, run_verdict
from pytest_acl.suite import suite_hash

HOW_NOT_WHAT = {"report-dir", "resume", "timeout", "isolate", "sign-key"}


@dataclass
class ResumeState:
    directory: Path
    run: RunFile
    session: int
    done: set[str] = field(default_factory=set)
    post_mortem: list[dict[str, Any]] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)

    @property
    def collected(self) -> list[str] | None:
        return self.run.collected


def _value(setting: Any) -> Any:
    return json.loads(json.dumps(setting, default=str))


def differences(header: dict[str, Any], settings: dict[str, Resolved],
                backend: str) -> list[str]:
    """How this session differs from the run it would resume (empty: it may resume)."""
    found = []
    if header.get("suite_version") != __version__:
        found.append(f"suite version {header.get('suite_version')} there, {__version__} here")
    ours = suite_hash()
    if header.get("suite_hash") and ours and header["suite_hash"] != ours:
        found.append("the conformance suite changed since that run (suite fingerprint "
                     f"{header['suite_hash'][:12]} there, {ours[:12]} here)")
    if header.get("backend") != backend:
        found.append(f"backend {header.get('backend')} there, {backend} here")
    recorded = header.get("options", {})
    for name, setting in settings.items():
        if name in HOW_NOT_WHAT:
            continue
        theirs = (recorded.get(name) or {}).get("value")
        if _value(setting.value) != theirs:
            flag = f"--acl-{name}"
            found.append(f"{flag} {_value(setting.value)!r} here, {theirs!r} there")
    return found


def _post_mortem(state: ResumeState, earlier_unexplained: set[str],
                 canonical: Callable[[str], str]) -> None:
    directory = state.directory / FLIGHT_DIR
    if not directory.is_dir():
        return
    for name in flight_names(directory):
        flight = read_flight(directory, name)
        raw = (flight.test or {}).get("test") if flight else None
        nodeid = canonical(raw) if raw else None
        if flight is None or not nodeid or nodeid in state.done:
            continue
        device = (flight.test or {}).get("device")
        if flight.timed_out or flight.fatal_error:
            info = crashes.describe(flight, None, name, device)
        elif nodeid in earlier_unexplained:
            info = crashes.describe(flight, None, name, device)
            info["message"] = ("crash: the process died twice while running this test with "
                               "no fatal signal caught (an exit, or SIGKILL such as the OOM "
                               "killer's)\n" + info["message"].split("\n", 1)[-1])
        else:
            state.unexplained.append(nodeid)
            continue
        state.post_mortem.append(supervisor_record(nodeid, info))
        state.done.add(nodeid)
    shutil.rmtree(directory, ignore_errors=True)


def supervisor_record(nodeid: str, info: dict[str, Any]) -> dict[str, Any]:
    """A ``crash``/``timeout`` record written for a test whose process could not."""
    return {"type": "test", "nodeid": nodeid, "outcome": info["kind"],
            "message": info["message"][-8000:], "clauses": [], "axes": {}, "codes": [],
            "timings": {}, "device": info.get("device"), "worker": info.get("worker"),
            "duration": 0.0, "crash": info}


def prepare(directory: Path, settings: dict[str, Resolved], backend: str,
            canonical: Callable[[str], str]) -> ResumeState:
    """What the resumed session must do, or a UsageError saying why it cannot resume."""
    source = settings["resume"].source
    try:
        run = read_run(directory)
    except (OSError, RunFileError) as exc:  # RunFileError names the file and line
        raise pytest.UsageError(f"--acl-resume {directory} (from {source}): {exc}") from None
    if run.merged or not run.header:
        raise pytest.UsageError(f"--acl-resume {directory} (from {source}): not a run this "
                                "plugin wrote (merged runs cannot be resumed; resume each "
                                "host's run, then merge again)")
    found = differences(run.header, settings, backend)
    if found:
        raise pytest.UsageError(f"--acl-resume {directory} (from {source}) is a different "
                                "run: " + "; ".join(found) + ". Resume with the same "
                                "options, or start a new run")
    final = run.final_records()
    verdict = run_verdict(run.collected, final, run.ended,
                          run.summaries[-1].get("interrupted") if run.summaries else None)
    if verdict.verdict != INCOMPLETE:
        raise pytest.UsageError(f"--acl-resume {directory} (from {source}): the run is "
                                f"complete (verdict {verdict.verdict}); there is nothing to "
                                "resume")
    state = ResumeState(directory, run, len(run.sessions) + 1,
                        {key for key, r in final.items() if r["outcome"] not in NOT_RUN})
    earlier = {nodeid for session in run.sessions for nodeid in session.get("died_running", [])}
    _post_mortem(state, earlier, canonical)
    return state


def collection_difference(state: ResumeState, collected: set[str]) -> str | None:
    """Why this session's collection (before leaving out done tests) is not the run's."""
    original = state.collected
    if original is None:
        return None
    missing, extra = set(original) - collected, collected - set(original)
    if not (missing or extra):
        return None
    parts = []
    for what, names in (("the run has but this session does not collect", missing),
                        ("this session collects but the run did not have", extra)):
        if names:
            sample = ", ".join(sorted(names)[:3])
            parts.append(f"{len(names)} test(s) {what} (e.g. {sample})")
    return (f"--acl-resume {state.directory}: this session does not collect the run's tests: "
            + "; ".join(parts) + ". Resume with the same test selection (paths, -k, -m)")

