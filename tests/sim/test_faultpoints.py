"""The defects act only through named fault points: the rules name no defect, and a name
that is no defect is an error wherever it is used."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_acl.sim import SimConfigError, Simulator
from pytest_acl.sim.defects import DEFECTS, Defects

SIM = Path(__file__).resolve().parents[2] / "pytest_acl" / "sim"
# Where defects may be named: their list, their points, and the simulator's construction.
ALLOWED = {"defects.py", "faultpoints.py", "__init__.py"}


def test_the_rules_name_no_defect():
    named = {}
    for path in SIM.glob("*.py"):
        if path.name in ALLOWED:
            continue
        text = path.read_text()
        found = [name for name in DEFECTS if re.search(rf"[\"']{name}[\"']", text)]
        if found:
            named[path.name] = found
    assert not named, f"rules that name defects (use a fault point instead): {named}"


def test_every_defect_has_a_point():
    points = (SIM / "faultpoints.py").read_text()
    assert [name for name in DEFECTS if f'"{name}"' not in points] == []


def test_a_misspelt_defect_name_is_an_error_with_the_valid_names():
    with pytest.raises(KeyError, match="no simulator defect named 'model_id_reused'; known: "
                                       "async_out_of_stream_order, "):
        Defects().on("model_id_reused")
    with pytest.raises(SimConfigError, match="unknown simulator defect.*model_id_reused; "
                                             "known: async_out_of_stream_order"):
        Simulator(defects=["model_id_reused"])


def test_a_point_answers_by_its_defect():
    quiet, loud = Simulator().runtime.faults, Simulator(defects=["model_ids_reused"]).runtime
    assert quiet.static_id(lambda: 7, lambda i: i < 3) == 7
    assert loud.faults.static_id(lambda: 7, lambda i: i < 3) == 3
    assert quiet.query_sizes(100, 10, dynamic=True, from_memory=True) == (100, 10)
