"""``pytest-acl models build`` and ``models inspect``, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
                                  "dyn_shape", "dyn_hw", "bundle3"])
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
    if name == "dyn_hw":  # the gears of MODEL_INOUT_INFO
        assert "gears: image_size 8,8; 8,16; 16,16 (inputs in order: x)" in result.stdout


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


def test_inspect_refuses_a_fifo_a_device_and_a_directory_promptly(tmp_path):
    fifo = tmp_path / "pipe.om"
    os.mkfifo(fifo)
    start = time.monotonic()
    result = subprocess.run([str(SCRIPT), "models", "inspect", str(fifo), "/dev/zero",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert time.monotonic() - start < 30
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"pytest-acl models inspect: {fifo}: is a FIFO (named pipe), not a model file; give "
        "the path of a regular .om file",
        "pytest-acl models inspect: /dev/zero: is a character device, not a model file; give "
        "the path of a regular .om file",
        f"pytest-acl models inspect: {tmp_path}: is a directory, not a model file; give the "
        "path of a regular .om file"]


@pytest.mark.parametrize("out", ["file", "file/models"])
def test_build_into_a_file_is_a_one_line_usage_error(tmp_path, out):
    """``models build --out README.md``: exit 2 and one line, no traceback, nothing
    written."""
    (tmp_path / "file").write_text("not a directory")
    result = subprocess.run([str(SCRIPT), "models", "build", "--out", str(tmp_path / out),
                             "--only", "mlp"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"pytest-acl models build: --out {tmp_path / out}: "
                             f"{tmp_path / 'file'} is a file, not a directory; give a "
                             "directory for the catalog (it is made if missing)\n")
    assert (tmp_path / "file").read_text() == "not a directory"


def test_two_builds_into_one_directory_at_once(tmp_path):
    """The second waits on the first's lock and reuses what it built: both succeed, the
    models are built once, and the catalog is whole and verifies."""
    from pytest_acl.models.provider import session_catalog

    command = [str(SCRIPT), "models", "build", "--out", str(tmp_path), "--only", "mlp"]
    builds = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(2)]
    outputs = [build.communicate(timeout=300) for build in builds]
    assert [build.returncode for build in builds] == [0, 0], outputs
    logs = "".join(out for out, _ in outputs).splitlines()
    assert logs.count("mlp: built mlp.om") == 1 and logs.count("mlp: up to date") == 1
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    catalog = session_catalog(tmp_path, "sim", "test", tmp_path / "unused")
    assert catalog.names == ["mlp"] and catalog["mlp"].path.is_file()
