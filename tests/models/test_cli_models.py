"""``pytest-acl models build`` and ``models inspect``, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pytest_acl.om.corrupt import bundle_corruptions, corruptions

SCRIPT = Path(sys.executable).with_name("pytest-acl")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), "models", *args], capture_output=True, text=True,
                          timeout=300)


def test_build_twice_rebuilds_nothing(tmp_path):
    first = run("build", "--out", str(tmp_path), "--only", "mlp", "noweights")
    assert first.returncode == 0, first.stderr
    assert "mlp: built mlp.om" in first.stdout
    second = run("build", "--out", str(tmp_path), "--only", "mlp", "noweights")
    assert second.stdout.splitlines()[:2] == ["mlp: up to date", "noweights: up to date"]


def test_atc_target_without_atc_says_so(tmp_path):
    result = run("build", "--out", str(tmp_path), "--target", "atc", "--soc", "Ascend910B1",
                 "--only", "mlp")
    assert result.returncode == 1
    assert "atc is not on PATH" in result.stderr and "set_env.sh" in result.stderr


def test_unknown_model_is_refused_with_the_catalog(tmp_path):
    result = run("build", "--out", str(tmp_path), "--only", "nope")
    assert result.returncode == 1 and "unknown model(s) nope" in result.stderr


@pytest.mark.parametrize("name", ["mlp", "conv", "noweights", "bigweights", "multi_io",
                                  "dyn_shape", "bundle3"])
def test_inspect_every_catalog_model(built_catalog, name):
    directory, manifest = built_catalog
    result = run("inspect", str(directory / manifest["models"][name]["file"]))
    assert result.returncode == 0, result.stdout
    assert "magic" in result.stdout and "verdict: loads" in result.stdout
    if name == "bundle3":
        assert "bundle: 3 graphs" in result.stdout
    else:
        entry = manifest["models"][name]
        assert (f"QuerySize: work {entry['work_size']} bytes, weight {entry['weight_size']} "
                "bytes") in result.stdout


def test_inspect_every_corruption(built_catalog, tmp_path):
    directory, manifest = built_catalog
    valid = (directory / "mlp.om").read_bytes()
    cases = corruptions(valid) + bundle_corruptions((directory / "bundle3.om").read_bytes(),
                                                    valid)
    paths = []
    for case in cases:
        paths.append(tmp_path / f"{case.name}.om")
        paths[-1].write_bytes(case.data)
    result = run("inspect", *map(str, paths))
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("verdict:")]
    assert len(verdicts) == len(cases)
    for case, line in zip(cases, verdicts, strict=True):
        code = case.expected.get("load_file", case.expected.get("bundle_load"))
        if case.name == "empty":
            code = 145006  # inspect reads bytes: an empty file is a too-short model
        if case.name == "model_as_bundle":
            code = 0  # a valid model: inspect describes it as one
        if case.name == "bundle_as_model":
            code = 100000  # inspect reads modeltype 5 as a bundle: it holds no sub-model
        assert (line == "verdict: loads") if code == 0 else (str(code) in line), case.name
    assert result.returncode == 1


def test_inspect_of_a_missing_file_is_a_clear_error(tmp_path):
    result = run("inspect", str(tmp_path / "none.om"))
    assert result.returncode == 1 and "cannot read" in result.stderr
