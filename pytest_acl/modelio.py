"""Inputs and outputs of one model execution, through any backend's pyACL functions.

``ModelIO.prepare(acl, model_id, inputs)`` asks the model's description for its outputs,
copies the host arrays into fresh device buffers, builds the two datasets (with tensor descs
for inputs whose dimensions are known only at run time) and, after ``acl.mdl.execute``,
``outputs()`` reads the results back; ``release()`` frees everything it made. Written once
against the pyACL shape, so the suites run it unchanged on the simulator and on a card.

Each output buffer is followed, in the same allocation, by a canary the data buffer does not
include: ``outputs()`` fails when an execution wrote past an output's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from pytest_acl.buffers import check, copy_from_device, copy_to_device
from pytest_acl.constants import ACL_DTYPE_OF, NUMPY_DTYPE_OF, Format, MemMallocPolicy

CANARY = bytes([0x5A, 0xC3]) * 32  # after each output buffer, outside its data buffer


@dataclass
class ModelIO:
    acl: ModuleType
    in_ds: int = 0
    out_ds: int = 0
    outputs_meta: list[tuple[str, list[int], str]] = field(default_factory=list)
    _device: list[int] = field(default_factory=list)
    _buffers: list[int] = field(default_factory=list)
    _tensor_descs: list[int] = field(default_factory=list)
    _canaries: list[int] = field(default_factory=list)  # where each output's canary starts

    @classmethod
    def prepare(cls, acl: ModuleType, model_id: int, inputs: list[np.ndarray],
                output_bytes: list[int] | None = None) -> ModelIO:
        """Device buffers holding ``inputs`` and empty outputs sized from the model's desc
        (or ``output_bytes``, e.g. for a dynamic model whose outputs the desc cannot size)."""
        io = cls(acl)
        desc = acl.mdl.create_desc()
        try:
            check(acl.mdl.get_desc(desc, model_id), f"acl.mdl.get_desc(desc, {model_id})")
            for index in range(acl.mdl.get_num_outputs(desc)):
                dims, ret = acl.mdl.get_output_dims(desc, index)
                check(ret, f"acl.mdl.get_output_dims(desc, {index})")
                acl_type = acl.mdl.get_output_data_type(desc, index)
                io.outputs_meta.append((dims["name"], list(dims["dims"]),
                                        NUMPY_DTYPE_OF.get(acl_type, "uint8")))
            sizes = output_bytes or [acl.mdl.get_output_size_by_index(desc, i)
                                     for i in range(len(io.outputs_meta))]
            io.in_ds = acl.mdl.create_dataset()
            for index, array in enumerate(inputs):
                io._add(io.in_ds, _contiguous(array))
                dims, _ = acl.mdl.get_input_dims(desc, index)
                if any(d < 0 for d in dims.get("dims", [])):
                    io._describe(index, array)
            io.out_ds = acl.mdl.create_dataset()
            for size in sizes:
                io._add(io.out_ds, None, size)
        finally:
            acl.mdl.destroy_desc(desc)
        return io

    def _add(self, dataset: int, host: np.ndarray | None, size: int = 0) -> None:
        nbytes = host.nbytes if host is not None else size
        tail = len(CANARY) if host is None else 0
        ptr, ret = self.acl.rt.malloc(max(nbytes, 1) + tail,
                                      MemMallocPolicy.ACL_MEM_MALLOC_HUGE_FIRST)
        check(ret, f"acl.rt.malloc({max(nbytes, 1) + tail})")
        self._device.append(ptr)
        if host is not None:
            copy_to_device(self.acl, ptr, nbytes, host)
        else:
            copy_to_device(self.acl, ptr + nbytes, tail, CANARY)
            self._canaries.append(ptr + nbytes)
        buffer = self.acl.create_data_buffer(ptr, nbytes)
        self._buffers.append(buffer)
        _, ret = self.acl.mdl.add_dataset_buffer(dataset, buffer)
        check(ret, "acl.mdl.add_dataset_buffer")

    def _describe(self, index: int, array: np.ndarray) -> None:
        desc = self.acl.create_tensor_desc(ACL_DTYPE_OF[array.dtype.name], list(array.shape),
                                           Format.ACL_FORMAT_ND)
        self._tensor_descs.append(desc)
        _, ret = self.acl.mdl.set_dataset_tensor_desc(self.in_ds, desc, index)
        check(ret, f"acl.mdl.set_dataset_tensor_desc(input {index})")

    def output_shapes(self) -> list[list[int]]:
        """Static output dims, or the actual ones a dynamic model set on the output dataset."""
        shapes = []
        for index, (_, dims, _) in enumerate(self.outputs_meta):
            desc = self.acl.mdl.get_dataset_tensor_desc(self.out_ds, index)
            if desc and any(d < 0 for d in dims):
                dims = [self.acl.get_tensor_desc_dim_v2(desc, i)[0]
                        for i in range(self.acl.get_tensor_desc_num_dims(desc))]
            shapes.append(dims)
        return shapes

    def outputs(self) -> dict[str, np.ndarray]:
        """The output buffers read back to the host, by output name (after checking that
        nothing was written past their ends)."""
        __tracebackhide__ = True
        for index, canary in enumerate(self._canaries):
            assert copy_from_device(self.acl, canary, len(CANARY)) == CANARY, (
                f"the execution wrote past the end of output {index} (its data buffer ends at "
                f"{canary:#x})")
        results = {}
        for index, ((name, _, dtype), shape) in enumerate(zip(self.outputs_meta,
                                                               self.output_shapes(),
                                                               strict=True)):
            buffer = self.acl.mdl.get_dataset_buffer(self.out_ds, index)
            ptr = self.acl.get_data_buffer_addr(buffer)
            nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            results[name] = np.frombuffer(copy_from_device(self.acl, ptr, nbytes),
                                          dtype).reshape(shape)
        return results

    def release(self) -> None:
        for dataset in (self.in_ds, self.out_ds):
            if dataset:
                self.acl.mdl.destroy_dataset(dataset)
        for buffer in self._buffers:
            self.acl.destroy_data_buffer(buffer)
        for desc in self._tensor_descs:
            self.acl.destroy_tensor_desc(desc)
        for ptr in self._device:
            self.acl.rt.free(ptr)
        self.in_ds = self.out_ds = 0
        self._buffers, self._tensor_descs, self._device, self._canaries = [], [], [], []


def _contiguous(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array)
