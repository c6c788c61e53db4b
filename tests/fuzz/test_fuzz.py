"""The fuzzer (issue 13): a quick budget that must find nothing, and the fuzzer's own promises
— the same seed makes the same inputs, and whatever breaks the rules (a raising target, a
leak, a logged internal error, an execution that raises on a stream, a slow call, a hang) is
a finding saved with a reproducer that reproduces it."""

from __future__ import annotations

import json
import logging
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_acl.fuzz import findings as fnd
from pytest_acl.fuzz import targets as targets_module
from pytest_acl.fuzz.bases import Base, catalog_bases, sample_bases
from pytest_acl.fuzz.mutators import BUNDLE, HEADER_FIELDS, MODEL, MUTATORS, mutate
from pytest_acl.fuzz.runner import Fuzzer, FuzzInput
from pytest_acl.fuzz.targets import TARGETS, Session, Target
from pytest_acl.om.header import ModelFileHeader

QUICK_SEED = 13
QUICK_COUNT = 2000
SHOWN = 12


@pytest.fixture(scope="module")
def bases(built_catalog) -> list[Base]:
    return catalog_bases(built_catalog[0]) + sample_bases()


def test_the_quick_budget_finds_nothing(bases, tmp_path):
    """2,000 inputs of a fixed seed through every target: no exception, leak, slow call,
    memory growth or contract breach. The message lists the groups, each with a command
    that reruns one of its inputs."""
    with Fuzzer(bases, QUICK_SEED, out=tmp_path) as fuzzer:
        report = fuzzer.run(QUICK_COUNT)
    assert report.inputs == QUICK_COUNT
    assert set(report.per_target) == set(TARGETS)  # every API was fuzzed
    assert report.executed > QUICK_COUNT // 10  # mutants that load also run
    groups = fnd.order(report.groups)
    lines = [f"{g.count} x {g.signature}\n    {g.examples[0].message[:300]}\n"
             f"    {g.examples[0].reproducer}" for g in groups[:SHOWN]]
    assert not groups, (f"{report.summary_line()}\n" + "\n".join(lines)
                        + (f"\n... and {len(groups) - SHOWN} more groups"
                           if len(groups) > SHOWN else ""))


# -- determinism and the mutators ----------------------------------------------------------

def test_the_same_seed_makes_the_same_inputs(bases):
    for base in bases:
        for seed in range(20):
            first = mutate(random.Random(seed), base.data, base.kind)
            again = mutate(random.Random(seed), base.data, base.kind)
            assert first == again
            assert first.data != base.data
    with Fuzzer(bases, 5) as one, Fuzzer(bases, 5) as two, Fuzzer(bases, 6) as other:
        made = [one.make_input(i) for i in range(50)]
        assert made == [two.make_input(i) for i in range(50)]
        assert made != [other.make_input(i) for i in range(50)]


def test_header_fields_are_where_the_header_has_them():
    header = ModelFileHeader().pack()
    for name, (offset, fmt) in HEADER_FIELDS.items():
        value = (1 << 8 * struct.calcsize(fmt)) - 2
        edited = header[:offset] + struct.pack(fmt, value) + header[offset + struct.calcsize(fmt):]
        assert getattr(ModelFileHeader.unpack(edited), name) == value, name


def test_every_mutator_changes_the_inputs_it_is_for(bases):
    """No structure-aware mutator is dead: each changes some base of its kind."""
    for mutator in MUTATORS:
        fitting = [b for b in bases if b.kind in mutator.kinds]
        changed = 0
        for seed in range(40):
            base = fitting[seed % len(fitting)]
            done = mutator.fn(random.Random(seed), base.data)
            changed += done is not None and done[0] != base.data
        assert changed >= 10, mutator.name
    assert {MODEL, BUNDLE} == {b.kind for b in bases}


# -- planted failures are findings -----------------------------------------------------------

def _plant(monkeypatch, fn, name="load_from_mem"):
    monkeypatch.setitem(TARGETS, name, Target(name, MODEL, fn))


def test_a_raising_target_is_a_finding_saved_with_a_reproducer(bases, tmp_path, monkeypatch):
    def raising(s: Session, data: bytes) -> None:
        model_id, ret = s.acl.mdl.load_from_mem(s.host(data), len(data))
        s.acl.util.bytes_to_ptr("not bytes")  # raises ValueError, as pyACL does

    _plant(monkeypatch, raising)
    with Fuzzer(bases, 3, targets=["load_from_mem"], out=tmp_path) as fuzzer:
        report = fuzzer.run(3)
        (group,) = report.groups.values()
        assert group.count == 3 and group.kind == "exception"
        finding = group.examples[0]
        assert finding.exception == "ValueError"
        assert finding.api == "acl.util.bytes_to_ptr"
        assert finding.where.startswith("pytest_acl/sim/acl_util.py:")
        record = Path(finding.record)
        assert record.is_file() and record.with_suffix(".om").is_file()
        assert finding.reproducer == f"pytest-acl fuzz --replay {record}"
        saved = fnd.load(record)
        assert saved.data == fuzzer.make_input(saved.index).data
        assert [f.signature for f in fuzzer.replay(saved)] == [finding.signature]
    summary = json.loads(json.dumps(report.as_json()))
    assert summary["findings"] == 3 and summary["groups"][0]["reproducer"] == finding.reproducer


