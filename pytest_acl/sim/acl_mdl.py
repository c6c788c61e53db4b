"""``acl.mdl``: load, query, describe, execute and unload models (pyACL shapes, §4.2).

The rules live in models.py (loading, ids, memory) and executor.py (running); this module
parses pyACL arguments, gets the model bytes (entry.py: a file or host memory, through the
router in releases that have one) and shapes the results.

Execution's checks and their order are launch.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_acl.constants import AclError, Format
from pytest_acl.om.reader import LOAD_FILE, LOAD_MEM, QUERY, OmError, expected_sizes, read_model
from pytest_acl.sim import dynamic
from pytest_acl.sim.acl_data import DataApi
from pytest_acl.sim.acl_tensor import TensorDesc, TensorDescApi, acl_data_type
from pytest_acl.sim.entry import model_buffer, model_file
from pytest_acl.sim.handles import Kind
from pytest_acl.sim.launch import Launcher
from pytest_acl.sim.models import ModelManager, executable_graph_of
from pytest_acl.sim.pyargs import AclFail, parse_args, parses_own, pyacl
from pytest_acl.sim.runtime import Runtime

E = AclError


def _io_entry(spec: dict[str, Any]) -> dict[str, Any]:
    """A desc's tensor: name, dtype, dims — and, when the model states them, the shape range
    (``[[min, max], ...]``) and the stored size GE keeps for a dimension unknown until run
    time (models the simulator compiles state neither)."""
    return {"name": spec["name"], "dtype": spec["dtype"], "dims": list(spec["shape"]),
            "shape_range": spec.get("shape_range", []), "size": spec.get("size", 0)}


class ModelApi:
    """Model loading, queries, descriptions and execution, bound to one simulator."""

    HOME = "acl.mdl"

    def __init__(self, runtime: Runtime, models: ModelManager, data: DataApi,
                 tensors: TensorDescApi) -> None:
        self._rt = runtime
        self._models = models
        self._data = data
        self._tensors = tensors
        self._launcher = Launcher(runtime, models, data, tensors)

    # -- loading -----------------------------------------------------------------------------
    def _file(self, path: str) -> bytes:
        return model_file(path, self._rt.release, self._models.file_limit)

    def _buffer(self, ptr: int, size: int, query: bool = False) -> memoryview:
        return model_buffer(ptr, size, self._rt.release, query=query)

    @pyacl("acl.mdl.load_from_file", "s", outputs=1)
    def load_from_file(self, path: str) -> int:
        return self._models.load(self._file(path), LOAD_FILE).model_id

    @pyacl("acl.mdl.load_from_mem", "kk", outputs=1)
    def load_from_mem(self, model: int, size: int) -> int:
        return self._models.load(self._buffer(model, size), LOAD_MEM).model_id

    @pyacl("acl.mdl.load_from_file_with_mem", "skkkk", outputs=1)
    def load_from_file_with_mem(self, path: str, work_ptr: int, work_size: int,
                                weight_ptr: int, weight_size: int) -> int:
        return self._models.load(self._file(path), LOAD_FILE, work_ptr, work_size,
                                 weight_ptr, weight_size).model_id

    @pyacl("acl.mdl.load_from_mem_with_mem", "kkkkkk", outputs=1)
    def load_from_mem_with_mem(self, model: int, size: int, work_ptr: int, work_size: int,
                               weight_ptr: int, weight_size: int) -> int:
        return self._models.load(self._buffer(model, size), LOAD_MEM, work_ptr, work_size,
                                 weight_ptr, weight_size).model_id

    @pyacl("acl.mdl.unload", "I")
    def unload(self, model_id: int) -> None:
        self._models.unload(model_id)

    # -- size queries (§5.6, om-format.md §3.2) ----------------------------------------------
    def _query(self, data: bytes | memoryview, from_memory: bool = False) -> tuple[int, int]:
        try:
            model = read_model(data, QUERY)
        except OmError as error:
            raise AclFail(error.code, error.message) from None
        work, weight = expected_sizes(model)
        return self._rt.faults.query_sizes(work, weight, model.is_dynamic, from_memory)

    @pyacl("acl.mdl.query_size", "s", outputs=2)
    def query_size(self, path: str) -> tuple[int, int]:
        return self._query(self._file(path))

    @pyacl("acl.mdl.query_size_from_mem", "kk", outputs=2)
    def query_size_from_mem(self, model: int, size: int) -> tuple[int, int]:
        return self._query(self._buffer(model, size, query=True), from_memory=True)

    # -- descriptions ------------------------------------------------------------------------
    @pyacl("acl.mdl.create_desc", "", returns_ret=False, parses_args=False)
    def create_desc(self) -> int:
        return self._rt.handles.new(Kind.MODEL_DESC, lambda _: {"inputs": [], "outputs": []})

    @pyacl("acl.mdl.destroy_desc", "k")
    def destroy_desc(self, desc: int) -> None:
        if self._rt.handles.remove(Kind.MODEL_DESC, desc) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{desc:#x} is not a model desc")

    def _desc(self, desc: int) -> dict[str, Any] | None:
        return self._rt.handles.get(Kind.MODEL_DESC, desc)

    @pyacl("acl.mdl.get_desc", "kI")
    def get_desc(self, desc: int, model_id: int) -> None:
        """Clears the desc first; an unknown id → 145003 (§1.3)."""
        found = self._desc(desc)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{desc:#x} is not a model desc")
        if self._rt.faults.clears_desc_first():
            found["inputs"], found["outputs"] = [], []
            found.pop("dynamic", None)
        model = self._models.describable(model_id)
        found["inputs"] = [_io_entry(spec) for spec in model.inputs]
        found["outputs"] = [_io_entry(spec) for spec in model.outputs]
        found["dynamic"] = dynamic.desc_fields(model.graph, model_id)  # the gears (dynamic.py)

    def _describe_bytes(self, desc: int, read: Callable[[], bytes | memoryview],
                        options: Any) -> None:
        """Fill ``desc`` (cleared first, as get_desc does) from a model that is not loaded:
        read and checked as a load reads it (om/reader.py, graphcheck.py), no memory taken,
        no id used."""
        found = self._desc(desc)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{desc:#x} is not a model desc")
        found["inputs"], found["outputs"] = [], []
        found.pop("dynamic", None)
        try:
            om = read_model(read(), options)
        except OmError as error:
            raise AclFail(error.code, error.message) from None
        work, _ = expected_sizes(om)
        graph = executable_graph_of(om, work, om.is_dynamic) or {}
        found["inputs"] = [_io_entry(spec) for spec in graph.get("inputs", [])]
        found["outputs"] = [_io_entry(spec) for spec in graph.get("outputs", [])]
        found["dynamic"] = dynamic.desc_fields_of_file(om)  # from MODEL_INOUT_INFO

    @pyacl("acl.mdl.get_desc_from_file", "ks")
    def get_desc_from_file(self, desc: int, path: str) -> None:
        """aclmdlGetDescFromFile: the desc of a model file without loading it (PYACL
        ``WrapAclMdlGetDescFromFile``, format "ks")."""
        self._describe_bytes(desc, lambda: self._file(path), LOAD_FILE)

    @pyacl("acl.mdl.get_desc_from_mem", "kkk")
    def get_desc_from_mem(self, desc: int, model: int, size: int) -> None:
        """aclmdlGetDescFromMem: the same from model bytes in host memory ("kkk")."""
        self._describe_bytes(desc, lambda: self._buffer(model, size), LOAD_MEM)

    @pyacl("acl.mdl.get_tensor_real_name", "ks", returns_ret=False)
    def get_tensor_real_name(self, desc: int, name: str) -> str | None:
        """aclmdlGetTensorRealName: the model's own name for an input or output, or None
        (pyACL builds "s" from a NULL). The simulator's models name their tensors as the
        ONNX graph does, with no second naming to map (UNCONFIRMED for ATC's top-name
        mapping): a name the desc has is its real name."""
        found = self._desc(desc)
        if found is None:
            return None
        names = {entry["name"] for side in ("inputs", "outputs") for entry in found[side]}
        return name if name in names else None

    def _entries(self, desc: int, side: str) -> list[dict[str, Any]]:
        found = self._desc(desc)
        return found[side] if found is not None else []

    def _entry(self, desc: int, side: str, index: int) -> dict[str, Any] | None:
        entries = self._entries(desc, side)
        return entries[index] if index < len(entries) else None

    @staticmethod
    def _size(entry: dict[str, Any] | None) -> int:
        """Bytes of a tensor (0 for no tensor). A dimension unknown until run time: the
        maximum of the shape range, else the size the model stores (cann-behaviour.md §5
        'size of an input with a −1 dimension'; model_om2.cpp aclmdlGetTensorSize)."""
        if entry is None:
            return 0
        dtype = acl_data_type(entry["dtype"])
        if all(d >= 0 for d in entry["dims"]):
            return TensorDesc(dtype, entry["dims"], 0).size
        ranges = entry.get("shape_range") or []
        if not ranges:
            return int(entry.get("size", 0))
        if any(high <= 0 for _, high in ranges):
            return 0
        return TensorDesc(dtype, [high for _, high in ranges], 0).size

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
        return self._rt.faults.output_size(size)

    @parses_own("acl.mdl.get_input_dims", "kk", outputs=1)
    def get_input_dims(self, *args: Any) -> tuple[dict[str, Any], int]:
        desc, index = parse_args("acl.mdl.get_input_dims", "kk", args, {})
        return self._dims(desc, "inputs", index)

    @parses_own("acl.mdl.get_input_dims_v2", "kk", outputs=1)
    def get_input_dims_v2(self, *args: Any) -> tuple[dict[str, Any], int]:
        desc, index = parse_args("acl.mdl.get_input_dims_v2", "kk", args, {})
        return self._dims(desc, "inputs", index)

    @parses_own("acl.mdl.get_output_dims", "kk", outputs=1)
    def get_output_dims(self, *args: Any) -> tuple[dict[str, Any], int]:
        desc, index = parse_args("acl.mdl.get_output_dims", "kk", args, {})
        return self._dims(desc, "outputs", index)

    @parses_own("acl.mdl.get_cur_output_dims", "kk", outputs=1)
    def get_cur_output_dims(self, *args: Any) -> tuple[dict[str, Any], int]:
        """Format "kk", ``({"name", "dimCount", "dims"}, ret)`` (cann-behaviour.md §9,
        ``WrapAclMdlGetCurOutputDims``): the desc's output dims (a desc is filled from the
        loaded model, so these are its static dims) — for a model with gears, those of the
        gear the last set_dynamic_* call set (dynamic.py)."""
        desc, index = parse_args("acl.mdl.get_cur_output_dims", "kk", args, {})
        found = self._desc(desc)
        if found is not None and dynamic.has_gears(found.get("dynamic")):
            return dynamic.cur_output_dims(self._models, found, index)
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

    @parses_own("acl.mdl.get_input_index_by_name", "ks", outputs=1)
    def get_input_index_by_name(self, *args: Any) -> tuple[int, int]:
        desc, name = parse_args("acl.mdl.get_input_index_by_name", "ks", args, {})
        return self._index_by_name(desc, "inputs", name)

    @parses_own("acl.mdl.get_output_index_by_name", "ks", outputs=1)
    def get_output_index_by_name(self, *args: Any) -> tuple[int, int]:
        desc, name = parse_args("acl.mdl.get_output_index_by_name", "ks", args, {})
        return self._index_by_name(desc, "outputs", name)

    # -- execution (launch.py) ---------------------------------------------------------------
    @pyacl("acl.mdl.execute", "Ikk")
    def execute(self, model_id: int, in_ds: int, out_ds: int) -> None:
        self._launcher.execute(model_id, in_ds, out_ds)

    # -- execution with a config (GE-DOC aclmdlExecuteV2.md, aclmdlExecConfigAttr.md) -------
    @pyacl("acl.mdl.create_exec_config_handle", "", returns_ret=False, parses_args=False)
    def create_exec_config_handle(self) -> int:
        return self._rt.handles.new(Kind.EXEC_CONFIG_HANDLE, lambda _: {})

    @pyacl("acl.mdl.destroy_exec_config_handle", "k")
    def destroy_exec_config_handle(self, handle: int) -> None:
        if self._rt.handles.remove(Kind.EXEC_CONFIG_HANDLE, handle) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not an exec config handle")

    @pyacl("acl.mdl.set_exec_config_opt", "kkI")
    def set_exec_config_opt(self, handle: int, attr: int, value: int) -> None:
        """pyACL passes every value as a 4-byte uint32 (``WrapAclMdlSetExecConfigOpt``):
        the two timeouts (int32: -1 waits forever, > 0 milliseconds) are settable; the work
        address and size want 8 bytes, so through pyACL they are refused (100000,
        UNCONFIRMED: the size check of aclmdlSetConfigOpt's checker, cann-behaviour.md §7);
        attributes 4-7 are reserved and accepted; others → 100000."""
        found = self._rt.handles.get(Kind.EXEC_CONFIG_HANDLE, handle)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not an exec config handle")
        timeout = value - (1 << 32) if value >= 1 << 31 else value
        if attr in (0, 1):
            if timeout != -1 and timeout <= 0:
                raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                              f"timeout {timeout}: -1 (wait forever) or > 0 milliseconds")
            found[attr] = timeout
        elif attr in (2, 3):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"attribute {attr} takes 8 bytes; pyACL passes 4")
        elif attr not in range(4, 8):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"exec config attribute {attr} is unknown")

    @pyacl("acl.mdl.execute_v2", "Ikkkk")
    def execute_v2(self, model_id: int, in_ds: int, out_ds: int, stream: int,
                   handle: int) -> None:
        """aclmdlExecuteV2: aclmdlExecute with a config, synchronous ("until the result is
        returned"); a NULL handle means no config. The simulator runs at once, so the
        timeouts never expire."""
        if handle and self._rt.handles.get(Kind.EXEC_CONFIG_HANDLE, handle) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not an exec config handle")
        if stream:
            self._rt.stream_in_current_context(stream)
        self._launcher.execute(model_id, in_ds, out_ds)

    @pyacl("acl.mdl.execute_async", "Ikkk")
    def execute_async(self, model_id: int, in_ds: int, out_ds: int, stream: int) -> None:
        self._launcher.execute_async(model_id, in_ds, out_ds, stream)
