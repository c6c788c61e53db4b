"""allure-pytest integration, registered only when allure-pytest is installed and active.

Every test gets labels — epic = API family, feature = variant, story = each clause, severity
by clause level (must → critical, observed → normal) — device and backend as *excluded*
parameters (shown, but they do not split a test's history across machines), and the codes
and load/execute/unload times it saw as a JSON attachment. The controller writes
``environment.properties`` and ``categories.json`` (drift, known failure, infrastructure).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import allure
import pytest

from pytest_acl.results.matrix import family_of
from pytest_acl.state import get_state

CATEGORIES = [
    {"name": "Behaviour drift (observed-level code differs)", "matchedStatuses": ["failed"],
     "messageRegex": ".*behaviour drift.*"},
    {"name": "Known failures (expectation entries)", "matchedStatuses": ["skipped"],
     "messageRegex": ".*(known_fail|waived).*"},
    {"name": "Not supported by the backend or SoC", "matchedStatuses": ["skipped"],
     "messageRegex": ".*(not exposed by this backend|does not match acl_soc).*"},
    {"name": "Infrastructure (runtime or device errors)", "matchedStatuses": ["broken"]},
    {"name": "Conformance failures", "matchedStatuses": ["failed"]},
]


class AllureIntegration:
    def __init__(self, config: pytest.Config, report_dir: str) -> None:
        self.config = config
        self.report_dir = Path(report_dir)
        self._levels = self._clause_levels()

    def _clause_levels(self) -> dict[str, str]:
        from pytest_acl.clauses import load_clauses

        catalog = self.config.rootpath / "suites" / "clauses.toml"
        return {c.id: c.level for c in load_clauses(catalog).values()} if catalog.is_file() \
            else {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from pytest_acl.markers import clause_ids
        from pytest_acl.results.properties import axes_of

        for item in items:
            clauses = clause_ids(item)
            item.add_marker(allure.epic(family_of(item.nodeid)))
            variant = axes_of(item).get("variant")
            if variant:
                item.add_marker(allure.feature(str(variant)))
            for clause in clauses:
                item.add_marker(allure.story(clause))
            if clauses:
                must = any(self._levels.get(c) == "must" for c in clauses)
                item.add_marker(allure.severity(allure.severity_level.CRITICAL if must
                                                else allure.severity_level.NORMAL))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        from pytest_acl.parity import binding_of

        state = get_state(item.config)
        binding = binding_of(item)
        allure.dynamic.parameter("device", state.device_id, excluded=True)
        allure.dynamic.parameter("backend", binding or state.backend_name, excluded=True)
        try:
            return (yield)
        finally:
            backend = state.loaded(binding)
            log = getattr(backend.opened_module, "log", None) if backend else None
            if log is not None and (log.codes or log.timings):
                allure.attach(json.dumps({"codes": log.codes, "timings": log.timings},
                                         indent=2), name="acl codes and timings",
                              attachment_type=allure.attachment_type.JSON)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return  # the controller writes the run-wide files
        state = get_state(self.config)
        backend = state.backend()
        self.report_dir.mkdir(parents=True, exist_ok=True)
        environment = {"backend": state.backend_label, "backend.version": backend.version,
                       "soc": backend.static_soc or "reported at run time",
                       "devices": ",".join(map(str, state.settings["devices"].value)),
                       "level": state.settings["level"].value}
        (self.report_dir / "environment.properties").write_text(
            "".join(f"{key}={value}\n" for key, value in environment.items()))
        (self.report_dir / "categories.json").write_text(json.dumps(CATEGORIES, indent=2))