def test_a_leak_is_a_finding_and_the_simulator_is_replaced(bases, monkeypatch):
    def leaking(s: Session, data: bytes) -> None:
        s.acl.rt.malloc(4096, 0)  # never freed

    _plant(monkeypatch, leaking)
    with Fuzzer(bases, 3, targets=["load_from_mem"]) as fuzzer:
        report = fuzzer.run(2)
    (group,) = report.groups.values()
    assert group.kind == "leak" and group.count == 2  # the second input had a clean start
    assert "device0.bytes_in_use" in group.examples[0].message


def test_errors_the_simulator_caught_and_logged_are_findings(bases, monkeypatch):
    def logged(s: Session, data: bytes) -> None:
        try:
            {}["graph"]
        except KeyError as exc:
            logging.getLogger("pytest_acl.sim").error(
                "acl.mdl.load_from_mem: internal simulator error", exc_info=exc)
        s.note("acl.mdl.execute", 500000)

    _plant(monkeypatch, logged)
    with Fuzzer(bases, 3, targets=["load_from_mem"]) as fuzzer:
        (finding,) = fuzzer.run_input(fuzzer.make_input(0))
    assert finding.kind == "internal-error" and finding.exception == "KeyError"
    assert finding.api == "acl.mdl.load_from_mem"

    def coded(s: Session, data: bytes) -> None:
        s.note("acl.rt.synchronize_stream", 507000)

    _plant(monkeypatch, coded)
    with Fuzzer(bases, 3, targets=["load_from_mem"]) as fuzzer:
        (finding,) = fuzzer.run_input(fuzzer.make_input(0))
    assert finding.kind == "internal-code" and "507000" in finding.message


def test_an_exception_on_the_stream_is_a_finding(bases, monkeypatch):
    from pytest_acl.sim.handles import Kind

    holder: list[Fuzzer] = []

    def on_stream(s: Session, data: bytes) -> None:
        stream = holder[0]._sim.runtime.handles.get(Kind.STREAM, s.stream)
        stream.submit(lambda: [][1])
        s.note("synchronize_stream", s.acl.rt.synchronize_stream(s.stream))

    _plant(monkeypatch, on_stream)
    with Fuzzer(bases, 3, targets=["load_from_mem"]) as fuzzer:
        holder.append(fuzzer)
        found = fuzzer.run_input(fuzzer.make_input(0))
    assert [f.kind for f in found] == ["async-exception"]
    assert found[0].exception == "IndexError"


def test_a_slow_call_is_a_finding(bases):
    with Fuzzer(bases, 3, targets=["query_size_from_mem"], call_limit=1e-9) as fuzzer:
        found = fuzzer.run_input(fuzzer.make_input(0))
    assert [f.kind for f in found] == ["time"]
    assert found[0].api.startswith("acl.")


def test_targets_release_what_they_make(bases):
    """Unmutated bases through every target: loaded, executed, nothing found."""
    with Fuzzer(bases, 3) as fuzzer:
        for base in bases:
            for name, target in targets_module.TARGETS.items():
                if target.kind != base.kind or name not in fuzzer.targets:
                    continue
                item = FuzzInput(0, base.name, base.kind, (), name, f"3/0/{name}", base.data)
                assert fuzzer.run_input(item) == [], (base.name, name)


# -- the command ---------------------------------------------------------------------------

def test_the_command_refuses_bad_options(capsys):
    from pytest_acl.cli import main

    for argv, message in ((["fuzz", "--count", "0", "--out", "x"], "--count: 0 is less than 1"),
                          (["fuzz", "--seed", "x", "--out", "x"], "not a whole number"),
                          (["fuzz", "--targets", "load,query_size", "--out", "x"],
                           "unknown target load"),
                          (["fuzz", "--call-limit", "0", "--out", "x"], "positive number"),
                          (["fuzz", "--count", "5"], "--out DIR is required")):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        assert message in capsys.readouterr().err


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    from pytest_acl.cli import main

    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    assert main(["fuzz", "--count", "1", "--out", str(afile)]) == 2
    assert f"--out {afile} is not a directory" in capsys.readouterr().err
    assert afile.read_text() == "x"


def test_a_hang_ends_the_worker_and_the_run_goes_on(built_catalog, tmp_path):
    """A hang timeout shorter than any input: each input is a hang finding, its worker is
    ended by the watchdog and a new one starts after it; replaying the record works."""
    out = tmp_path / "out"
    result = subprocess.run(
        # five inputs: on a loaded machine an input can end before the watchdog's thread is
        # scheduled at all, but not five of them
        [sys.executable, "-m", "pytest_acl.cli", "fuzz", "--seed", "1", "--count", "5",
         "--out", str(out), "--models", str(built_catalog[0]), "--hang-timeout", "0.0001",
         "--targets", "bundle_load_from_mem"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"] == 5 and 1 <= summary["findings"] <= 5  # a fast input may win
    (group,) = summary["groups"]
    assert group["kind"] == "hang" and "hang timeout" in group["signature"]
    assert group["example"]["traceback"].startswith("Timeout")  # every thread's stack
    assert group["reproducer"].startswith("pytest-acl fuzz --replay ")
    record = Path(group["records"][0])
    assert record.with_suffix(".om").is_file()
    replayed = subprocess.run(
        [sys.executable, "-m", "pytest_acl.cli", "fuzz", "--replay", str(record)],
        capture_output=True, text=True, timeout=120)
    assert "recorded: hang" in replayed.stdout, replayed.stdout + replayed.stderr
    assert replayed.returncode in (0, 1)
