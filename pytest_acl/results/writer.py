"""Streams result records to ``<report dir>/<run id>/results.jsonl`` as tests finish.

Only the controller writes (under xdist the workers' reports arrive at the controller), one
line per test, flushed at once — so a run killed halfway leaves a valid file of everything
that finished. The first line is a header (environment fingerprint), the last a summary.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_acl import __version__
from pytest_acl.results.records import base_nodeid, record

RESULTS_FILE = "results.jsonl"


def claim_run_directory(report_dir: Path) -> Path:
    """A new directory ``<UTC time>-<pid>`` under the report dir, never one that exists:
    two sessions of one process in the same second (pytester, an IDE) get ``-2``, ``-3``…"""
    report_dir.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}"
    for number in itertools.count(1):
        directory = report_dir / (stem if number == 1 else f"{stem}-{number}")
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


class ResultWriter:
    """Controller-side plugin: header at session start, a record per test, a summary."""

    def __init__(self, config: pytest.Config, report_dir: Path) -> None:
        self.config = config
        self.report_dir = report_dir
        self.directory = self.path = Path()  # claimed when the session starts
        self._phases: dict[str, dict[str, pytest.TestReport]] = {}
        self._counts: dict[str, int] = {}
        self.records: list[dict[str, Any]] = []
        self._stream = None

    def _write(self, data: dict[str, Any]) -> None:
        assert self._stream is not None
        self._stream.write(json.dumps(data, sort_keys=True, default=str) + "\n")
        self._stream.flush()

    def header(self) -> dict[str, Any]:
        from pytest_acl.state import get_state

        state = get_state(self.config)
        backend = state.backend()
        return {
            "type": "header", "run_id": self.directory.name, "started": time.time(),
            "backend": backend.name, "backend_version": backend.version,
            "soc": backend.static_soc, "devices": list(state.settings["devices"].value),
            "hbm_bytes": backend.extra.get("hbm_bytes"),
            "cann_version": state.cann_version()[0],
            "driver_version": backend.extra.get("driver_version"), "npu_smi": _npu_smi(),
            "suite_version": __version__, "git_commit": _git_commit(self.config.rootpath),
            "python": platform.python_version(), "host": platform.node(),
            "level": state.settings["level"].value,
            "options": {name: {"value": setting.value, "source": setting.source}
                        for name, setting in state.settings.items()},
            "args": list(self.config.invocation_params.args),
        }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.directory = claim_run_directory(self.report_dir)
        self.path = self.directory / RESULTS_FILE
        self._stream = self.path.open("w", encoding="utf-8")
        self._write(self.header())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = base_nodeid(report.nodeid)
        phases = self._phases.setdefault(nodeid, {})
        phases[report.when] = report
        if report.when == "teardown":
            result = record(self._phases.pop(nodeid))
            self._counts[result["outcome"]] = self._counts.get(result["outcome"], 0) + 1
            self.records.append(result)
            self._write(result)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._stream is None:
            return
        self._write({"type": "summary", "finished": time.time(), "exitstatus": int(exitstatus),
                     "counts": dict(sorted(self._counts.items())),
                     "models": self._model_hashes()})
        self._stream.close()
        self._stream = None
        self.write_html()
        if self._level() == "full":
            from pytest_acl.results.qualification import write_bundle
            from pytest_acl.state import get_state

            expectations = get_state(self.config).settings["expectations"].value
            write_bundle(self.directory, self._clauses_file(), expectations)

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

    def _clauses_file(self) -> Path | None:
        for candidate in (self.config.rootpath / "suites" / "clauses.toml",
                          self.config.rootpath / "clauses.toml"):
            if candidate.is_file():
                return candidate
        return None

    def _clauses(self) -> dict:
        from pytest_acl.clauses import load_clauses

        catalog = self._clauses_file()
        return load_clauses(catalog) if catalog is not None else {}

    def write_html(self) -> None:
        from pytest_acl.results.html import render

        header = json.loads(self.path.read_text(encoding="utf-8").splitlines()[0])
        (self.directory / "report.html").write_text(
            render(header, self.records, self._clauses()), encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        from pytest_acl.results.matrix import render

        lines = render([r for r in self.records if r.get("clauses")])
        if lines:
            terminalreporter.section("acl conformance matrix")
            for line in lines:
                terminalreporter.write_line(line)
        terminalreporter.write_line(f"acl results: {self.path}")
