"""The project's own tests: simulator unit tests (tests/sim) and plugin tests (tests/plugin).

pytester runs inner pytest sessions that load the installed plugin from its entry point.
"""

from __future__ import annotations

import os
import sys
import tempfile

# The project's tests write nothing into the checkout: no byte code (here and in the
# subprocesses they start), hypothesis's storage in a temporary directory.
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      tempfile.mkdtemp(prefix="pytest-acl-tests-hypothesis-"))

import numpy  # noqa: E402,F401  (imported here, never first inside an in-process pytester

#                          run: numpy cannot be imported twice in one process)
import onnx  # noqa: E402,F401  (the same: onnx's extension aborts when imported twice)
import pytest  # noqa: E402

# Also imported here: an in-process pytester run drops the modules it imported first, so a
# process-wide simulator made there would warn with a HazardWarning class that the next inner
# session's "-W ignore::pytest_acl.sim.sanitizer.HazardWarning" no longer names.
import pytest_acl.sim.sanitizer  # noqa: E402,F401
from pytest_acl.sim import Simulator  # noqa: E402

pytest_plugins = ["pytester"]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``pytest tests`` runs on two xdist workers (the machines have 2 cores) unless ``-n`` is
    given (``-n 0`` for a debugger), scheduled by work stealing unless ``--dist`` is given:
    the tests that start subprocesses take seconds, the rest milliseconds, and xdist's
    default "load" can leave one worker idle at the end (93–110 s here against 88–100 s with
    work stealing). Here,
    not in pyproject's addopts: those would also apply to ``pytest suites`` and to the suite
    runs the tests start in the checkout."""
    if getattr(config.option, "numprocesses", 0) is None and \
            not os.environ.get("PYTEST_XDIST_WORKER") and not config.option.usepdb:
        config.option.numprocesses = 2
        if config.option.dist == "no":
            config.option.dist = "worksteal"


@pytest.fixture(autouse=True)
def _no_internal_simulator_error(request):
    """The simulator turns its own bugs into ACL_ERROR_INTERNAL_ERROR (pyargs.py) instead of
    raising; in the project's tests such a bug still fails the test that hit it."""
    from pytest_acl.sim.pyargs import INTERNAL_ERRORS

    before = INTERNAL_ERRORS.count
    yield
    if request.node.get_closest_marker("internal_errors_expected") is None:
        new = INTERNAL_ERRORS.count - before
        assert new == 0, "internal simulator errors:\n" + "\n".join(
            list(INTERNAL_ERRORS.recent)[-new:])


@pytest.fixture
def sim() -> Simulator:
    """A fresh, independent simulator (2 devices, 1 GiB HBM each), not initialised."""
    return Simulator(devices=2, hbm="1GiB")


@pytest.fixture
def sim_acl(sim):
    """The fresh simulator's ``acl`` module, initialised, with device 0 set; finalized after."""
    module = sim.acl
    assert module.init() == 0
    assert module.rt.set_device(0) == 0
    yield module
    module.finalize()


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester without the outer run's PYTEST_ACL_* / PYTEST_ADDOPTS settings leaking in."""
    import os

    for name in list(os.environ):
        if name.startswith("PYTEST_ACL_") or name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
            monkeypatch.delenv(name)
    # Inner sessions on the pyacl stand-ins run in this process: an isolated session's xdist
    # worker would not see the stand-in the test put on sys.path. Tests of isolation say so.
    monkeypatch.setenv("PYTEST_ACL_ISOLATE", "no")
    return pytester


@pytest.fixture(scope="session")
def built_catalog(tmp_path_factory: pytest.TempPathFactory):
    """The whole fixture-model catalog built once for the session: (directory, manifest)."""
    from pytest_acl.models.build import build_catalog

    out = tmp_path_factory.mktemp("models")
    return out, build_catalog(out, log=lambda line: None)


# -- runs of the real conformance suite, in subprocesses ------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


class SuiteRun:
    """One finished ``pytest suites ...`` subprocess: its result, run directory and time."""

    def __init__(self, result, report_dir, seconds):
        self.result, self.report_dir, self.seconds = result, report_dir, seconds

    @property
    def directory(self):
        (run,) = [d for d in self.report_dir.iterdir() if d.is_dir()]
        return run

    @property
    def lines(self):
        import json

        return [json.loads(line) for line in
                (self.directory / "results.jsonl").read_text().splitlines()]

    @property
    def records(self):
        return {r["nodeid"]: r for r in self.lines if r["type"] == "test"}

    @property
    def output(self):
        return self.result.stdout + self.result.stderr


def suite_env(**extra):
    import os

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_ACL_", "PYTEST_ADDOPTS", "PYTEST_XDIST"))}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def suite_size(built_catalog):
    """How many tests the conformance suite has at level full (collected, not run), so the
    whole-suite tests follow the suite as it grows."""
    import re
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "--collect-only", "-q", "-p", "no:randomly",
         "--acl-level", "full", "--acl-model-dir", str(built_catalog[0])],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=suite_env())
    found = re.search(r"^(\d+) tests? collected", result.stdout, re.MULTILINE)
    assert found, result.stdout[-2000:] + result.stderr[-2000:]
    return int(found.group(1))


@pytest.fixture(scope="session")
def run_suite(built_catalog):
    """``run_suite(report_dir, *args, paths=("suites",), **environment)``: the conformance
    suite in a subprocess (serial unless args say otherwise) on the session's built catalog,
    with a clean environment plus the variables given."""
    import subprocess
    import sys
    import time

    def run(report_dir, *args, paths=("suites",), timeout=900, **env):
        start = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider",
             "--acl-model-dir", str(built_catalog[0]), "--acl-report-dir", str(report_dir),
             *args], cwd=ROOT, env=suite_env(**env), capture_output=True, text=True,
            timeout=timeout)
        return SuiteRun(result, report_dir, time.monotonic() - start)

    return run


@pytest.fixture(scope="session")
def full_run(run_suite, tmp_path_factory):
    """A complete, clean ``--acl-level full`` run of the suite (a CONFORMANT bundle)."""
    run = run_suite(tmp_path_factory.mktemp("full-run"), "--acl-level", "full")
    assert run.result.returncode == 0, run.output[-3000:]
    return run
