"""Behaviour drift: an ``observed``-level clause (an exact code of the reference
implementation) that did not hold. The test runs to its end; its report becomes DRIFT (a
pass with the expected and seen codes attached), or a failure with ``--acl-strict-codes``.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from pytest_acl.oracles import DRIFTS


class DriftReporting:
    def __init__(self, strict: bool) -> None:
        self.strict = strict

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
            self, item: pytest.Item, call: pytest.CallInfo[None],
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        drifts = item.stash.get(DRIFTS, [])
        if call.when == "call" and report.passed and drifts:
            text = "behaviour drift:\n  " + "\n  ".join(drifts)
            report.user_properties.append(("acl.drift", text))
            if self.strict:
                report.outcome = "failed"
                report.longrepr = text + "\n(--acl-strict-codes makes drift a failure)"
            else:
                report.sections.append(("acl drift", text))
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        if report.when == "call" and report.passed and any(
                name == "acl.drift" for name, _ in report.user_properties):
            return "drift", "D", "DRIFT"
        return None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        drifted = terminalreporter.stats.get("drift", [])
        if not drifted:
            return
        terminalreporter.section("acl behaviour drift (observed-level codes)")
        for report in drifted:
            text = dict(report.user_properties)["acl.drift"]
            terminalreporter.write_line(f"{report.nodeid}: {text}")
