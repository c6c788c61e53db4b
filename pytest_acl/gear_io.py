"""Inputs and outputs of one execution of a model built with gears, through any backend's
pyACL functions (the flow of the vendor's dynamic-batch guide, hiascend canncommercial/800
aclpythondevg_0046 and the C pages it links).

Every input buffer — the extra input ``ascend_mbatch_shape_data`` (ACL_DYNAMIC_TENSOR_NAME)
included — is allocated with the size ``get_input_size_by_index`` reports (the largest gear's),
and a gear's data is copied into the start of its input; the gear input is left as allocated
("无需用户设置该内存中的数据": the set_* call fills it). Outputs get the size
``get_output_size_by_index`` reports, which covers every gear ("使用约束"), followed by a canary
the data buffer does not include. No tensor desc is set on the dataset: a model takes one of
set_dataset_tensor_desc or the set_dynamic_* functions, not both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from pytest_acl.buffers import check, copy_from_device, copy_to_device
from pytest_acl.constants import ACL_DYNAMIC_TENSOR_NAME, MemMallocPolicy

CANARY = bytes([0x3C, 0xA5]) * 32


@dataclass
class GearIO:
    acl: ModuleType
    model_id: int
    gear_index: int = -1  # the index of ascend_mbatch_shape_data
    in_ds: int = 0
    out_ds: int = 0
    input_sizes: list[int] = field(default_factory=list)
    output_sizes: list[int] = field(default_factory=list)
    _device: list[int] = field(default_factory=list)
    _buffers: list[int] = field(default_factory=list)
    _outputs: list[int] = field(default_factory=list)  # each output's device address

    @classmethod
    def prepare(cls, acl: ModuleType, model_id: int, inputs: dict[str, np.ndarray]) -> GearIO:
        """Buffers for the model's inputs (``inputs`` by name, at any gear) and outputs."""
        io = cls(acl, model_id)
        desc = acl.mdl.create_desc()
        try:
            check(acl.mdl.get_desc(desc, model_id), f"acl.mdl.get_desc(desc, {model_id})")
            io.gear_index, ret = acl.mdl.get_input_index_by_name(desc, ACL_DYNAMIC_TENSOR_NAME)
            check(ret, f"acl.mdl.get_input_index_by_name({ACL_DYNAMIC_TENSOR_NAME!r})")
            names = [acl.mdl.get_input_name_by_index(desc, i)
                     for i in range(acl.mdl.get_num_inputs(desc))]
            io.input_sizes = [acl.mdl.get_input_size_by_index(desc, i)
                              for i in range(len(names))]
            io.output_sizes = [acl.mdl.get_output_size_by_index(desc, i)
                               for i in range(acl.mdl.get_num_outputs(desc))]
        finally:
            acl.mdl.destroy_desc(desc)
        io.in_ds = acl.mdl.create_dataset()
        for name, size in zip(names, io.input_sizes, strict=True):
            data = np.ascontiguousarray(inputs[name]) if name in inputs else None
            assert data is None or data.nbytes <= size, (
                f"input {name!r}: {data.nbytes} bytes of data, the model's input takes {size}")
            io._add(io.in_ds, size, data)
        io.out_ds = acl.mdl.create_dataset()
        for size in io.output_sizes:
            io._outputs.append(io._add(io.out_ds, size, None, CANARY))
        return io

    def _add(self, dataset: int, size: int, data: np.ndarray | None,
             tail: bytes = b"") -> int:
        ptr, ret = self.acl.rt.malloc(max(size, 1) + len(tail),
                                      MemMallocPolicy.ACL_MEM_MALLOC_HUGE_FIRST)
        check(ret, f"acl.rt.malloc({max(size, 1) + len(tail)})")
        self._device.append(ptr)
        if data is not None:
            copy_to_device(self.acl, ptr, size, data)
        if tail:
            copy_to_device(self.acl, ptr + size, len(tail), tail)
        buffer = self.acl.create_data_buffer(ptr, size)
        self._buffers.append(buffer)
        _, ret = self.acl.mdl.add_dataset_buffer(dataset, buffer)
        check(ret, "acl.mdl.add_dataset_buffer")
        return ptr

    def outputs(self, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The outputs, read in the shapes and types of ``like`` (the gear's reference), in
        output order — after checking nothing was written past an output buffer."""
        __tracebackhide__ = True
        results = {}
        for index, ((name, reference), ptr, size) in enumerate(zip(
                like.items(), self._outputs, self.output_sizes, strict=True)):
            assert copy_from_device(self.acl, ptr + size, len(CANARY)) == CANARY, (
                f"the execution wrote past the end of output {index} ({size} bytes)")
            assert reference.nbytes <= size, (
                f"output {name!r} at this gear has {reference.nbytes} bytes, "
                f"get_output_size_by_index says {size}")
            results[name] = np.frombuffer(copy_from_device(self.acl, ptr, reference.nbytes),
                                          reference.dtype).reshape(reference.shape)
        return results

    def gear_input(self) -> bytes:
        """What the gear input's buffer holds."""
        return copy_from_device(self.acl, self._device[self.gear_index],
                                self.input_sizes[self.gear_index])

    def release(self) -> None:
        for dataset in (self.in_ds, self.out_ds):
            if dataset:
                self.acl.mdl.destroy_dataset(dataset)
        for buffer in self._buffers:
            self.acl.destroy_data_buffer(buffer)
        for ptr in self._device:
            self.acl.rt.free(ptr)
        self.in_ds = self.out_ds = 0
        self._buffers, self._device, self._outputs = [], [], []
