"""--acl-timeout and --acl-isolate in small sessions: the limit's sources and conflicts, a
hang ended with its stacks (also in a teardown after a failure), isolation refused where it
cannot work, and an isolated serial session that survives a crash, an exit and a hang."""

from __future__ import annotations

import pytest

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:randomly")
DYING = """
import ctypes, os, time
import pytest

def test_first(acl, acl_device):
    pass

def test_segfault(acl, acl_device):
    acl.rt.malloc(64, 0)
    ctypes.string_at(1)

def test_exits(acl, acl_device):
    os._exit(3)

def test_hangs(acl, acl_device):
    time.sleep(60)

@pytest.fixture
def hangs_at_teardown():
    yield
    time.sleep(60)

def test_fails_then_hangs_in_teardown(hangs_at_teardown):
    assert False

@pytest.mark.timeout(1)
def test_marker_limit():
    time.sleep(60)

def test_last(acl, acl_device):
    pass
"""


def records(pytester) -> dict[str, dict]:
    import json

    (run,) = list((pytester.path / "out").iterdir())
    lines = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    return {r["nodeid"].split("::")[1]: r for r in lines if r["type"] == "test"}


@pytest.mark.whole_suite  # seven worker deaths and replacements: ~15 s
def test_an_isolated_serial_session_survives_crash_exit_and_hangs(pytester):
    pytester.makepyfile(test_dying=DYING)
    result = pytester.runpytest_subprocess(*INNER, "--acl-isolate", "yes", "--acl-timeout", "1.5",
                                           "--acl-report-dir", "out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*acl: isolated: tests run in one xdist worker*",
                                 "*acl: per-test limit 1.5 s (from command line)*"])
    found = records(pytester)
    assert {name: r["outcome"] for name, r in found.items()} == {
        "test_first": "pass", "test_segfault": "crash", "test_exits": "crash",
        "test_hangs": "timeout", "test_fails_then_hangs_in_teardown": "timeout",
        "test_marker_limit": "timeout", "test_last": "pass"}
    assert found["test_segfault"]["crash"]["call"] == "acl.rt.malloc"
    assert found["test_exits"]["crash"]["exit_status"] == 3
    assert "past its limit of 1.5 s" in found["test_hangs"]["message"]
    assert "test_dying.py" in found["test_hangs"]["crash"]["stacks"]
    assert found["test_marker_limit"]["crash"]["stacks"].startswith("Timeout (0:00:01)!")
    assert "health probe: healthy" in result.stdout.str()


@pytest.mark.parametrize(("args", "message"), [
    (("--acl-isolate", "yes", "-p", "no:xdist"),
     "*--acl-isolate yes (from command line) needs pytest-xdist*"),
    (("--acl-isolate", "yes", "--pdb"), "*rules out; drop --pdb/--trace or use --acl-isolate no*"),
    (("--acl-isolate", "yes", "-n", "0"), "*rules out; drop -n 0 or use --acl-isolate no*"),
    (("--acl-isolate", "sometimes"), "*--acl-isolate: invalid value 'sometimes'*"),
    (("--acl-timeout", "soon"), "*--acl-timeout: invalid value 'soon' (from command line): use "
                                "a number of seconds*"),
    (("--acl-timeout", "-1"), "*use a number of seconds >= 0*"),
    (("--acl-timeout", "5", "-p", "no:timeout"), "*needs pytest-timeout, which is disabled*"),
    (("--acl-timeout", "5", "-o", "faulthandler_timeout=9"),
     "*both arm faulthandler's single watchdog*"),
    (("--acl-shard", "4/3"), "*--acl-shard: invalid value '4/3'*K must be between 1 and N*"),
    (("--acl-sign-key", "nowhere.pem"), "*nowhere.pem is not a file; create a key pair*"),
])
def test_bad_settings_are_usage_errors(pytester, args, message):
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(*INNER, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(("args", "env", "line"), [
    ((), {}, "acl: per-test limit 120 s (from default for level quick)*"),
    (("--acl-level", "full"), {}, "acl: per-test limit 600 s (from default for level full)*"),
    (("--timeout", "7"), {}, "acl: per-test limit 7 s (from pytest-timeout --timeout)*"),
    (("--timeout", "7", "--acl-timeout", "9"), {}, "acl: per-test limit 9 s (from command line)*"),
    ((), {"PYTEST_ACL_TIMEOUT": "0"},
     "acl: no per-test time limit (turned off, from env PYTEST_ACL_TIMEOUT)"),
    (("-p", "no:timeout"), {}, "acl: no per-test time limit (pytest-timeout is not active)"),
    ((), {}, "acl: not isolated (a crash or hang ends the run; --acl-resume continues it)"),
    (("-n", "1"), {}, "acl: isolated: tests run in xdist workers*"),
])
def test_the_header_says_which_limit_and_isolation_apply(pytester, monkeypatch, args, env,
                                                          line):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PYTEST_ACL_ISOLATE")
    pytester.makepyfile("def test_x(acl_level):\n    pass\n")  # an ACL test wakes the plugin
    result = pytester.runpytest(*INNER, *args)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([line])


def test_device_backends_are_isolated_by_default(pytester, monkeypatch):
    from pytest_acl.cli import SHIM_DIR

    monkeypatch.setenv("PYTHONPATH", str(SHIM_DIR))  # a stand-in 'acl' for the workers too
    monkeypatch.delenv("PYTEST_ACL_ISOLATE")
    pytester.makepyfile("def test_x(acl_device):\n    pass\n")
    result = pytester.runpytest_subprocess(*INNER, "--acl-backend", "pyacl")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*acl: isolated: tests run in one xdist worker*"])
    result = pytester.runpytest_subprocess(*INNER, "--acl-backend", "pyacl", "--acl-isolate",
                                           "no")
    result.stdout.fnmatch_lines(["*acl: not isolated*"])


def test_a_worker_stopped_from_outside_stops_the_run_without_blaming_its_test(pytester):
    """SIGTERM (a cancelled CI job) is no verdict on the test that was running: it gets no
    record, the run stops INCOMPLETE, and a resume runs it."""
    pytester.makepyfile(test_stop="""
        import os, signal

        def test_before():
            pass

        def test_stopped():
            os.kill(os.getpid(), signal.SIGTERM)

        def test_after():
            pass
    """)
    result = pytester.runpytest_subprocess(*INNER, "--acl-isolate", "yes",
                                           "--acl-report-dir", "out")
    assert result.ret != pytest.ExitCode.OK
    found = records(pytester)
    assert "test_stopped" not in found and found["test_before"]["outcome"] == "pass"
    result.stdout.fnmatch_lines(["*acl verdict: INCOMPLETE*was stopped: killed by SIGTERM*"])
