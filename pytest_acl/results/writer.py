"""Streams result records to ``<report dir>/<run id>/results.jsonl`` as tests finish.

Only the session's main process writes (under xdist the workers' reports arrive at the
controller), one line at a time, flushed at once — so a run killed halfway leaves a valid
file of everything that finished. The first line is a header (environment fingerprint); a
resumed session (``--acl-resume``) appends a ``session`` line instead; then the tests the
session collected, a record per test, and a summary with the run's verdict
(``results.verdict``).
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_acl import __version__
from pytest_acl.results.records import INTERRUPTED_PROPERTY, base_nodeid, record, record_key
from pytest_acl.results.runfile import RESULTS_FILE
from pytest_acl.results.verdict import FAIL, INCOMPLETE, NO_TESTS, PASS, RunVerdict, run_verdict

__all__ = ["RESULTS_FILE", "ResultWriter", "claim_run_directory"]


def run_directory_names(report_dir: Path) -> Iterator[Path]:
    """``<UTC time>-<pid>``, then ``-2``, ``-3``… under the report dir: two sessions of one
    process in the same second (pytester, an IDE) never share a run directory."""
    stem = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}"
    for number in itertools.count(1):
        yield report_dir / (stem if number == 1 else f"{stem}-{number}")


def claim_run_directory(report_dir: Path) -> Path:
    """A new run directory under the report dir, created here, never one that exists."""
    report_dir.mkdir(parents=True, exist_ok=True)
    for directory in run_directory_names(report_dir):
        try:
            directory.mkdir()
        except FileExistsError:
            continue
        return directory
    raise AssertionError("unreachable")


def _git_commit(root: Path) -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _npu_smi() -> str | None:
    try:
        result = subprocess.run(["npu-smi", "info"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _open_for_append(path: Path) -> Any:
    """The run file, ready to append after its last complete line (a line cut short by a
    kill is dropped: it was never a record)."""
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    stream = path.open("r+b")
    stream.truncate(keep)
    stream.seek(keep)
    return stream


class ResultWriter:
    """Main-process plugin: header at session start, a record per test, a summary."""

    def __init__(self, config: pytest.Config, report_dir: Path, resume: Any = None,
                 planned: Path | None = None) -> None:
        self.config = config
        self.report_dir = report_dir
        self.planned = planned  # the run directory an xdist controller promised its workers
        self.resume = resume  # a results.resume.ResumeState, or None for a new run
        self.directory = self.path = Path()  # claimed when the session starts
        self._phases: dict[str, dict[str, pytest.TestReport]] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.collected: list[str] | None = None
        self.interrupted: str | None = None
        self.verdict: RunVerdict | None = None
        self._stream: Any = None
        self._collection_written = False
        if resume is not None:
            self.records = resume.run.final_records()
            self.collected = resume.collected

    # -- writing -----------------------------------------------------------------------------

    def _write(self, data: dict[str, Any]) -> None:
        assert self._stream is not None
        self._stream.write((json.dumps(data, sort_keys=True, default=str) + "\n").encode())
        self._stream.flush()

    def environment(self) -> dict[str, Any]:
        from pytest_acl.state import get_state
        from pytest_acl.suite import suite_hash

        state = get_state(self.config)
        backend = state.backend()
        started = time.time()
        return {
            "run_id": self.directory.name, "started": started,
            "utc_offset": time.localtime(started).tm_gmtoff,  # report.html's local dates
            "backend": state.backend_label, "backend_version": "; ".join(
                f"{b.name}: {b.version}" for b in state.backends()) if state.parity
            else backend.version,
            "soc": backend.static_soc, "devices": list(state.settings["devices"].value),
            "hbm_bytes": backend.hbm_bytes,
            "cann_version": state.cann_version()[0],
            "driver_version": backend.driver_version, "npu_smi": _npu_smi(),
            "suite_version": __version__, "suite_hash": suite_hash(),
            "suite_prefix": state.suite_prefix,
            "git_commit": _git_commit(self.config.rootpath),
            "python": platform.python_version(), "host": platform.node(),
            "level": state.settings["level"].value,
            "shard": "/".join(map(str, state.settings["shard"].value))
            if state.settings["shard"].value else None,
            "options": {name: {"value": setting.value, "source": setting.source}
                        for name, setting in state.settings.items()},
            "args": list(self.config.invocation_params.args),
        }

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Claim the run directory before xdist starts its workers (they write their flight
        recorders into it); a new run writes its header at once. An unusable backend is a
        usage error before anything is created."""
        from pytest_acl.state import get_state

        get_state(self.config).backends()
        if self.resume is not None:
            self.directory = self.resume.directory
            self.path = self.directory / RESULTS_FILE
            self._stream = _open_for_append(self.path)
            return
        if self.planned is not None:
            self.directory = self.planned
            self.directory.mkdir(parents=True, exist_ok=True)
        else:
            self.directory = claim_run_directory(self.report_dir)
        self.path = self.directory / RESULTS_FILE
        self._stream = self.path.open("wb")
        self._write({"type": "header", **self.environment()})

    def collection_finished(self, nodeids: list[str]) -> None:
        """The tests this session will run (once per session, from whichever process
        collected them); a resumed session first checks they are the run's."""
        if self._collection_written or self._stream is None:
            return
        nodeids = [self._canonical(nodeid) for nodeid in nodeids]
        if self.resume is not None:
            from pytest_acl.results.resume import collection_difference

            problem = collection_difference(self.resume, set(nodeids) | self.resume.done)
            if problem:
                pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)
            self._write({"type": "session", "session": self.resume.session,
                         "died_running": self.resume.unexplained, **self.environment()})
            for entry in self.resume.post_mortem:
                self._add(entry)
        self._collection_written = True
        if self.collected is None:
            self.collected = list(nodeids)
        self._write({"type": "collection", "session": self.resume.session if self.resume
                     else 1, "count": len(nodeids), "tests": nodeids})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.config.pluginmanager.has_plugin("dsession"):
            self.collection_finished([item.nodeid for item in session.items])

    def _canonical(self, nodeid: str) -> str:
        from pytest_acl.state import get_state

        return get_state(self.config).canonical(nodeid)

    def _add(self, result: dict[str, Any]) -> None:
        self.records[record_key(result)] = result
        self._write(result)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = base_nodeid(report.nodeid)
        phases = self._phases.setdefault(nodeid, {})
        phases[report.when] = report
        if report.when == "???":  # the supervisor's report: the test's process died
            self._phases.pop(nodeid)
            if any(name == INTERRUPTED_PROPERTY for name, _ in report.user_properties):
                return  # stopped from outside: no verdict on the test, resume runs it
            self._add(record(phases) | {"nodeid": self._canonical(nodeid)})
        elif report.when == "teardown":
            self._add(record(self._phases.pop(nodeid)) | {"nodeid": self._canonical(nodeid)})

    # -- the end -----------------------------------------------------------------------------

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.interrupted = str(excinfo.value) or type(excinfo.value).__name__

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._stream is None:
            return
        if session.shouldfail or session.shouldstop:
            self.interrupted = self.interrupted or str(session.shouldfail or session.shouldstop)
        if int(exitstatus) == pytest.ExitCode.INTERRUPTED and not self.interrupted:
            self.interrupted = "KeyboardInterrupt"
        self.verdict = verdict = run_verdict(self.collected, self.records, True,
                                             self.interrupted)
        self._write({"type": "summary", "session": self.resume.session if self.resume else 1,
                     "finished": time.time(), "exitstatus": int(exitstatus),
                     "verdict": verdict.verdict, "reasons": verdict.reasons,
                     "interrupted": self.interrupted, "counts": verdict.counts,
                     "missing": len(verdict.missing), "models": self._model_hashes()})
        self._stream.close()
        self._stream = None
        self.write_html()
        if verdict.verdict != INCOMPLETE:
            shutil.rmtree(self.directory / "flight", ignore_errors=True)
        if verdict.verdict not in (INCOMPLETE, NO_TESTS) and self._level() == "full":
            self._write_bundle()
        if verdict.verdict in (INCOMPLETE, FAIL) and session.exitstatus == pytest.ExitCode.OK:
            # never green by accident: a run resumed after its failures is still failing
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write_bundle(self) -> None:
        from pytest_acl.results.qualification import write_bundle
        from pytest_acl.state import get_state

        settings = get_state(self.config).settings
        write_bundle(self.directory, settings["expectations"].value,
                     settings["sign-key"].value)

    def _model_hashes(self) -> dict[str, str]:
        """SHA-256 of each fixture model the run used (from the catalog's manifest)."""
        from pytest_acl.models.manifest import read_manifest
        from pytest_acl.state import get_state

        directory = get_state(self.config).settings["model-dir"].value
        cache = getattr(self.config, "cache", None)
        if directory is None and cache is not None:
            directory = Path(cache.mkdir("acl-models"))
        manifest = read_manifest(directory) if directory is not None else None
        if not manifest:
            return {}
        return {name: entry.get("sha256", "") for name, entry in manifest["models"].items()}

    def _level(self) -> str:
        from pytest_acl.state import get_state

        return get_state(self.config).settings["level"].value

    def _clauses(self) -> dict:
        from pytest_acl.clauses import load_clauses
        from pytest_acl.suite import catalog_file

        for candidate in (self.config.rootpath / "suites" / "clauses.toml",
                          self.config.rootpath / "clauses.toml", catalog_file()):
            if candidate is not None and candidate.is_file():
                return load_clauses(candidate)
        return {}

    def write_html(self) -> None:
        from pytest_acl.results.html import render
        from pytest_acl.results.runfile import read_run

        run = read_run(self.path)
        assert self.verdict is not None
        (self.directory / "report.html").write_text(
            render(run.header, list(self.records.values()), self._clauses(), self.verdict),
            encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        from pytest_acl.results.matrix import render

        lines = render([r for r in self.records.values() if r.get("clauses")])
        if lines:
            terminalreporter.section("acl conformance matrix")
            for line in lines:
                terminalreporter.write_line(line)
        if self.verdict is not None:
            verdict = self.verdict
            terminalreporter.write_line(f"acl verdict: {verdict.text}",
                                        green=verdict.verdict == PASS,
                                        red=verdict.verdict != PASS, bold=True)
            if verdict.verdict == INCOMPLETE:
                terminalreporter.write_line(
                    f"acl: continue this run with: pytest ... --acl-resume {self.directory}")
        terminalreporter.write_line(f"acl results: {self.path}")
