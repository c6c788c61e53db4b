"""Importing the plugin imports no backend and initialises nothing; a session loads (imports)
the backend at its start and initialises it only when a test asks for the runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")

# A pyACL stand-in that logs its import and every init/finalize to a file.
RECORDING_ACL = """
import types

rt = types.ModuleType("acl.rt")

def _log(event):
    with open({log!r}, "a") as f:
        f.write(event + "\\n")

_log("import")

def init(config_path=""):
    _log("init")
    return 0

def finalize():
    _log("finalize")
    return 0

def get_version():
    return 1, 2, 3, 0
"""

PROBE = """
import json, sys, threading
import pytest_acl.plugin
backend_modules = sorted(
    name for name in sys.modules
    if name == "acl" or name.startswith(("acl.", "pytest_acl.sim", "pytest_acl.backends.")))
heavy = sorted(name for name in ("numpy", "onnx", "hypothesis") if name in sys.modules)
print(json.dumps({"backend_modules": backend_modules, "threads": threading.active_count(),
                  "plugin": "pytest_acl.plugin" in sys.modules, "heavy": heavy}))
"""


@pytest.fixture
def recording_acl(tmp_path):
    """(directory holding the stand-in acl.py, its log file)."""
    directory = tmp_path / "standin"
    directory.mkdir()
    log = tmp_path / "events.log"
    (directory / "acl.py").write_text(RECORDING_ACL.format(log=str(log)))
    return directory, log


def events(log):
    return log.read_text().split() if log.exists() else []


def test_importing_the_plugin_imports_no_backend(recording_acl):
    """Even with an importable acl and PYTEST_ACL_BACKEND=pyacl set, importing the plugin
    touches neither the simulator nor acl, and starts no thread."""
    directory, log = recording_acl
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_ACL_")}
    env["PYTEST_ACL_BACKEND"] = "pyacl"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(directory), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                            text=True, timeout=60, cwd=directory.parent)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"backend_modules": [], "threads": 1, "plugin": True,
                                         "heavy": []}
    assert events(log) == []


def test_help_loads_no_backend(pytester, recording_acl, monkeypatch):
    directory, log = recording_acl
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.delitem(sys.modules, "acl", raising=False)
    result = pytester.runpytest(*INNER, "--acl-backend", "pyacl", "--help")
    assert result.ret == pytest.ExitCode.OK
    assert events(log) == []


def test_session_loads_the_backend_but_initialises_it_only_on_request(pytester,
                                                                      recording_acl,
                                                                      monkeypatch):
    directory, log = recording_acl
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.delitem(sys.modules, "acl", raising=False)
    pytester.makepyfile("""
        import pytest

        def test_plain():
            pass

        @pytest.mark.acl_clause("rt.x")
        @pytest.mark.acl_requires("init")
        def test_marked(acl):
            pass

        def test_runtime(acl_runtime):
            pass
    """)
    result = pytester.runpytest(*INNER, "--acl-backend", "pyacl", "-k", "not runtime")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(["acl: backend pyacl (from command line): "
                                 "pyACL (ACL interface 1.2.3)"])
    assert events(log) == ["import"]

    log.unlink()
    monkeypatch.delitem(sys.modules, "acl", raising=False)
    result = pytester.runpytest(*INNER, "--acl-backend", "pyacl")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
    assert events(log) == ["import", "init", "finalize"]


def test_plugin_can_be_disabled(pytester, tmp_path):
    """-p no:acl: no options, no fixtures, no markers, no header, and nothing of pytest-acl
    imported."""
    record = tmp_path / "modules.json"
    pytester.makepyfile(f"""
        import json, sys

        def test_plain():
            with open({str(record)!r}, "w") as f:
                json.dump(sorted(m for m in sys.modules if m.startswith("pytest_acl")), f)

        def test_needs_acl(acl):
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p",
                                           "no:hypothesispytest", "-p", "no:acl")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'acl' not found*"])
    assert "acl: backend" not in result.stdout.str()
    assert json.loads(record.read_text()) == []

    result = pytester.runpytest(*INNER, "-p", "no:acl", "--acl-backend", "sim")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --acl-backend*"])

    pytester.makepyfile(test_marked="""
        import pytest

        @pytest.mark.acl_clause("rt.x")
        def test_marked():
            pass
    """)
    # in a subprocess: pytest remembers registered marker names for the whole process
    result = pytester.runpytest_subprocess(*INNER, "-p", "no:acl", "test_marked.py")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*'acl_clause' not found in `markers` configuration option*"])

