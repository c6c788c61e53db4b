"""Models with gears — built with ATC's --dynamic_batch_size (dyn_batch) and
--dynamic_image_size (dyn_hw): the gears reported as built, the extra input, the sizes of the
largest gear, every gear run to its reference, the largest gear without a choice, and gears
that are not the model's refused (clauses "gears.*"; pytest_acl/sim/dynamic.py has the
facts)."""

from __future__ import annotations

import pytest

from pytest_acl.constants import (
    ACL_DYNAMIC_TENSOR_NAME,
    ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID,
    ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID,
    ACL_ERROR_INVALID_PARAM,
)
from pytest_acl.gear_io import GearIO
from pytest_acl.modelio import ModelIO
from pytest_acl.oracles import outputs_match

GET = ("mdl.get_dynamic_batch", "mdl.get_dynamic_hw")
SET = {"batch": "mdl.set_dynamic_batch_size", "image_size": "mdl.set_dynamic_hw_size"}
MODELS = {"dyn_batch": "batch", "dyn_hw": "image_size"}
GEARS = [pytest.param(name, index, marks=pytest.mark.acl_requires(SET[kind]),
                       id=f"{name}-gear{index}")
         for name, kind in MODELS.items() for index in range(3)]


@pytest.fixture
def loaded(acl, acl_device, acl_models):
    """Load a model of the catalog; ``(model_id, entry, desc)``; unloaded afterwards."""
    made = []

    def load(name):
        entry = acl_models[name]
        model_id, ret = acl.mdl.load_from_file(str(entry.path))
        assert ret == 0, f"acl.mdl.load_from_file({name}) returned {ret}"
        desc = acl.mdl.create_desc()
        made.append((model_id, desc))
        assert acl.mdl.get_desc(desc, model_id) == 0
        return model_id, entry, desc

    yield load
    for model_id, desc in made:
        acl.mdl.destroy_desc(desc)
        acl.mdl.unload(model_id)


def choose(acl, kind, model_id, io, values):
    """Set the gear ``values`` on the input dataset, at the gear input's index."""
    if kind == "batch":
        return acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index, *values)
    return acl.mdl.set_dynamic_hw_size(model_id, io.in_ds, io.gear_index, *values)


@pytest.mark.acl_requires(*GET)
@pytest.mark.acl_clause("gears.batch_gears_reported", "gears.hw_gears_reported",
                        "gears.count_zero_without_gears",
                        "gears.extra_input_named_dynamic_tensor",
                        "gears.input_dims_show_the_gear_dimensions",
                        "gears.sizes_are_the_largest_gears")
@pytest.mark.parametrize("name", MODELS)
def test_the_gears_are_reported_as_built(acl, loaded, name):
    model_id, entry, desc = loaded(name)
    gears = entry.gears
    batch, ret = acl.mdl.get_dynamic_batch(desc)
    assert ret == 0
    hw, ret = acl.mdl.get_dynamic_hw(desc, -1)
    assert ret == 0
    if gears["kind"] == "batch":
        assert batch == {"batchCount": len(gears["values"]),
                         "batch": [v[0] for v in gears["values"]]}
        assert hw["hwCount"] == 0
    else:
        assert hw == {"hwCount": len(gears["values"]), "hw": gears["values"]}
        assert batch["batchCount"] == 0
    inputs = [i["name"] for i in entry.data["inputs"]]
    assert acl.mdl.get_num_inputs(desc) == len(inputs) + 1
    index, ret = acl.mdl.get_input_index_by_name(desc, ACL_DYNAMIC_TENSOR_NAME)
    assert ret == 0 and acl.mdl.get_input_name_by_index(desc, index) == ACL_DYNAMIC_TENSOR_NAME
    largest_in, largest_out = entry.inputs(), entry.outputs()  # the references at the largest
    for spec in entry.data["inputs"]:
        at, ret = acl.mdl.get_input_index_by_name(desc, spec["name"])
        assert ret == 0
        dims, ret = acl.mdl.get_input_dims(desc, at)
        assert ret == 0 and dims["dims"] == spec["shape"], (
            f"input {spec['name']}: dims {dims['dims']}, the -1 of the gears expected")
        assert acl.mdl.get_input_size_by_index(desc, at) == largest_in[spec["name"]].nbytes
    for at, array in enumerate(largest_out.values()):
        assert acl.mdl.get_output_size_by_index(desc, at) == array.nbytes


@pytest.mark.acl_requires(*GET)
@pytest.mark.acl_clause("gears.count_zero_without_gears")
def test_a_model_without_gears_reports_none(acl, loaded):
    _, _, desc = loaded("mlp")
    assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 0, "batch": []}, 0)
    assert acl.mdl.get_dynamic_hw(desc, -1) == ({"hwCount": 0, "hw": []}, 0)


@pytest.mark.acl_requires("mdl.get_input_dims_range")
@pytest.mark.acl_clause("gears.dims_range_not_for_gears", "gears.dims_range_static_bounds_equal")
@pytest.mark.parametrize("name", ["dyn_batch", "dyn_hw", "mlp"])
def test_input_dims_range(acl, loaded, name):
    _, entry, desc = loaded(name)
    found, ret = acl.mdl.get_input_dims_range(desc, 0)
    assert ret == 0
    if name in MODELS:
        assert found["rangeCount"] == 0
    else:
        dims = entry.data["inputs"][0]["shape"]
        assert found == {"rangeCount": len(dims), "range": [[d, d] for d in dims]}


