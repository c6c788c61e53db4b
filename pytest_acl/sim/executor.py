"""Run a loaded model's graph on device memory, as the NPU would.

Every value lives where the device keeps it: weights are read from the model's weight
memory (never written: the arrays are read-only views), intermediates are written to and
read back from the work memory at the planner's offsets, inputs are read from and outputs
written to the user's device buffers. So user-managed memory, shared work buffers and
corruption have the consequences they have on a card: two executions overlapping in one
work buffer really clobber each other's intermediates.

A dynamic model has no plan: its intermediates are sized when it runs (runtime v2 allocates
them per execution), and the actual input shapes come from the input dataset's tensor
descriptors (reference/acl-api.md §1.4, ``set_dataset_tensor_desc``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_acl.constants import AclError
from pytest_acl.sim import ops
from pytest_acl.sim.pyargs import AclFail

E = AclError
ViewFn = Callable[[int, int], memoryview | None]


@dataclass(frozen=True)
class Buffer:
    """A user data buffer: device address and capacity."""

    ptr: int
    size: int


def _array(view: memoryview, dtype: str, shape: list[int], writable: bool) -> np.ndarray:
    array = np.frombuffer(view, dtype=np.dtype(dtype)).reshape(shape)
    if not writable:
        array.flags.writeable = False
    return array


def _nbytes(dtype: str, shape: list[int]) -> int:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


@contextlib.contextmanager
def _device_fault() -> Iterator[None]:
    """What an operator cannot compute is a failed execution (507011), not an exception."""
    try:
        yield
    except AclFail:
        raise
    except (ArithmeticError, IndexError, KeyError, MemoryError, TypeError, ValueError) as exc:
        raise AclFail(E.ACL_ERROR_RT_MODEL_EXECUTE,
                      f"an operator failed: {type(exc).__name__}: {exc}") from None


class Execution:
    """One run of ``graph`` with the given memory."""

    def __init__(self, graph: dict[str, Any], view: ViewFn, weight_ptr: int, work_ptr: int,
                 variables_ptr: int = 0) -> None:
        self._graph = graph
        self._view = view
        self._weight_ptr = weight_ptr
        self._work_ptr = work_ptr
        self._variables_ptr = variables_ptr
        self._values: dict[str, np.ndarray] = {}

    def _device(self, ptr: int, nbytes: int, what: str) -> memoryview:
        view = self._view(ptr, nbytes)
        if view is None:
            raise AclFail(E.ACL_ERROR_RT_MODEL_EXECUTE,
                          f"{what} at {ptr:#x}+{nbytes} is not live device memory")
        return view

    def _input(self, buffer: Buffer, nbytes: int, name: str) -> memoryview:
        """The input's bytes; a buffer a little short of them (GE accepts up to 64 bytes,
        launch.py) gives what it has, the rest reads as zeros."""
        if buffer.size >= nbytes:
            return self._device(buffer.ptr, nbytes, f"input {name!r}")
        have = self._device(buffer.ptr, buffer.size, f"input {name!r}")
        return memoryview(bytes(have) + bytes(nbytes - buffer.size))

    def _read(self, name: str) -> np.ndarray:
        if name in self._values:
            return self._values[name]
        graph = self._graph
        if name in graph["weights"]:
            w = graph["weights"][name]
            view = self._device(self._weight_ptr + w["offset"], w["nbytes"], f"weight {name!r}")
            return _array(view, w["dtype"], w["shape"], writable=False)
        if name in graph.get("variables", {}):
            v = graph["variables"][name]
            view = self._device(self._variables_ptr + v["offset"], v["nbytes"],
                                f"variable {name!r}")
            return _array(view, v["dtype"], v["shape"], writable=False)
        if name in graph["tensors"]:
            t = graph["tensors"][name]
            view = self._device(self._work_ptr + t["offset"], t["nbytes"],
                                f"intermediate {name!r}")
            return _array(view, t["dtype"], t["shape"], writable=False)
        raise AclFail(E.ACL_ERROR_RT_MODEL_EXECUTE, f"value {name!r} was never produced")

    def _store(self, name: str, value: np.ndarray) -> None:
        tensor = self._graph["tensors"].get(name)
        if tensor is None:  # a dynamic model's intermediate: sized now, kept by the runtime
            self._values[name] = value
            return
        if value.nbytes != tensor["nbytes"]:
            raise AclFail(E.ACL_ERROR_RT_MODEL_EXECUTE,
                          f"{name!r}: {value.nbytes} bytes produced, {tensor['nbytes']} planned")
        target = self._device(self._work_ptr + tensor["offset"], tensor["nbytes"],
                              f"intermediate {name!r}")
        target[:] = np.ascontiguousarray(value, dtype=tensor["dtype"]).tobytes()

    def run(self, inputs: list[Buffer], input_shapes: list[list[int]],
            outputs: list[Buffer]) -> list[list[int]]:
        """Execute; return the output shapes. Raises AclFail for a device-side fault: an
        operator that cannot compute what it is given (shapes that do not fit, values out
        of range) fails the execution with 507011, as an AI Core fault fails a model on a
        card — the same code whether the execution was synchronous or on a stream."""
        with _device_fault():
            return self._run(inputs, input_shapes, outputs)

    def _run(self, inputs: list[Buffer], input_shapes: list[list[int]],
             outputs: list[Buffer]) -> list[list[int]]:
        graph = self._graph
        for spec, buffer, shape in zip(graph["inputs"], inputs, input_shapes, strict=True):
            nbytes = _nbytes(spec["dtype"], shape)
            self._values[spec["name"]] = _array(
                self._input(buffer, nbytes, spec["name"]), spec["dtype"], shape,
                writable=False)
        output_specs = {spec["name"]: (index, spec) for index, spec in
                        enumerate(graph["outputs"])}
        shapes: list[list[int]] = [list(spec["shape"]) for spec in graph["outputs"]]
        for node in graph["nodes"]:
            time.sleep(0)  # let other threads run between operators, as a device interleaves
            arguments = [self._read(name) for name in node["inputs"]]
            results = ops.run(node["op"], arguments, node["attrs"])
            for name, value in zip(node["outputs"], results, strict=True):
                if name in output_specs:
                    index, spec = output_specs[name]
                    value = np.ascontiguousarray(value, dtype=spec["dtype"])
                    if value.nbytes > outputs[index].size:
                        raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                                      f"output {name!r} needs {value.nbytes} bytes, its buffer "
                                      f"has {outputs[index].size}")
                    target = self._device(outputs[index].ptr, value.nbytes, f"output {name!r}")
                    target[:] = value.tobytes()
                    shapes[index] = list(value.shape)
                    self._values[name] = value
                else:
                    self._store(name, value)
        return shapes

    def assigned_variables(self) -> list[tuple[str, np.ndarray]]:
        """(variable, value) for each assignment the graph makes after it runs (bundles)."""
        return [(variable, self._read(source))
                for variable, source in self._graph.get("assign", {}).items()]

    def write_variables(self) -> None:
        with _device_fault():
            self._write_variables()

    def _write_variables(self) -> None:
        for variable, value in self.assigned_variables():
            spec = self._graph["variables"][variable]
            target = self._device(self._variables_ptr + spec["offset"], spec["nbytes"],
                                  f"variable {variable!r}")
            target[:] = np.ascontiguousarray(value, dtype=spec["dtype"]).tobytes()
