"""The fixture-model catalog, built by the simulator's compiler: manifest, reference outputs
reproduced by ONNX's reference evaluator, expected sizes, and a cache that rebuilds nothing."""

from __future__ import annotations

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator

from pytest_acl.models.build import build_catalog
from pytest_acl.models.catalog import load_catalog
from pytest_acl.models.manifest import ModelEntry, read_manifest
from pytest_acl.om.bundle import read_bundle
from pytest_acl.om.reader import expected_sizes, read_model

_, CATALOG = load_catalog()
REQUIRED = {"mlp", "conv", "noweights", "bigweights", "multi_io", "dyn_shape", "bundle3"}


def test_catalog_has_every_required_model():
    assert set(CATALOG) >= REQUIRED


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_manifest_describes_the_model(built_catalog, name):
    directory, manifest = built_catalog
    entry = manifest["models"][name]
    assert (directory / entry["file"]).stat().st_size == entry["size"]
    assert len(entry["sha256"]) == 64 and entry["kind"] == CATALOG[name].kind
    if entry["kind"] != "bundle":
        assert [i["name"] for i in entry["inputs"]] and [o["name"] for o in entry["outputs"]]
        for tensor in entry["inputs"] + entry["outputs"]:
            assert set(tensor) == {"name", "shape", "dtype", "nbytes"}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_reference_outputs_are_what_onnx_computes(built_catalog, name):
    directory, manifest = built_catalog
    entry = ModelEntry(directory, manifest["models"][name])
    state: dict[str, np.ndarray] = {}
    for index, graph in enumerate(CATALOG[name].graphs):
        key = index if entry.kind == "bundle" else None
        feeds = entry.inputs(key) | {v: state[v] for v in graph.variables}
        model = graph.onnx_model()
        results = ReferenceEvaluator(model).run(None, feeds)
        expected = entry.outputs(key)
        assert list(expected) == [o.name for o in model.graph.output]
        for (out_name, reference), result in zip(expected.items(), results, strict=True):
            np.testing.assert_array_equal(reference, result, err_msg=f"{name}:{out_name}")
        for variable, source in graph.assign.items():
            state[variable] = expected[source]


@pytest.mark.parametrize("name", sorted(set(CATALOG) - {"bundle3"}))
def test_expected_sizes_come_from_the_file(built_catalog, name):
    directory, manifest = built_catalog
    entry = manifest["models"][name]
    work, weight = expected_sizes(read_model((directory / entry["file"]).read_bytes()))
    assert (entry["work_size"], entry["weight_size"]) == (work, weight)


def test_model_kinds_have_their_defining_properties(built_catalog):
    models = built_catalog[1]["models"]
    assert models["dyn_shape"]["work_size"] == 0 and models["dyn_shape"]["weight_size"] > 0
    assert models["dyn_shape"]["inputs"][0]["shape"][0] == -1
    assert models["noweights"]["weight_size"] == 0 and models["noweights"]["work_size"] > 0
    assert models["bigweights"]["weight_size"] >= 64 * 2**20
    assert len(models["multi_io"]["inputs"]) == 2 and len(models["multi_io"]["outputs"]) == 2
    for name in ("mlp", "conv", "multi_io", "bigweights"):
        assert models[name]["work_size"] > 0, name


@pytest.mark.parametrize("name", ["dyn_batch", "dyn_hw"])
def test_a_model_with_gears_has_a_reference_at_every_gear(built_catalog, name):
    """Built as ATC builds it with --dynamic_batch_size / --dynamic_image_size: a static om
    (QuerySize reports work), the gears in the manifest and one reference per gear, each what
    ONNX computes at that gear's shape."""
    directory, manifest = built_catalog
    entry = ModelEntry(directory, manifest["models"][name])
    gears = CATALOG[name].gears
    assert entry.kind == "gears" and entry.work_size > 0
    assert entry.gears["values"] == [list(v) for v in gears.gears.values]
    evaluator = ReferenceEvaluator(CATALOG[name].graphs[0].onnx_model())
    shapes = set()
    for index, values in enumerate(gears.gears.values):
        feeds, expected = entry.gear_inputs(index), entry.gear_outputs(index)
        shapes.add(feeds["x"].shape)
        assert set(values) <= set(feeds["x"].shape), (values, feeds["x"].shape)
        for reference, result in zip(expected.values(), evaluator.run(None, feeds), strict=True):
            np.testing.assert_array_equal(reference, result)
    assert len(shapes) == len(gears.gears.values)
    np.testing.assert_array_equal(entry.inputs()["x"], entry.gear_inputs(len(shapes) - 1)["x"])


def test_bundle_entry_matches_the_bundle_file(built_catalog):
    directory, manifest = built_catalog
    entry = manifest["models"]["bundle3"]
    bundle = read_bundle((directory / entry["file"]).read_bytes())
    assert entry["graph_count"] == len(bundle.models) >= 3
    assert entry["var_size"] == bundle.var_size > 0
    for graph, sub in zip(entry["graphs"], bundle.models, strict=True):
        assert (graph["work_size"], graph["weight_size"]) == expected_sizes(read_model(sub))
    assert not entry["atc_buildable"] and "aclgrphBundleBuildModel" in entry["atc_note"]


def test_reference_arrays_load_without_pickle(built_catalog):
    directory, manifest = built_catalog
    with np.load(directory / manifest["models"]["mlp"]["reference"], allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)


def test_a_second_build_rebuilds_nothing(built_catalog):
    directory, manifest = built_catalog
    before = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}
    lines: list[str] = []
    again = build_catalog(directory, log=lines.append)
    assert lines == [f"{name}: up to date" for name in CATALOG]
    assert {p.name: p.stat().st_mtime_ns for p in directory.iterdir()
            if p.name != "manifest.json"} == {k: v for k, v in before.items()
                                              if k != "manifest.json"}
    assert again["models"] == manifest["models"]
    assert read_manifest(directory)["models"] == manifest["models"]


def test_a_deleted_file_is_rebuilt(built_catalog, tmp_path):
    lines: list[str] = []
    build_catalog(tmp_path, ["mlp"], log=lines.append)
    (tmp_path / "mlp.om").unlink()
    lines.clear()
    build_catalog(tmp_path, ["mlp"], log=lines.append)
    assert lines == ["mlp: built mlp.om"] and (tmp_path / "mlp.om").is_file()
