"""``acl.mdl``: load, query, describe, execute and unload models (pyACL shapes, §4.2).

The rules live in models.py (loading, ids, memory) and executor.py (running); this module
parses pyACL arguments, reads the model bytes (a file, or host memory — on EP products the
``model`` pointer is host memory, reference/acl-api.md §5.11) and shapes the results.

Codes chosen here where the references are silent (UNCONFIRMED on hardware, marked in the
functions): a dataset whose buffers do not fit the model → 145000 (GE PARAM_INVALID);
a model pointer that is not mapped host memory → 100000; executing a model the simulator
cannot run (one built by ATC, without the simulator's graph) → 200001.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_acl.constants import AclError, Format
from pytest_acl.om.reader import LOAD_FILE, LOAD_MEM, QUERY, OmError, expected_sizes, read_model
from pytest_acl.sim import faults, hostmem
from pytest_acl.sim.acl_data import DataApi
from pytest_acl.sim.acl_tensor import TensorDesc, TensorDescApi, acl_data_type
from pytest_acl.sim.devmem import is_device_address
from pytest_acl.sim.executor import Buffer, Execution
from pytest_acl.sim.handles import Kind
from pytest_acl.sim.models import LoadedModel, ModelManager
from pytest_acl.sim.pyargs import AclFail, parse_args, pyacl
from pytest_acl.sim.runtime import Runtime
from pytest_acl.sim.sanitizer import thread_actor

E = AclError


def read_model_file(path: str) -> bytes:
    """The file's bytes; a path that does not resolve or an empty file → 145002 (§4 row 2)."""
    try:
        data = Path(path).read_bytes() if path else b""
    except OSError as exc:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID,
                      f"cannot read model file {path!r}: {exc.strerror}") from None
    if not data:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID, f"model file {path!r} is empty")
    return data


def host_model_bytes(ptr: int, size: int) -> memoryview:
    """The caller's model buffer (no copy): NULL or size 0 → 100000 (§3.1)."""
    if ptr == 0 or size == 0:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, "model pointer is NULL or model size is 0")
    if is_device_address(ptr) or not hostmem.is_mapped(ptr, size):
        raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                      f"model data {ptr:#x}+{size} is not mapped host memory (on EP products "
                      "the model buffer is host memory)")
    return hostmem.view(ptr, size)


def _io_entry(spec: dict[str, Any]) -> dict[str, Any]:
    return {"name": spec["name"], "dtype": spec["dtype"], "dims": list(spec["shape"])}


