"""Data buffers (``acl.*_data_buffer*``) and datasets (``acl.mdl.*dataset*``).

Rules (reference/acl-api.md §1.4): a data buffer only describes memory — destroying it does
not free the memory; a dataset holds buffers in insertion order and destroying it does not
destroy them; NULL or unknown handles give ACL_ERROR_INVALID_PARAM, and getters return 0.
These are host-side descriptors, so they need no aclInit and survive aclFinalize.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_acl.constants import AclError
from pytest_acl.sim.handles import HandleTable, Kind
from pytest_acl.sim.pyargs import AclFail, parse_args, parses_own, pyacl

E = AclError


@dataclass
class DataBuffer:
    address: int
    size: int


@dataclass
class Dataset:
    buffers: list[int] = field(default_factory=list)
    tensor_descs: dict[int, int] = field(default_factory=dict)  # buffer index → tensor desc
    # The gear set_dynamic_batch_size / _hw_size / set_input_dynamic_dims recorded (aclmdlDataset
    # dynamicBatchSize, dynamicResolutionHeight/Width, dynamicDims; dynamic.py): (kind, values)
    dynamic: tuple[str, tuple[int, ...]] | None = None


class DataApi:
    """Data-buffer functions (top level of ``acl``) and dataset functions (``acl.mdl``)."""

    HOME = "acl"

    MODULES = {"add_dataset_buffer": "acl.mdl"}

    def __init__(self, handles: HandleTable) -> None:
        self._handles = handles

    def _buffer(self, handle: int) -> DataBuffer:
        found = self._handles.get(Kind.DATA_BUFFER, handle)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not a live data buffer")
        return found

    def _dataset(self, handle: int) -> Dataset:
        found = self._handles.get(Kind.DATASET, handle)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not a live dataset")
        return found

    # -- data buffers ------------------------------------------------------------------------
    @pyacl("acl.create_data_buffer", "kk", returns_ret=False)
    def create_data_buffer(self, data: int, size: int) -> int:
        """No check of data or size: aclCreateDataBuffer(NULL, n) is a valid buffer."""
        return self._handles.new(Kind.DATA_BUFFER, lambda _: DataBuffer(data, size))

    @pyacl("acl.destroy_data_buffer", "k")
    def destroy_data_buffer(self, buffer: int) -> None:
        if self._handles.remove(Kind.DATA_BUFFER, buffer) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{buffer:#x} is not a live data buffer")

    @pyacl("acl.update_data_buffer", "kkk")
    def update_data_buffer(self, buffer: int, data: int, size: int) -> None:
        found = self._buffer(buffer)
        found.address, found.size = data, size

    @pyacl("acl.get_data_buffer_addr", "k", returns_ret=False)
    def get_data_buffer_addr(self, buffer: int) -> int:
        return self._buffer(buffer).address

    @pyacl("acl.get_data_buffer_size_v2", "k", returns_ret=False)
    def get_data_buffer_size_v2(self, buffer: int) -> int:
        return self._buffer(buffer).size

    @pyacl("acl.get_data_buffer_size", "k", returns_ret=False)
    def get_data_buffer_size(self, buffer: int) -> int:
        """The deprecated uint32 form (§1.4): the size truncated to 32 bits."""
        return self._buffer(buffer).size & 0xFFFFFFFF

    # -- datasets ----------------------------------------------------------------------------
    @pyacl("acl.mdl.create_dataset", "", returns_ret=False, parses_args=False)
    def create_dataset(self) -> int:
        """pyACL never parses this one's arguments: create_dataset(1) is a dataset too
        (cann-behaviour.md §9; mdl_wrap.cpp ``WrapAclMdlCreateDataset``)."""
        return self._handles.new(Kind.DATASET, lambda _: Dataset())

    @pyacl("acl.mdl.destroy_dataset", "k")
    def destroy_dataset(self, dataset: int) -> None:
        if self._handles.remove(Kind.DATASET, dataset) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{dataset:#x} is not a live dataset")

    @parses_own("acl.mdl.add_dataset_buffer", "kk", outputs=1)
    def add_dataset_buffer(self, *args: object) -> tuple[int, int]:
        """Append ``buffer``; returns ``(dataset, ret)``, echoing the dataset even on failure
        (pyACL ``mdl_wrap.cpp`` builds the tuple from its argument)."""
        dataset, buffer = parse_args("acl.mdl.add_dataset_buffer", "kk", args, {})
        try:
            found = self._dataset(dataset)
            self._buffer(buffer)
        except AclFail as fail:
            return dataset, fail.code
        found.buffers.append(buffer)
        return dataset, E.ACL_SUCCESS.value

    @pyacl("acl.mdl.get_dataset_num_buffers", "k", returns_ret=False)
    def get_dataset_num_buffers(self, dataset: int) -> int:
        return len(self._dataset(dataset).buffers)

    @pyacl("acl.mdl.get_dataset_buffer", "kk", returns_ret=False)
    def get_dataset_buffer(self, dataset: int, index: int) -> int:
        buffers = self._dataset(dataset).buffers
        return buffers[index] if index < len(buffers) else 0
