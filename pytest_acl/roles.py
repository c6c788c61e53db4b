"""Which sub-plugins an ACL session gets, by the role of its process.

- **serial** (no xdist workers): it runs the tests and writes the results — result writer,
  run selection (shard, resume), and the test-process guard (flight recorder, time limit).
- **xdist controller**: it runs no test; it writes the results, assigns devices, turns dead
  workers into crash/timeout records and quarantines devices (``isolation.controller``).
- **xdist worker**: it runs tests — run selection and the test-process guard.

A collect-only session gets the selection only (it shows what a run would run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_acl.isolation.isolate import distributed
from pytest_acl.state import PluginState


def report_dir(config: pytest.Config, settings: dict[str, Any]) -> Path:
    directory = settings["report-dir"].value
    if not directory.is_absolute():  # like --junitxml: relative to where pytest started
        directory = config.invocation_params.dir / directory
    return directory


def planned_run_directory(report_dir: Path) -> Path:
    """A run directory no run uses yet, created by whoever needs it first (the writer, or a
    worker's flight recorder)."""
    from pytest_acl.results.writer import run_directory_names

    return next(d for d in run_directory_names(report_dir) if not d.exists())


def build_dir(config: pytest.Config) -> Path:
    """Where the simulator's catalog is built on demand (the probe needs it too)."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("acl-models"))
    return config.invocation_params.dir / ".acl-cache" / "acl-models"


def register(config: pytest.Config, state: PluginState) -> list[Any]:
    """Register this process's sub-plugins; return those that start at session start (a
    session woken at collection starts them by hand)."""
    from pytest_acl.isolation.timeouts import resolve_limit
    from pytest_acl.results.selection import RunSelection

    settings = state.settings
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    state.limit = resolve_limit(config, settings["timeout"])
    resume = None
    if workerinput is None and settings["resume"].value is not None \
            and not config.option.collectonly:
        from pytest_acl.results.resume import prepare

        resume = prepare(settings["resume"].value, settings, state.backend_label,
                         state.canonical)
    done = set(workerinput.get("acl_done", ())) if workerinput else \
        (resume.done if resume else set())
    config.pluginmanager.register(RunSelection(
        config, settings["shard"].value, settings["shard-durations"].value, done,
        resume if workerinput is None else None), "acl-selection")
    if config.option.collectonly:
        return []
    if workerinput is not None:
        run_dir = workerinput.get("acl_run_dir")
        if run_dir is None:  # the controller is not an ACL session: nothing to report to
            return []
        return [_register_test_process(config, state, lambda: Path(run_dir),
                                       workerinput["workerid"])]
    existing = config.pluginmanager.get_plugin("acl-isolation")
    planned = existing.planned if existing is not None else None
    from pytest_acl.results.writer import ResultWriter

    writer = ResultWriter(config, report_dir(config, settings), resume, planned)
    config.pluginmanager.register(writer, "acl-results")
    if existing is not None:  # an xdist controller woken by its workers
        existing.wake(writer, state.limit, settings["model-dir"].value, sorted(done))
        return [writer]
    if distributed(config):
        from pytest_acl.isolation.controller import IsolationController

        controller = IsolationController(config)
        controller.wake(writer, state.limit, settings["model-dir"].value, sorted(done))
        config.pluginmanager.register(controller, "acl-isolation")
        return [writer]
    return [writer, _register_test_process(config, state, lambda: writer.directory, "main")]


def _register_test_process(config: pytest.Config, state: PluginState, run_dir: Any,
                           name: str) -> Any:
    from pytest_acl.isolation.process import TestProcess

    process = TestProcess(config, run_dir, name, state.device_id)
    config.pluginmanager.register(process, "acl-test-process")
    return process
