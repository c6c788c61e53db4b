"""Model descriptions: what real pyACL applications read to size their buffers."""

from __future__ import annotations

import pytest

from pytest_acl.constants import (
    ACL_ERROR_GE_EXEC_MODEL_ID_INVALID,
    ACL_ERROR_INVALID_PARAM,
    ACL_FLOAT,
    ACL_FORMAT_ND,
)
from pytest_acl.models.manifest import ModelEntry


@pytest.fixture
def multi_io(sim_acl, built_catalog):
    directory, manifest = built_catalog
    entry = ModelEntry(directory, manifest["models"]["multi_io"])
    model_id, _ = sim_acl.mdl.load_from_file(str(entry.path))
    desc = sim_acl.mdl.create_desc()
    assert sim_acl.mdl.get_desc(desc, model_id) == 0
    yield sim_acl, desc, entry
    sim_acl.mdl.destroy_desc(desc)
    sim_acl.mdl.unload(model_id)


def test_counts_sizes_names_and_dims(multi_io):
    acl, desc, entry = multi_io
    mdl = acl.mdl
    assert (mdl.get_num_inputs(desc), mdl.get_num_outputs(desc)) == (2, 2)
    assert [mdl.get_input_size_by_index(desc, i) for i in range(2)] == [
        i["nbytes"] for i in entry.data["inputs"]]
    assert [mdl.get_output_size_by_index(desc, i) for i in range(2)] == [
        o["nbytes"] for o in entry.data["outputs"]]
    assert [mdl.get_input_name_by_index(desc, i) for i in range(2)] == ["a", "b"]
    assert [mdl.get_output_name_by_index(desc, i) for i in range(2)] == ["y_sum", "y_cat"]
    assert mdl.get_input_dims(desc, 1) == ({"name": "b", "dimCount": 2, "dims": [3, 8]}, 0)
    assert mdl.get_input_dims_v2(desc, 0) == ({"name": "a", "dimCount": 2, "dims": [3, 8]}, 0)
    assert mdl.get_output_dims(desc, 1) == ({"name": "y_cat", "dimCount": 2, "dims": [3, 16]}, 0)
    assert mdl.get_input_index_by_name(desc, "b") == (1, 0)
    assert mdl.get_output_index_by_name(desc, "y_cat") == (1, 0)


def test_types_and_formats_use_the_cann_enums(multi_io):
    acl, desc, _ = multi_io
    assert acl.mdl.get_input_data_type(desc, 0) == ACL_FLOAT
    assert acl.mdl.get_output_data_type(desc, 1) == ACL_FLOAT
    assert acl.mdl.get_input_format(desc, 0) == ACL_FORMAT_ND
    assert acl.mdl.get_output_format(desc, 0) == ACL_FORMAT_ND


def test_out_of_range_and_unknown_names_fail_the_documented_way(multi_io):
    acl, desc, _ = multi_io
    mdl = acl.mdl
    assert mdl.get_input_size_by_index(desc, 5) == 0
    assert mdl.get_input_dims(desc, 5) == ({}, ACL_ERROR_INVALID_PARAM)
    assert mdl.get_input_index_by_name(desc, "nope") == (0, ACL_ERROR_INVALID_PARAM)
    assert mdl.get_input_name_by_index(desc, 9) == ""
    assert mdl.get_num_inputs(0) == 0 and mdl.get_output_size_by_index(0, 0) == 0


def test_get_desc_of_an_unknown_model_clears_the_desc(multi_io):
    acl, desc, _ = multi_io
    assert acl.mdl.get_desc(desc, 4242) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    assert acl.mdl.get_num_inputs(desc) == 0
    assert acl.mdl.get_desc(0, 1) == ACL_ERROR_INVALID_PARAM


def test_dynamic_dimensions_are_minus_one_and_size_zero(sim_acl, built_catalog):
    directory, manifest = built_catalog
    entry = ModelEntry(directory, manifest["models"]["dyn_shape"])
    model_id, _ = sim_acl.mdl.load_from_file(str(entry.path))
    desc = sim_acl.mdl.create_desc()
    sim_acl.mdl.get_desc(desc, model_id)
    assert sim_acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [-1, 16]
    assert sim_acl.mdl.get_input_size_by_index(desc, 0) == 0
    sim_acl.mdl.destroy_desc(desc)
    sim_acl.mdl.unload(model_id)
