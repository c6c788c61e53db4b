"""Tensor descriptors (``acl.create_tensor_desc`` …) and a dataset's per-buffer descriptors.

A dynamic-shape model learns the actual input shape from the tensor descriptor set on each
input buffer with ``acl.mdl.set_dataset_tensor_desc`` (reference/acl-api.md §1.4); after it
runs, the output dataset carries descriptors with the actual output shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_acl.constants import ACL_DTYPE_OF, NUMPY_DTYPE_OF, AclError, DataType
from pytest_acl.sim.acl_data import DataApi
from pytest_acl.sim.handles import HandleTable, Kind
from pytest_acl.sim.pyargs import AclFail, parse_args, parses_own, pyacl, raised_by_pyacl

E = AclError
_INT64 = range(-(2**63), 2**63)


def _int64_dims(dims: list[Any]) -> list[int]:
    """The dims as pyACL reads them: ints (bool included, as PyLong subclasses) in the int64
    range, checked one by one (utils_methods.cpp ``GetValuesFromPyList`` for int64_t)."""
    for dim in dims:
        if not isinstance(dim, int):
            raise raised_by_pyacl(TypeError("invalid data type"))
        if dim not in _INT64:
            raise raised_by_pyacl(ValueError("PyLong_AsLongLong failed"))
    return [int(d) for d in dims]


def acl_data_type(numpy_dtype: str) -> int:
    return ACL_DTYPE_OF.get(np.dtype(numpy_dtype).name, DataType.ACL_DT_UNDEFINED)


@dataclass
class TensorDesc:
    data_type: int
    dims: list[int]
    format: int

    @property
    def size(self) -> int:
        dtype = NUMPY_DTYPE_OF.get(self.data_type)
        if dtype is None or any(d < 0 for d in self.dims):
            return 0
        return int(np.prod(self.dims, dtype=np.int64)) * np.dtype(dtype).itemsize


class TensorDescApi:
    """``acl.*tensor_desc*`` and ``acl.mdl.{set,get}_dataset_tensor_desc``."""

    HOME = "acl"

    MODULES = {"set_dataset_tensor_desc": "acl.mdl", "get_dataset_tensor_desc": "acl.mdl"}

    def __init__(self, handles: HandleTable, data: DataApi) -> None:
        self._handles = handles
        self._data = data

    def _new(self, desc: TensorDesc) -> int:
        return self._handles.new(Kind.TENSOR_DESC, lambda _: desc)

    def _get(self, handle: int) -> TensorDesc | None:
        return self._handles.get(Kind.TENSOR_DESC, handle)

    @parses_own("acl.create_tensor_desc", "iOi", returns_ret=False)
    def create_tensor_desc(self, *args: Any) -> int:
        """``acl.create_tensor_desc(data_type, dims, format)`` → handle (0 on failure).

        ``dims`` must be a list, not a tuple (cann-behaviour.md §9)."""
        data_type, dims, fmt = parse_args("acl.create_tensor_desc", "iOi", args, {})
        if not isinstance(dims, list):  # PyList_Check (py_init_acl.cpp WrapAclCreateTensorDesc)
            raise raised_by_pyacl(TypeError("argument 2 is not list"))
        return self._new(TensorDesc(data_type, _int64_dims(dims), fmt))

    @pyacl("acl.destroy_tensor_desc", "k", returns_ret=False)
    def destroy_tensor_desc(self, desc: int) -> None:
        self._handles.remove(Kind.TENSOR_DESC, desc)

    def _desc(self, handle: int) -> TensorDesc:
        desc = self._get(handle)
        if desc is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not a tensor desc")
        return desc

    @pyacl("acl.get_tensor_desc_num_dims", "k", returns_ret=False)
    def get_tensor_desc_num_dims(self, desc: int) -> int:
        return len(self._desc(desc).dims)

    @pyacl("acl.get_tensor_desc_dim_v2", "kk", outputs=1)
    def get_tensor_desc_dim_v2(self, desc: int, index: int) -> int:
        dims = self._desc(desc).dims
        if index >= len(dims):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"dim index {index} ≥ {len(dims)}")
        return dims[index]

    @pyacl("acl.get_tensor_desc_type", "k", returns_ret=False)
    def get_tensor_desc_type(self, desc: int) -> int:
        found = self._get(desc)
        return found.data_type if found else DataType.ACL_DT_UNDEFINED

    @pyacl("acl.get_tensor_desc_format", "k", returns_ret=False)
    def get_tensor_desc_format(self, desc: int) -> int:
        found = self._get(desc)
        return found.format if found else -1

    @pyacl("acl.get_tensor_desc_size", "k", returns_ret=False)
    def get_tensor_desc_size(self, desc: int) -> int:
        return self._desc(desc).size

    @parses_own("acl.mdl.set_dataset_tensor_desc", "kkk", outputs=1)
    def set_dataset_tensor_desc(self, *args: Any) -> tuple[int, int]:
        """``(dataset, ret)``, echoing the dataset like ``add_dataset_buffer``."""
        dataset, desc, index = parse_args("acl.mdl.set_dataset_tensor_desc", "kkk", args, {})
        try:
            found = self._data._dataset(dataset)
            self._desc(desc)
            if index >= len(found.buffers):
                raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                              f"index {index} ≥ {len(found.buffers)} buffers")
        except AclFail as fail:
            return dataset, fail.code
        found.tensor_descs[index] = desc
        return dataset, E.ACL_SUCCESS.value

    @pyacl("acl.mdl.get_dataset_tensor_desc", "kk", returns_ret=False)
    def get_dataset_tensor_desc(self, dataset: int, index: int) -> int:
        return self._data._dataset(dataset).tensor_descs.get(index, 0)
