"""``pytest-acl compare``: a clean simulator run against one with a defect switched on
reports exactly the tests that changed, with their codes, and exits as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_acl.results.compare import compare, load_run

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("pytest-acl")


def run_suite(out: Path, model_dir: Path, defect: str = "") -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_ACL_")}
    if defect:
        env["PYTEST_ACL_SIM_DEFECTS"] = defect
    subprocess.run([sys.executable, "-m", "pytest", "suites/test_lifecycle.py",
                    "suites/test_user_memory.py", "-q", "-p",
                    "no:cacheprovider",
                    "--acl-model-dir", str(model_dir), "--acl-report-dir", str(out)],
                   cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    (run,) = list(out.iterdir())
    return run


@pytest.fixture(scope="module")
def runs(built_catalog, tmp_path_factory):
    model_dir = built_catalog[0]
    clean = run_suite(tmp_path_factory.mktemp("clean"), model_dir)
    broken = run_suite(tmp_path_factory.mktemp("broken"), model_dir, "weight_size_check_skipped")
    return clean, broken


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), "compare", *args], capture_output=True, text=True,
                          timeout=120)


def test_exactly_the_tests_that_changed_with_codes(runs):
    clean, broken = runs
    result = compare(load_run(clean)[1], load_run(broken)[1])
    # the weight check is skipped on every load path that takes user memory
    assert sorted(c["nodeid"] for c in result.new_failures) == sorted(
        f"suites/test_user_memory.py::test_too_small_user_buffers_are_refused_on_every_path"
        f"[{variant}-weight]"
        for variant in ("file_with_mem", "mem_with_mem", "config_file_with_mem",
                        "config_mem_with_mem"))
    assert result.fixes == result.changed == result.added == result.removed == []
    assert {c["nodeid"] for c in result.codes} == {c["nodeid"] for c in result.new_failures}
    assert all(c["base"] == [145000] and c["new"] == [] for c in result.codes)


def test_markdown_and_exit_status(runs):
    clean, broken = runs
    result = cli(str(clean), str(broken))
    assert result.returncode == 1
    assert "**4 regression(s)**" in result.stdout
    assert "test_too_small_user_buffers_are_refused_on_every_path[file_with_mem-weight]` | pass " \
           "| fail |" in result.stdout
    assert cli(str(clean), str(broken), "--fail-on", "never").returncode == 0
    assert cli(str(clean), str(clean)).returncode == 0


def test_json_output_and_the_reverse_direction(runs):
    clean, broken = runs
    result = cli(str(broken / "results.jsonl"), str(clean), "--format", "json")
    data = json.loads(result.stdout)
    assert result.returncode == 0  # fixes are not regressions
    assert len(data["fixes"]) == 4 and data["regressions"] == 0
    assert cli(str(broken), str(clean), "--fail-on", "changes").returncode == 1


def test_an_unreadable_run_is_exit_2(tmp_path):
    result = cli(str(tmp_path), str(tmp_path))
    assert result.returncode == 2 and "a directory without results.jsonl" in result.stderr


SUITE_FILES = ("suites/test_bad_models.py", "suites/test_bundles.py",
               "suites/test_user_memory.py", "suites/test_state_machine.py")


@pytest.mark.whole_suite  # two runs of real suite files: CI's whole-suite step
def test_two_runs_of_one_build_compare_clean_with_fail_on_changes(run_suite, tmp_path):
    """The suite files with hypothesis tests (random examples at level quick), run twice:
    codes seen in generated examples differ between the runs, and are not counted."""
    first = run_suite(tmp_path / "first", paths=SUITE_FILES)
    second = run_suite(tmp_path / "second", paths=SUITE_FILES)
    assert first.result.returncode == second.result.returncode == 0, second.output[-2000:]
    generated = [c for r in first.records.values() for c in r["codes"] if c.get("generated")]
    assert generated  # the hypothesis tests saw codes, marked as generated
    assert all(c["function"] != "acl.mdl.bundle_create_query_info"
               for r in first.records.values() for c in r["codes"])  # a handle, not a code
    result = cli(str(first.directory), str(second.directory), "--fail-on", "changes")
    assert result.returncode == 0, result.stdout


def record(outcome: str, *codes: int, generated: tuple[int, ...] = ()) -> dict:
    return {"nodeid": "t", "outcome": outcome,
            "codes": [{"code": c, "name": "X", "function": "f"} for c in codes]
            + [{"code": c, "name": "X", "function": "f", "generated": True} for c in generated]}


def test_codes_compare_as_sets_and_generated_ones_count_only_between_full_runs():
    base = {"t": record("pass", 145000, 145000, generated=(100000,))}
    same_set = {"t": record("pass", 145000, generated=(100000,))}
    assert compare(base, same_set).changes == 0  # how often a code was seen is no change
    other_examples = {"t": record("pass", 145000, generated=(545002,))}
    quick = compare(base, other_examples)
    assert quick.changes == 0 and quick.exit_status("changes") == 0
    assert quick.generated_codes == [{"nodeid": "t", "base": [100000], "new": [545002]}]
    full = compare(base, other_examples, count_generated=True)
    assert full.codes == [{"nodeid": "t", "base": [100000, 145000], "new": [145000, 545002]}]
    assert full.exit_status("changes") == 1
    other_code = {"t": record("pass", 145001, generated=(100000,))}
    assert compare(base, other_code).codes == [{"nodeid": "t", "base": [145000],
                                                 "new": [145001]}]


def test_compare_counts_generated_codes_when_both_runs_are_full(tmp_path):
    def run(name: str, level: str, generated: int) -> Path:
        path = tmp_path / name
        path.mkdir()
        lines = [{"type": "header", "level": level},
                 {"type": "test", **record("pass", generated=(generated,))}]
        (path / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        return path

    assert cli(str(run("q1", "quick", 1)), str(run("q2", "quick", 2)), "--fail-on",
               "changes").returncode == 0
    assert cli(str(run("f1", "full", 1)), str(run("q3", "quick", 2)), "--fail-on",
               "changes").returncode == 0
    result = cli(str(run("f2", "full", 1)), str(run("f3", "full", 2)), "--fail-on", "changes")
    assert result.returncode == 1 and "1 changed error code(s)" in result.stdout


def test_removed_tests_are_regressions():
    base = {"a": {"nodeid": "a", "outcome": "pass"}, "b": {"nodeid": "b", "outcome": "pass"}}
    new = {"a": {"nodeid": "a", "outcome": "pass"}}
    result = compare(base, new)
    assert result.removed == ["b"] and result.exit_status("regressions") == 1


def test_uniform_slowdowns_are_not_flagged_but_an_outlier_is():
    def run(factor_for_c: float) -> dict:
        return {name: {"nodeid": name, "outcome": "pass",
                       "timings": {"load": t * (factor_for_c if name == "c" else 1.1)}}
                for name, t in (("a", 0.2), ("b", 0.3), ("c", 0.2), ("d", 0.25))}
    base = {k: {**v, "timings": {"load": v["timings"]["load"] / 1.1}} for k, v in run(1).items()}
    assert compare(base, run(1.0)).slower == []
    slower = compare(base, run(5.0)).slower
    assert [s["nodeid"] for s in slower] == ["c (load)"]


def write_run(directory: Path, host: str, outcomes: dict[str, str], devices=(0,)) -> Path:
    directory.mkdir(parents=True)
    lines = [{"type": "header", "run_id": f"{host}-{directory.name}", "host": host,
              "devices": list(devices), "backend": "pyacl", "level": "full"}]
    lines += [{"type": "test", "nodeid": nodeid, "outcome": outcome, "codes": []}
              for nodeid, outcome in outcomes.items()]
    (directory / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return directory


def test_compare_of_merged_runs_pairs_each_hosts_tests(tmp_path):
    from pytest_acl.results.merge import merge

    tests = {"suites/test_a.py::test_x": "pass", "suites/test_a.py::test_y": "pass"}
    merge([write_run(tmp_path / "monday-1", "npu-01", tests),
           write_run(tmp_path / "monday-2", "npu-02", tests)], tmp_path / "monday")
    broken = dict(tests, **{"suites/test_a.py::test_y": "fail"})
    merge([write_run(tmp_path / "tuesday-1", "npu-01", tests),
           write_run(tmp_path / "tuesday-2", "npu-02", broken)], tmp_path / "tuesday")
    base, new = load_run(tmp_path / "monday")[1], load_run(tmp_path / "tuesday")[1]
    assert len(base) == len(new) == 4  # the same node id on two hosts is two tests
    result = compare(base, new)
    assert [c["nodeid"] for c in result.new_failures] == ["[npu-02] suites/test_a.py::test_y"]
    assert result.added == result.removed == []


def test_merged_runs_of_one_host_are_told_apart_by_devices_then_run(tmp_path):
    from pytest_acl.results.merge import source_labels

    headers = [{"host": "h", "devices": [0], "run_id": "r1"},
               {"host": "h", "devices": [1], "run_id": "r2"},
               {"host": "g", "devices": [0], "run_id": "r3"},
               {"host": "g", "devices": [0], "run_id": "r4"},
               {"host": "g", "devices": [0], "run_id": "r4"}]
    assert source_labels(headers) == ["h devices 0", "h devices 1", "g devices 0 run r3",
                                      "g devices 0 run r4 #4", "g devices 0 run r4 #5"]
