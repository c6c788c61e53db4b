"""``--acl-resume``: a killed or interrupted run is never PASS or CONFORMANT, and resuming
completes it — tests with a final record are not run again, the verdict covers the union.
A serial run that died is explained on resume from its flight recorder (crash, timeout,
or "died twice"); a resume that is not the same run is a usage error naming the difference."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("pytest-acl")
ROOT = Path(__file__).resolve().parent.parent.parent


def run_lines(run: Path) -> list[dict]:
    lines = []
    for raw in (run / "results.jsonl").read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line cut short by the kill
            lines.append(json.loads(raw))
    return lines


def verdict(run: Path) -> str:
    return subprocess.run([str(SCRIPT), "verify", str(run)], capture_output=True, text=True,
                          timeout=300).stdout.splitlines()[0]


def start(built_catalog, report_dir: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_ACL_", "PYTEST_ADDOPTS", "PYTEST_XDIST"))}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
         "--acl-level", "full", "--acl-model-dir", str(built_catalog[0]),
         "--acl-report-dir", str(report_dir), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)


def stop_after(process: subprocess.Popen, report_dir: Path, records: int,
               how: signal.Signals) -> Path:
    """Stop the run once it holds ``records`` test records: SIGINT to its process group, as
    Ctrl-C does; SIGKILL to pytest's own process, as ``kill -9 PID`` does (its xdist workers
    then end on their own)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        runs = [d for d in report_dir.iterdir() if (d / "results.jsonl").is_file()] \
            if report_dir.is_dir() else []
        if runs and sum(line["type"] == "test" for line in run_lines(runs[0])) >= records:
            if how == signal.SIGINT:
                os.killpg(process.pid, how)
            else:
                process.send_signal(how)
            process.output = process.communicate(timeout=120)[0]  # type: ignore[attr-defined]
            return runs[0]
        if process.poll() is not None:
            raise AssertionError("the run ended before it could be stopped:\n"
                                 + process.communicate()[0][-3000:])
        time.sleep(0.05)
    raise AssertionError("the run never got that far")


def gone(group: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("xdist workers outlived their controller")


@pytest.mark.whole_suite
@pytest.mark.timeout(900)
def test_a_run_killed_and_interrupted_at_several_points_resumes_to_conformant(
        built_catalog, suite_size, tmp_path):
    reports = tmp_path / "reports"
    run = stop_after(start(built_catalog, reports), reports, 40, signal.SIGKILL)
    assert not (run / "report.html").exists() and not (run / "qualification.json").exists()
    assert run_lines(run)[-1]["type"] == "test"  # no summary: killed
    assert verdict(run) == "verdict: INCOMPLETE"

    second = start(built_catalog, tmp_path / "unused", "--acl-resume", str(run))
    stop_after(second, reports, 250, signal.SIGINT)
    assert second.returncode == pytest.ExitCode.INTERRUPTED, second.output[-3000:]
    summary = run_lines(run)[-1]
    assert summary["type"] == "summary" and summary["verdict"] == "INCOMPLETE"
    assert 'id="verdict">INCOMPLETE<' in (run / "report.html").read_text()
    assert not (run / "qualification.json").exists()
    assert verdict(run) == "verdict: INCOMPLETE"

    third = start(built_catalog, tmp_path / "unused", "--acl-resume", str(run), "-n", "2")
    stop_after(third, reports, 450, signal.SIGKILL)
    assert verdict(run) == "verdict: INCOMPLETE"
    gone(third.pid)  # the workers end on their own once their controller is gone

    last = start(built_catalog, tmp_path / "unused", "--acl-resume", str(run))
    output = last.communicate(timeout=600)[0]
    assert last.returncode == 0, output[-3000:]
    lines = run_lines(run)
    assert lines[-1]["verdict"] == "PASS", (lines[-1], output[-3000:])
    assert [line["type"] for line in lines].count("session") == 3
    tests = [line["nodeid"] for line in lines if line["type"] == "test"]
    assert len(tests) == len(set(tests)) == suite_size  # every test once, none run twice
    assert lines[-1]["verdict"] == "PASS"
    assert verdict(run) == "verdict: CONFORMANT"
    assert not (run / "flight").exists()


# -- small runs: what resume explains, and what it refuses -----------------------------------

DYING = """
import ctypes, os, time


def test_first(acl, acl_device):
    pass

def test_segfault(acl, acl_device):
    acl.rt.get_device()
    ctypes.string_at(1)

def test_exits(acl, acl_device):
    os._exit(3)

def test_hangs(acl, acl_device):
    time.sleep(60)

def test_last(acl, acl_device):
    pass
"""
INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:randomly")


def only_run(pytester) -> Path:
    (run,) = list((pytester.path / "out").iterdir())
    return run


def test_a_serial_run_that_died_is_explained_on_resume(pytester):
    pytester.makepyfile(test_dying=DYING)
    args = (*INNER, "--acl-report-dir", "out", "--acl-timeout", "2")
    first = pytester.runpytest_subprocess(*args)
    assert first.ret == -signal.SIGSEGV  # the run itself died: not isolated
    run = only_run(pytester)
    outcomes: dict[str, str] = {}
    said = ""
    for _ in range(4):  # segfault → exit → exit again → timeout → done
        said += pytester.runpytest_subprocess(*args, "--acl-resume", str(run)).stderr.str()
        outcomes = {r["nodeid"].split("::")[1]: r for r in run_lines(run)
                    if r["type"] == "test"}
    assert {n: r["outcome"] for n, r in outcomes.items()} == {
        "test_first": "pass", "test_segfault": "crash", "test_exits": "crash",
        "test_hangs": "timeout", "test_last": "pass"}
    assert "Segmentation fault" in outcomes["test_segfault"]["message"]
    assert "died twice" in outcomes["test_exits"]["message"]
    assert "Timeout (0:00:02)!" in outcomes["test_hangs"]["crash"]["stacks"]
    assert "test_dying.py::test_hangs is at its time limit: the process ends now" in said
    assert run_lines(run)[-1]["verdict"] == "FAIL"
    again = pytester.runpytest_subprocess(*args, "--acl-resume", str(run))
    assert again.ret == pytest.ExitCode.USAGE_ERROR
    again.stderr.fnmatch_lines(["*the run is complete (verdict FAIL); there is nothing to "
                                "resume*"])


def test_resume_refuses_another_run(pytester):
    pytester.makepyfile(test_a="import os\ndef test_a():\n    pass\ndef test_b():\n"
                               "    os._exit(0)\n")
    pytester.runpytest_subprocess(*INNER, "--acl-report-dir", "out")
    run = only_run(pytester)
    result = pytester.runpytest_subprocess(*INNER, "--acl-resume", str(run), "--acl-level",
                                           "full")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*is a different run: --acl-level 'full' here, 'quick' "
                                 "there*"])
    result = pytester.runpytest_subprocess(*INNER, "--acl-resume", str(run), "-k", "test_b")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*this session does not collect the run's tests: 1 test(s) "
                                 "the run has but this session does not collect*"])
    result = pytester.runpytest_subprocess(*INNER, "--acl-resume", str(pytester.path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*holds no results.jsonl; give a run directory*"])
    before = (run / "results.jsonl").read_text()
    assert (run / "results.jsonl").read_text() == before  # refusals append nothing
