"""Tensor descriptors and a dataset's per-buffer descriptors (reference/acl-api.md §1.4)."""

from __future__ import annotations

import pytest

from pytest_acl.constants import ACL_ERROR_INVALID_PARAM, ACL_FLOAT16, ACL_FORMAT_NCHW


def test_a_tensor_desc_reports_what_it_was_created_with(sim_acl):
    acl = sim_acl
    desc = acl.create_tensor_desc(ACL_FLOAT16, [2, 3, 4], ACL_FORMAT_NCHW)
    assert desc != 0
    assert acl.get_tensor_desc_num_dims(desc) == 3
    assert [acl.get_tensor_desc_dim_v2(desc, i) for i in range(3)] == [(2, 0), (3, 0), (4, 0)]
    assert acl.get_tensor_desc_dim_v2(desc, 3) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.get_tensor_desc_type(desc) == ACL_FLOAT16
    assert acl.get_tensor_desc_format(desc) == ACL_FORMAT_NCHW
    assert acl.get_tensor_desc_size(desc) == 2 * 3 * 4 * 2
    acl.destroy_tensor_desc(desc)
    assert acl.get_tensor_desc_num_dims(desc) == 0 and acl.get_tensor_desc_type(desc) == -1


def test_unknown_dims_have_size_zero_and_bad_arguments_raise(sim_acl):
    acl = sim_acl
    desc = acl.create_tensor_desc(0, [-1, 16], 2)
    assert acl.get_tensor_desc_size(desc) == 0
    acl.destroy_tensor_desc(desc)
    with pytest.raises(TypeError, match="^argument 2 is not list$"):
        acl.create_tensor_desc(0, "16", 2)
    with pytest.raises(TypeError, match="^acl.create_tensor_desc args parse failed$"):
        acl.create_tensor_desc(0, [16])


@pytest.mark.parametrize(("dims", "error", "text"), [
    ([2, "3"], TypeError, "invalid data type"),
    ([2, 3.0], TypeError, "invalid data type"),
    ([2**63], ValueError, "PyLong_AsLongLong failed"),
    ([2**63, "3"], ValueError, "PyLong_AsLongLong failed"),  # checked in order
])
def test_bad_dims_raise_like_pyacl(sim_acl, dims, error, text):
    """Each dim must be an int in the int64 range (pyACL utils_methods.cpp
    GetValuesFromPyList), checked one by one."""
    with pytest.raises(error, match=f"^{text}$"):
        sim_acl.create_tensor_desc(0, dims, 2)


def test_bool_dims_are_ints(sim_acl):
    """bool is a PyLong subclass, so pyACL reads True as 1."""
    desc = sim_acl.create_tensor_desc(0, [True, 4], 2)
    assert sim_acl.get_tensor_desc_dim_v2(desc, 0) == (1, 0)


def test_dataset_tensor_descs_by_index(sim_acl):
    acl = sim_acl
    dataset = acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(0, 0))
    desc = acl.create_tensor_desc(0, [1], 2)
    assert acl.mdl.set_dataset_tensor_desc(dataset, desc, 0) == (dataset, 0)
    assert acl.mdl.get_dataset_tensor_desc(dataset, 0) == desc
    assert acl.mdl.set_dataset_tensor_desc(dataset, desc, 1) == (dataset, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.set_dataset_tensor_desc(dataset, 0, 0) == (dataset, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_dataset_tensor_desc(dataset, 5) == 0
    assert acl.mdl.get_dataset_tensor_desc(0, 0) == 0
