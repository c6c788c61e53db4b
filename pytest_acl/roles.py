"""Which sub-plugins a session gets, by the role of its process.

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


def _report_dir(config: pytest.Config, state: PluginState) -> Path:
    directory = state.settings["report-dir"].value
    if not directory.is_absolute():  # like --junitxml: relative to where pytest started
        directory = config.invocation_params.dir / directory
    return directory


def _build_dir(config: pytest.Config) -> Path:
    """Where the simulator's catalog is built on demand (the probe needs it too)."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("acl-models"))
    return config.invocation_params.dir / ".acl-cache" / "acl-models"


def register(config: pytest.Config, state: PluginState) -> None:
    from pytest_acl.isolation.timeouts import configure_limit
    from pytest_acl.results.selection import RunSelection

    settings = state.settings
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    limit = configure_limit(config, settings["timeout"])
    state.limit = limit
    resume = None
    if workerinput is None and settings["resume"].value is not None \
            and not config.option.collectonly:
        from pytest_acl.results.resume import prepare

        resume = prepare(settings["resume"].value, settings, state.backend_name)
    done = set(workerinput.get("acl_done", ())) if workerinput else \
        (resume.done if resume else set())
    config.pluginmanager.register(RunSelection(
        config, settings["shard"].value, settings["shard-durations"].value, done,
        resume if workerinput is None else None), "acl-selection")
    if config.option.collectonly:
        return
    if workerinput is not None:
        _register_test_process(config, state, lambda: Path(workerinput["acl_run_dir"]),
                               workerinput["workerid"], limit[0])
        return
    from pytest_acl.results.writer import ResultWriter

    writer = ResultWriter(config, _report_dir(config, state), resume)
    config.pluginmanager.register(writer, "acl-results")
    if distributed(config):
        from pytest_acl.isolation.controller import IsolationController

        config.pluginmanager.register(IsolationController(
            config, writer, limit, settings["model-dir"].value,
            _build_dir(config), sorted(done)), "acl-isolation")
    else:
        _register_test_process(config, state, lambda: writer.directory, "main", limit[0])


def _register_test_process(config: pytest.Config, state: PluginState, run_dir: Any,
                           name: str, limit: float) -> None:
    from pytest_acl.isolation.process import TestProcess

    config.pluginmanager.register(TestProcess(config, run_dir, name, state.device_id, limit),
                                  "acl-test-process")
