"""``acl_models`` and ``--acl-model-dir``: a catalog read from a directory, built on demand on
the simulator (once, shared by xdist workers), refused with advice on NPU backends."""

from __future__ import annotations

import pytest

INNER = ("-p", "no:hypothesispytest", "--strict-markers")

USE_CATALOG = """
import json, os
def test_catalog(acl_models):
    mlp = acl_models["mlp"]
    assert mlp.path.is_file() and mlp.kind == "static"
    assert set(mlp.inputs()) == {"x"} and set(mlp.outputs()) == {"y"}
    assert acl_models["dyn_shape"].work_size == 0
    record = os.environ.get("RECORD")
    if record:
        with open(os.path.join(record, os.environ.get("PYTEST_XDIST_WORKER", "main")), "w") as f:
            json.dump([str(acl_models.directory), mlp.data["sha256"]], f)
"""


def test_model_dir_is_used_and_shown_in_the_header(pytester, built_catalog):
    directory, manifest = built_catalog
    pytester.makepyfile(f"""
        def test_dir(acl_models):
            assert str(acl_models.directory) == {str(directory)!r}
            assert acl_models.names == {sorted(manifest["models"])!r}
            assert acl_models["bigweights"].weight_size >= 64 * 2**20
    """)
    result = pytester.runpytest(*INNER, "-p", "no:cacheprovider", "--acl-model-dir",
                                str(directory))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"acl: models from {directory} (from command line)"])


def test_unknown_model_names_the_catalog(pytester, built_catalog):
    pytester.makepyfile("""
        import pytest
        def test_missing(acl_models):
            with pytest.raises(KeyError, match="'nope' is not in the catalog.*mlp"):
                acl_models["nope"]
    """)
    result = pytester.runpytest(*INNER, "--acl-model-dir", str(built_catalog[0]))
    result.assert_outcomes(passed=1)


def test_model_dir_without_manifest_is_a_usage_error(pytester, tmp_path):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(*INNER, "--acl-model-dir", str(tmp_path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--acl-model-dir: invalid value * (from command line): "
                                 "*holds no manifest.json; build a catalog there with "
                                 "'pytest-acl models build --out *"])


def test_simulator_builds_on_demand_into_the_cache_once(pytester):
    pytester.makepyfile(USE_CATALOG)
    first = pytester.runpytest(*INNER)
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["acl: models built on demand into the pytest cache"])
    cache = pytester.path / ".pytest_cache" / "d" / "acl-models"
    manifest = cache / "manifest.json"
    stamp = (cache / "bigweights.om").stat().st_mtime_ns
    second = pytester.runpytest(*INNER)
    second.assert_outcomes(passed=1)
    assert manifest.is_file() and (cache / "bigweights.om").stat().st_mtime_ns == stamp


def test_xdist_workers_share_one_on_demand_build(pytester, monkeypatch, tmp_path):
    pytester.makepyfile(USE_CATALOG.replace("def test_catalog", "def test_a") + "\n"
                        + USE_CATALOG.replace("def test_catalog", "def test_b"))
    monkeypatch.setenv("RECORD", str(tmp_path))
    result = pytester.runpytest_subprocess(*INNER, "-n", "2")
    result.assert_outcomes(passed=2)
    seen = {path.read_text() for path in tmp_path.iterdir()}
    assert len(list(tmp_path.iterdir())) == 2 and len(seen) == 1


@pytest.fixture
def pyacl_standin(pytester, monkeypatch):
    """An importable 'acl' that looks like CANN's pyACL (a fresh simulator underneath)."""
    standin = pytester.mkdir("standin")
    (standin / "acl.py").write_text(
        "import sys\nfrom pytest_acl.sim import Simulator\n_acl = Simulator().acl\n"
        "del _acl.__simulator__\nsys.modules[__name__] = _acl\n")
    monkeypatch.setenv("PYTHONPATH", str(standin))


@pytest.mark.usefixtures("pyacl_standin")
def test_npu_backend_without_model_dir_says_how_to_build(pytester):
    pytester.makepyfile("def test_x(acl_models): pass")
    result = pytester.runpytest_subprocess(*INNER, "--acl-backend", "pyacl")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--acl-backend pyacl needs models built for the device: "
                                 "on the NPU host run 'pytest-acl models build --target atc "
                                 "--soc SOC --out DIR' and pass --acl-model-dir DIR*"])


@pytest.mark.usefixtures("pyacl_standin")
def test_npu_backend_refuses_a_simulator_catalog(pytester, built_catalog):
    pytester.makepyfile("def test_x(acl_models): pass")
    result = pytester.runpytest_subprocess(*INNER, "--acl-backend", "pyacl",
                                           "--acl-model-dir", str(built_catalog[0]))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*was built for the simulator; a device needs "
                                 "'pytest-acl models build --target atc --soc SOC'*"])