def cur_output_dims(acl, desc, expected):
    """The output dims aclmdlGetCurOutputDims reports, by output name."""
    found = {}
    for index, name in enumerate(expected):
        dims, ret = acl.mdl.get_cur_output_dims(desc, index)
        assert ret == 0, f"acl.mdl.get_cur_output_dims(desc, {index}) returned {ret}"
        found[name] = dims["dims"]
    return found


@pytest.mark.acl_requires("mdl.get_cur_output_dims")
@pytest.mark.acl_clause("gears.each_gear_runs", "gears.sizes_are_the_largest_gears",
                        "gears.cur_output_dims_of_the_gear", "load.outputs_match_reference")
@pytest.mark.parametrize(("name", "gear"), GEARS)
def test_each_gear_runs_to_its_reference(acl, loaded, name, gear):
    kind = MODELS[name]
    model_id, entry, desc = loaded(name)
    values = entry.gears["values"][gear]
    io = GearIO.prepare(acl, model_id, entry.gear_inputs(gear))
    try:
        assert choose(acl, kind, model_id, io, values) == 0
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
        expected = entry.gear_outputs(gear)
        outputs_match(io.outputs(expected), expected)
        assert cur_output_dims(acl, desc, expected) == {
            name: list(array.shape) for name, array in expected.items()}
    finally:
        io.release()


@pytest.mark.acl_requires("mdl.get_cur_output_dims")
@pytest.mark.acl_clause("gears.default_is_the_largest", "gears.cur_output_dims_of_the_gear",
                        "load.outputs_match_reference")
@pytest.mark.parametrize("name", MODELS)
def test_without_a_gear_the_largest_runs(acl, loaded, name):
    model_id, entry, desc = loaded(name)
    io = GearIO.prepare(acl, model_id, entry.inputs())  # the references at the largest gear
    try:
        assert acl.mdl.execute(model_id, io.in_ds, io.out_ds) == 0
        outputs_match(io.outputs(entry.outputs()), entry.outputs())
        assert cur_output_dims(acl, desc, entry.outputs()) == {
            name: list(array.shape) for name, array in entry.outputs().items()}
    finally:
        io.release()


@pytest.mark.acl_requires(SET["batch"])
@pytest.mark.acl_clause("gears.batch_not_a_gear_refused", "gears.batch_not_a_gear_code")
@pytest.mark.parametrize("batch", [0, 3, 8])
def test_a_batch_not_among_the_gears_is_refused(acl, loaded, acl_expect, batch):
    model_id, entry, _ = loaded("dyn_batch")
    io = GearIO.prepare(acl, model_id, entry.inputs())
    try:
        ret = acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, io.gear_index, batch)
        code = ACL_ERROR_INVALID_PARAM if batch == 0 else ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
        acl_expect.refusal(ret, code, "gears.batch_not_a_gear_refused",
                           "gears.batch_not_a_gear_code")
    finally:
        io.release()


@pytest.mark.acl_requires(SET["image_size"])
@pytest.mark.acl_clause("gears.hw_not_a_gear_refused", "gears.hw_not_a_gear_code")
@pytest.mark.parametrize("size", [(8, 9), (16, 8), (0, 8), (32, 32)])
def test_an_image_size_not_among_the_gears_is_refused(acl, loaded, acl_expect, size):
    model_id, entry, _ = loaded("dyn_hw")
    io = GearIO.prepare(acl, model_id, entry.inputs())
    try:
        ret = acl.mdl.set_dynamic_hw_size(model_id, io.in_ds, io.gear_index, *size)
        code = ACL_ERROR_INVALID_PARAM if 0 in size else ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
        acl_expect.refusal(ret, code, "gears.hw_not_a_gear_refused", "gears.hw_not_a_gear_code")
    finally:
        io.release()


# (model, what is set, its values, the code): the index is the gear input's, or 0 for a
# model without one (its first input's buffer, large enough for any value)
WITHOUT = [pytest.param(name, kind, values, code, marks=pytest.mark.acl_requires(SET[kind]),
                        id=f"{name}-{kind}")
           for name, kind, values, code in (
               ("mlp", "batch", (4,), ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID),
               ("mlp", "image_size", (8, 8), ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID),
               ("dyn_hw", "batch", (4,), ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID),
               ("dyn_batch", "image_size", (8, 8), ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID))]


@pytest.mark.acl_clause("gears.set_without_such_gears_refused", "gears.set_without_such_gears_code")
@pytest.mark.parametrize(("name", "kind", "values", "code"), WITHOUT)
def test_a_gear_the_model_does_not_have_is_refused(acl, loaded, acl_expect, name, kind, values,
                                                  code):
    model_id, entry, _ = loaded(name)
    if name in MODELS:
        io: GearIO | ModelIO = GearIO.prepare(acl, model_id, entry.inputs())
        index = io.gear_index
    else:
        io, index = ModelIO.prepare(acl, model_id, list(entry.inputs().values())), 0
    try:
        ret = (acl.mdl.set_dynamic_batch_size(model_id, io.in_ds, index, *values)
               if kind == "batch" else
               acl.mdl.set_dynamic_hw_size(model_id, io.in_ds, index, *values))
        acl_expect.refusal(ret, code, "gears.set_without_such_gears_refused",
                           "gears.set_without_such_gears_code")
    finally:
        io.release()
