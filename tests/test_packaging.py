"""The suite and the fixture catalog ship in the package: the distribution lists every
package, and ``pytest-acl run`` from any directory runs the shipped suite with its own
settings, with the verdict of a run in the checkout. (CI builds the wheel and runs the whole
suite from it in a fresh environment.)"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pytest_acl import cli
from pytest_acl.suite import package_dir, suite_dir

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_in_the_distribution():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(path.parent.relative_to(ROOT).parts)
             for path in (ROOT / "pytest_acl").rglob("__init__.py")}
    assert set(setuptools["packages"]) == found | {"pytest_acl.suites",
                                                   "pytest_acl.fixture_catalog"}
    assert setuptools["package-dir"] == {"pytest_acl.suites": "suites",
                                         "pytest_acl.fixture_catalog": "fixtures"}
    data = setuptools["package-data"]
    assert all((ROOT / "suites" / name).is_file() for name in data["pytest_acl.suites"])
    # the simulator's data: the shim and the pyACL surface table (sim/surface.py reads it)
    assert "sim/surface.toml" in data["pytest_acl"]
    assert all(any((ROOT / "pytest_acl").glob(pattern)) for pattern in data["pytest_acl"])


def test_the_shipped_suite_and_catalog_are_found_as_packages():
    assert suite_dir() == ROOT / "suites"
    assert package_dir("pytest_acl.fixture_catalog") == ROOT / "fixtures"


def summary(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1].split(" in ")[0]


def test_pytest_acl_run_from_anywhere_gives_the_checkouts_verdict(tmp_path, built_catalog):
    common = ["-q", "-p", "no:randomly", "--acl-model-dir", str(built_catalog[0])]
    elsewhere = subprocess.run(
        [str(Path(sys.executable).with_name("pytest-acl")), "run", "suites/test_lifecycle.py",
         "suites/test_config.py", *common], cwd=tmp_path, capture_output=True, text=True,
        timeout=300)
    checkout = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/test_lifecycle.py", "suites/test_config.py",
         *common, "--acl-report-dir", str(tmp_path / "checkout-reports")], cwd=ROOT,
        capture_output=True, text=True, timeout=300)
    assert elsewhere.returncode == checkout.returncode == 0, elsewhere.stdout[-2000:]
    assert summary(elsewhere) == summary(checkout)
    assert re.fullmatch(r"\d+ passed", summary(checkout)) and \
        int(summary(checkout).split()[0]) >= 15
    (run,) = (tmp_path / "reports").iterdir()  # results where pytest-acl run started
    assert '"nodeid": "suites/test_lifecycle.py::' in (run / "results.jsonl").read_text()


@pytest.mark.parametrize(("args", "named"), [(["-n", "2"], "-n"), (["-n2"], "-n"),
                                             (["--numprocesses=2"], "--numprocesses"),
                                             (["-q", "--dist", "load"], "--dist")])
def test_pytest_acl_run_without_xdist_says_what_to_install(monkeypatch, capsys, args, named):
    """A wheel installed without the xdist extra: ``pytest-acl run -n 2`` names the extra
    instead of pytest's "unrecognized arguments: -n" — and starts nothing."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "xdist"
                        else real_find_spec(name, *rest))
    monkeypatch.setattr(os, "execv", lambda *a: pytest.fail(f"pytest was started: {a}"))
    assert cli.main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert "pytest-xdist" in err and "pip install 'pytest-acl[xdist]'" in err
    assert err.startswith(f"pytest-acl run: {named} is pytest-xdist's option")


def test_pytest_acl_run_passes_xdist_options_on_when_it_is_installed(monkeypatch):
    started: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda program, command: started.append(command))
    cli.main(["run", "-n", "2", "-q"])
    assert started and "-n 2 -q" in " ".join(started[0])