class ModelApi:
    """Model loading, queries, descriptions and execution, bound to one simulator."""

    HOME = "acl.mdl"

    def __init__(self, runtime: Runtime, models: ModelManager, data: DataApi,
                 tensors: TensorDescApi) -> None:
        self._rt = runtime
        self._models = models
        self._data = data
        self._tensors = tensors

    # -- loading -----------------------------------------------------------------------------
    @pyacl("acl.mdl.load_from_file", "s", outputs=1)
    def load_from_file(self, path: str) -> int:
        return self._models.load(read_model_file(path), LOAD_FILE).model_id

    @pyacl("acl.mdl.load_from_mem", "kk", outputs=1)
    def load_from_mem(self, model: int, size: int) -> int:
        return self._models.load(host_model_bytes(model, size), LOAD_MEM).model_id

    @pyacl("acl.mdl.load_from_file_with_mem", "skkkk", outputs=1)
    def load_from_file_with_mem(self, path: str, work_ptr: int, work_size: int,
                                weight_ptr: int, weight_size: int) -> int:
        return self._models.load(read_model_file(path), LOAD_FILE, work_ptr, work_size,
                                 weight_ptr, weight_size).model_id

    @pyacl("acl.mdl.load_from_mem_with_mem", "kkkkkk", outputs=1)
    def load_from_mem_with_mem(self, model: int, size: int, work_ptr: int, work_size: int,
                               weight_ptr: int, weight_size: int) -> int:
        return self._models.load(host_model_bytes(model, size), LOAD_MEM, work_ptr, work_size,
                                 weight_ptr, weight_size).model_id

    @pyacl("acl.mdl.unload", "I")
    def unload(self, model_id: int) -> None:
        self._models.unload(model_id)

    # -- size queries (§5.6, om-format.md §3.2) ----------------------------------------------
    def _query(self, data: bytes | memoryview) -> tuple[int, int]:
        try:
            model = read_model(data, QUERY)
        except OmError as error:
            raise AclFail(error.code, error.message) from None
        work, weight = expected_sizes(model)
        defects = self._rt.defects
        if "query_underreports_work" in defects and work:
            work -= 32
        if "dynamic_query_reports_work" in defects and model.is_dynamic:
            work = 4096
        return work, weight

    @pyacl("acl.mdl.query_size", "s", outputs=2)
    def query_size(self, path: str) -> tuple[int, int]:
        return self._query(read_model_file(path))

    @pyacl("acl.mdl.query_size_from_mem", "kk", outputs=2)
    def query_size_from_mem(self, model: int, size: int) -> tuple[int, int]:
        work, weight = self._query(host_model_bytes(model, size))
        if "query_from_mem_disagrees" in self._rt.defects:
            weight += 32
        return work, weight

    # -- descriptions ------------------------------------------------------------------------
    @pyacl("acl.mdl.create_desc", "", returns_ret=False)
    def create_desc(self) -> int:
        return self._rt.handles.new(Kind.MODEL_DESC, lambda _: {"inputs": [], "outputs": []})

    @pyacl("acl.mdl.destroy_desc", "k")
    def destroy_desc(self, desc: int) -> None:
        if self._rt.handles.remove(Kind.MODEL_DESC, desc) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{desc:#x} is not a model desc")

    def _desc(self, desc: int) -> dict[str, list[dict[str, Any]]] | None:
        return self._rt.handles.get(Kind.MODEL_DESC, desc)

    @pyacl("acl.mdl.get_desc", "kI")
    def get_desc(self, desc: int, model_id: int) -> None:
        """Clears the desc first; an unknown id → 145003 (§1.3)."""
        found = self._desc(desc)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{desc:#x} is not a model desc")
        found["inputs"], found["outputs"] = [], []
        model = self._models.get(model_id)
        found["inputs"] = [_io_entry(spec) for spec in model.inputs]
        found["outputs"] = [_io_entry(spec) for spec in model.outputs]

    def _entries(self, desc: int, side: str) -> list[dict[str, Any]]:
        found = self._desc(desc)
        return found[side] if found is not None else []

    def _entry(self, desc: int, side: str, index: int) -> dict[str, Any] | None:
        entries = self._entries(desc, side)
        return entries[index] if index < len(entries) else None

    @staticmethod
    def _size(entry: dict[str, Any] | None) -> int:
        """Bytes of a tensor; 0 for a dimension unknown until run time (or no tensor)."""
        if entry is None or any(d < 0 for d in entry["dims"]):
            return 0
        return TensorDesc(acl_data_type(entry["dtype"]), entry["dims"], 0).size

    def _dims(self, desc: int, side: str, index: int) -> tuple[dict[str, Any], int]:
        entry = self._entry(desc, side, index)
        if entry is None:
            return {}, E.ACL_ERROR_INVALID_PARAM.value
        return ({"name": entry["name"], "dimCount": len(entry["dims"]),
                 "dims": list(entry["dims"])}, E.ACL_SUCCESS.value)

    def _index_by_name(self, desc: int, side: str, name: str) -> tuple[int, int]:
        for index, entry in enumerate(self._entries(desc, side)):
            if entry["name"] == name:
                return index, E.ACL_SUCCESS.value
        return 0, E.ACL_ERROR_INVALID_PARAM.value

    @pyacl("acl.mdl.get_num_inputs", "k", returns_ret=False)
    def get_num_inputs(self, desc: int) -> int:
        return len(self._entries(desc, "inputs"))

    @pyacl("acl.mdl.get_num_outputs", "k", returns_ret=False)
    def get_num_outputs(self, desc: int) -> int:
        return len(self._entries(desc, "outputs"))

    @pyacl("acl.mdl.get_input_size_by_index", "kk", returns_ret=False)
    def get_input_size_by_index(self, desc: int, index: int) -> int:
        return self._size(self._entry(desc, "inputs", index))

    @pyacl("acl.mdl.get_output_size_by_index", "kk", returns_ret=False)
    def get_output_size_by_index(self, desc: int, index: int) -> int:
        size = self._size(self._entry(desc, "outputs", index))
        return size + 4 if size and "desc_wrong_output_size" in self._rt.defects else size

    def get_input_dims(self, *args: Any) -> tuple[dict[str, Any], int]:
        desc, index = parse_args("acl.mdl.get_input_dims", "kk", args, {})
        return self._dims(desc, "inputs", index)

    def get_input_dims_v2(self, *args: Any) -> tuple[dict[str, Any], int]:
        desc, index = parse_args("acl.mdl.get_input_dims_v2", "kk", args, {})
        return self._dims(desc, "inputs", index)

    def get_output_dims(self, *args: Any) -> tuple[dict[str, Any], int]:
        desc, index = parse_args("acl.mdl.get_output_dims", "kk", args, {})
        return self._dims(desc, "outputs", index)

    @pyacl("acl.mdl.get_input_data_type", "kk", returns_ret=False)
    def get_input_data_type(self, desc: int, index: int) -> int:
        entry = self._entry(desc, "inputs", index)
        return acl_data_type(entry["dtype"]) if entry else -1

    @pyacl("acl.mdl.get_output_data_type", "kk", returns_ret=False)
    def get_output_data_type(self, desc: int, index: int) -> int:
        entry = self._entry(desc, "outputs", index)
        return acl_data_type(entry["dtype"]) if entry else -1

    @pyacl("acl.mdl.get_input_format", "kk", returns_ret=False)
    def get_input_format(self, desc: int, index: int) -> int:
        """ND: an ONNX model's tensors carry no layout (the simulator's choice)."""
        return Format.ACL_FORMAT_ND if self._entry(desc, "inputs", index) else -1

    @pyacl("acl.mdl.get_output_format", "kk", returns_ret=False)
    def get_output_format(self, desc: int, index: int) -> int:
        return Format.ACL_FORMAT_ND if self._entry(desc, "outputs", index) else -1

    @pyacl("acl.mdl.get_input_name_by_index", "kk", returns_ret=False)
    def get_input_name_by_index(self, desc: int, index: int) -> str:
        entry = self._entry(desc, "inputs", index)
        return entry["name"] if entry else ""

    @pyacl("acl.mdl.get_output_name_by_index", "kk", returns_ret=False)
    def get_output_name_by_index(self, desc: int, index: int) -> str:
        entry = self._entry(desc, "outputs", index)
        return entry["name"] if entry else ""

    def get_input_index_by_name(self, *args: Any) -> tuple[int, int]:
        desc, name = parse_args("acl.mdl.get_input_index_by_name", "ks", args, {})
        return self._index_by_name(desc, "inputs", name)

    def get_output_index_by_name(self, *args: Any) -> tuple[int, int]:
        desc, name = parse_args("acl.mdl.get_output_index_by_name", "ks", args, {})
        return self._index_by_name(desc, "outputs", name)

    # -- execution ---------------------------------------------------------------------------
    def _buffers(self, dataset: int) -> list[tuple[int, Buffer]]:
        found = self._data._dataset(dataset)
        buffers = []
        for handle in found.buffers:
            buffer = self._data._buffer(handle)
            buffers.append((handle, Buffer(buffer.address, buffer.size)))
        return buffers

    def _input_shapes(self, model: LoadedModel, dataset: int) -> list[list[int]]:
        """Static shapes, or — for dimensions unknown until run time — the shape given by the
        input buffer's tensor desc (set_dataset_tensor_desc)."""
        descs = self._data._dataset(dataset).tensor_descs
        shapes = []
        for index, spec in enumerate(model.inputs):
            shape = list(spec["shape"])
            if any(d < 0 for d in shape):
                desc = self._tensors._get(descs.get(index, 0))
                if desc is None or len(desc.dims) != len(shape) or any(
                        d >= 0 and d != given for d, given in zip(shape, desc.dims, strict=True)):
                    raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                                  f"input {index} ({spec['name']}) has dimensions unknown "
                                  "until run time: set its tensor desc with "
                                  "set_dataset_tensor_desc")
                shape = list(desc.dims)
            shapes.append(shape)
        return shapes

    def _prepare(self, model: LoadedModel, in_ds: int, out_ds: int,
                 allocate_outputs: bool) -> tuple[list[Buffer], list[list[int]], list[Buffer]]:
        if model.graph is None:
            raise AclFail(E.ACL_ERROR_API_NOT_SUPPORT,
                          f"model {model.model_id} has no simulator graph (built by ATC?): "
                          "the simulator cannot execute it")
        inputs = [buffer for _, buffer in self._buffers(in_ds)]
        outputs = self._buffers(out_ds)
        if len(inputs) != len(model.inputs) or len(outputs) != len(model.outputs):
            raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                          f"model {model.model_id} takes {len(model.inputs)} inputs and "
                          f"{len(model.outputs)} outputs, the datasets hold {len(inputs)} and "
                          f"{len(outputs)}")
        shapes = self._input_shapes(model, in_ds)
        for index, (spec, buffer, shape) in enumerate(zip(model.inputs, inputs, shapes,
                                                          strict=True)):
            needed = TensorDesc(acl_data_type(spec["dtype"]), shape, 0).size
            if not is_device_address(buffer.ptr) or buffer.size < needed:
                raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                              f"input {index} ({spec['name']}) needs {needed} bytes of device "
                              f"memory, its buffer is {buffer.ptr:#x}+{buffer.size}")
        ready = []
        for index, (handle, buffer) in enumerate(outputs):
            if buffer.ptr == 0 and buffer.size == 0 and allocate_outputs:
                buffer = self._allocate_output(model, index, handle)
            if not is_device_address(buffer.ptr):
                raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                              f"output {index} buffer {buffer.ptr:#x} is not device memory")
            ready.append(buffer)
        return inputs, shapes, ready

    def _allocate_output(self, model: LoadedModel, index: int, handle: int) -> Buffer:
        """Sync execute with a (NULL, 0) output buffer: ACL allocates it and the user frees
        it (§5.10). A dynamic output is sized by its static dims only (UNCONFIRMED)."""
        spec = model.outputs[index]
        size = TensorDesc(acl_data_type(spec["dtype"]), spec["shape"], 0).size
        ptr = self._rt.malloc(max(size, 1))
        found = self._data._buffer(handle)
        found.address, found.size = ptr, size
        return Buffer(ptr, size)

    def _run(self, model: LoadedModel, inputs: list[Buffer], shapes: list[list[int]],
             outputs: list[Buffer], out_ds: int) -> None:
        graph = model.graph
        assert graph is not None  # _prepare refused a model without a graph
        execution = Execution(graph, self._view, model.weight.ptr, model.work.ptr,
                              model.variables.ptr)
        output_shapes = execution.run(inputs, shapes, outputs)
        if graph.get("assign"):
            execution.write_variables()
        self._inject_execution_defects(model, outputs)
        if model.dynamic:
            found = self._data._dataset(out_ds)
            for index, (spec, shape) in enumerate(zip(model.outputs, output_shapes,
                                                      strict=True)):
                old = found.tensor_descs.get(index)
                if old:
                    self._rt.handles.remove(Kind.TENSOR_DESC, old)
                found.tensor_descs[index] = self._tensors._new(
                    TensorDesc(acl_data_type(spec["dtype"]), shape, Format.ACL_FORMAT_ND))

    def _inject_execution_defects(self, model: LoadedModel, outputs: list[Buffer]) -> None:
        defects = self._rt.defects
        if "execute_writes_weight_memory" in defects and model.weight.size:
            view = self._live_view(model.weight.ptr, 1, "weight memory")
            view[0] = (view[0] + 1) & 0xFF
        if "outputs_perturbed" in defects:
            import numpy as np

            for buffer, spec in zip(outputs, model.outputs, strict=True):
                view = self._live_view(buffer.ptr, buffer.size, "output buffer")
                values = np.frombuffer(view, np.dtype(spec["dtype"]),
                                       count=buffer.size // np.dtype(spec["dtype"]).itemsize)
                values += np.asarray(1e-3, values.dtype)

    def _view(self, ptr: int, nbytes: int) -> memoryview | None:
        heap = self._rt.heap_of(ptr)
        return heap.view(ptr, nbytes) if heap is not None else None

    def _live_view(self, ptr: int, nbytes: int, what: str) -> memoryview:
        """As :meth:`_view`, but memory that is not live is an execution fault (as in
        :class:`Execution`)."""
        view = self._view(ptr, nbytes)
        if view is None:
            raise AclFail(E.ACL_ERROR_RT_MODEL_EXECUTE,
                          f"{what} at {ptr:#x}+{nbytes} is not live device memory")
        return view

    @pyacl("acl.mdl.execute", "Ikk")
    def execute(self, model_id: int, in_ds: int, out_ds: int) -> None:
        model = self._models.in_current_context(model_id, "execute")
        inputs, shapes, outputs = self._prepare(model, in_ds, out_ds, allocate_outputs=True)
        token = self._rt.sanitizer.begin(model_id, model.work.ptr, model.work.size,
                                         thread_actor())
        try:
            self._run(model, inputs, shapes, outputs, out_ds)
        finally:
            self._rt.sanitizer.end(token)

    @pyacl("acl.mdl.execute_async", "Ikkk")
    def execute_async(self, model_id: int, in_ds: int, out_ds: int, stream: int) -> None:
        """Checked now, run in stream order; a fault surfaces at synchronize_stream. For the
        sanitizer the execution uses its work memory from now until it has run."""
        model = self._models.in_current_context(model_id, "execute_async")
        target = self._rt.stream_in_current_context(stream)
        inputs, shapes, outputs = self._prepare(model, in_ds, out_ds, allocate_outputs=False)
        actor = (f"stream {stream:#x}" if stream else
                 f"default stream of context {target.context_handle:#x}")
        token = self._rt.sanitizer.begin(model_id, model.work.ptr, model.work.size, actor)
        hangs = "shared_work_async_hangs" in self._rt.defects and self._models.shares_work(model)

        def run() -> None:
            if hangs:
                faults.hang()  # the stream's worker never gets past this task
            try:
                self._run(model, inputs, shapes, outputs, out_ds)
            finally:
                self._rt.sanitizer.end(token)

        if "async_out_of_stream_order" in self._rt.defects:
            run()
        else:
            target.submit(run)
