"""The whole conformance suite as a parity run (issue 16, item 4), in a subprocess: with a
binding that breaks one function — ``brokensim``, the simulator with ``get_device_count``
answering 100000, installed as a vendor's package would be (a ``.dist-info`` with its entry
point) — exactly the clause whose test calls it is a binding defect; every other clause
holds through both bindings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_acl.results.clause_status import BINDING_DEFECT, clause_statuses

pytestmark = [pytest.mark.whole_suite, pytest.mark.timeout(900)]

BACKENDS = Path(__file__).resolve().parents[1] / "backends"  # brokensim_backend.py


def test_a_broken_binding_is_a_binding_defect_of_exactly_its_clause(run_suite, tmp_path):
    site = tmp_path / "site"
    info = site / "brokensim-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokensim\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[pytest_acl.backends]\nbrokensim = brokensim_backend:load\n")
    run = run_suite(tmp_path / "reports", "--acl-backend", "sim,brokensim",
                    PYTHONPATH=os.pathsep.join([str(site), str(BACKENDS)]))
    assert run.result.returncode == 1, run.output[-3000:]
    records = run.records
    defects = [n for n, r in records.items() if r["outcome"] not in ("pass", "not_supported")]
    assert defects == ["suites/test_runtime_smoke.py::"
                       "test_device_count_covers_the_selected_device[brokensim]"]
    assert {r["binding"] for r in records.values()} == {"sim", "brokensim"}
    summary = run.lines[-1]
    assert summary["verdict"] == "FAIL"
    assert summary["counts"]["binding_defect"] == 1 and "fail" not in summary["counts"]
    statuses = clause_statuses(records.values())
    assert [c for c, s in statuses.items() if s.status == BINDING_DEFECT] == \
        ["runtime.current_device_and_context"]
    assert {s.status for c, s in statuses.items()} <= {BINDING_DEFECT, "pass", "not supported"}
    assert "runtime.current_device_and_context: suites/test_runtime_smoke.py::test_device_" \
           "count_covers_the_selected_device[brokensim] [binding defect: passes through sim, " \
           "fails through brokensim (fail)]" in run.result.stdout
    page = (run.directory / "report.html").read_text()
    assert "<th>through sim</th><th>through brokensim</th>" in page
