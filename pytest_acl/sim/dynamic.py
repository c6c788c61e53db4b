"""Models with gears — dynamic batch, image size (HW) and dims — and their pyACL functions.

Reference note: what a model ATC builds with ``--dynamic_batch_size``, ``--dynamic_image_size``
or ``--dynamic_dims`` looks like, and how ACL answers. Sources: hicann/ge at ffdcbc9f
(``GE``; the same code in tags v8.5.0, v9.0.0 and v9.1.0, so no release differs here),
hicann/runtime python/pyACL at 134e2edb (``PYACL``, mdl/mdl_wrap.cpp), the vendor pages
named. UNCONFIRMED marks the simulator's choices where no source says.

The model
  - ATC compiles one static subgraph per gear behind a Case node selected through MapIndex
    (GE docs/en/design/features/dynamic_gear.md §1.3, §3.3); gears are 2..100 values (ATC
    option pages docs/zh/user_guides/atc_tools/CLI_options/--dynamic_batch_size.md and
    --dynamic_image_size.md; compiler/graph/preprocess/multi_batch_options.cc:613
    CheckDynamicParams: at least 2, no negatives, no duplicates). It is a static model:
    QuerySize reports its work memory, and the gears share it (compiler/graph/build/memory/
    dynamic_batch_mem_assigner.cc merges the smaller gears' blocks into the largest's), so
    the simulator's work size is the largest gear's.
  - An extra input ``ascend_mbatch_shape_data`` (ACL_DYNAMIC_TENSOR_NAME, GE
    inc/external/acl/acl_mdl.h:39): int32, one element per gear value, placed after the
    user's inputs (compiler/graph/passes/multi_batch/multi_batch_clone_pass.cc:470
    CreateIndexDataNode); "会新增一个输入" (the --dynamic_batch_size page). Its size is 4
    bytes per value (no padding: UNCONFIRMED, as the simulator sizes every input exactly).
  - Each input is sized for its largest gear (multi_batch_clone_pass.cc:1169-1191;
    GE docs/zh/api/graph_engine_api/c/acl/aclmdlGetInputSizeByIndex.md: "针对动态Batch、动态
    分辨率（宽高）的场景，返回最大档位对应的输入的大小") and described with its original dims,
    ``-1`` where a gear sets them (runtime/v1/graph/load/model_manager/davinci_model.cc:4328
    CreateInputDimsInfo, ATTR_MBATCH_ORIGIN_INPUT_DIMS; aclmdlGetInputDims.md: [-1,3,224,224]
    for batch gears, [1,3,-1,-1] for image sizes). Outputs: the size of the largest gear
    (aclmdlGetOutputSizeByIndex.md, the same words) and their dims those of the largest gear
    (aclmdlGetCurOutputDims.md: without a set_dynamic_* call "可获取最大档的维度信息", and
    model.cpp aclmdlGetCurOutputDimsImpl then answers the desc's own output dims). The
    gears are in the Case op's attributes (batch num, ``_pred_value_<i>``, dynamic type,
    data-name order: davinci_model.cc:7589 SetDynamicBatchInfo) and in MODEL_INOUT_INFO
    (om/inout.py).
The desc (aclmdlDesc dynamicBatch / dynamicHW / dynamicDims / dataNameOrder)
  - aclmdlGetDesc takes them from the loaded model; GetDescFromFile/Mem from
    MODEL_INOUT_INFO (api/acl/acl_model/model/model.cpp:90 GetDynamicTensorInfo, :1065
    GetDescFromMem). A batch gear goes to dynamicBatch, an H,W pair to dynamicHW, a dims
    model's gears to dynamicDims (model_common.cpp:34 ParseBatchInfoInline).
The functions (PYACL format → return; C checks in their order; codes)
  - ``get_dynamic_batch(desc)`` "k" → ``({"batchCount", "batch"}, ret)``, ``({}, ret)`` on
    failure (mdl_wrap.cpp WrapAclMdlGetDynamicBatch). NULL desc 100000; more than 128
    gears 300000 (model_om2.cpp:1786). A model without batch gears: count 0, success
    ("batchCount等于0时，表示不支持设置档位信息", python docs function-get_dynamic_batch.md).
  - ``get_dynamic_hw(desc, index)`` "kk" → ``({"hwCount", "hw": [[h, w], ...]}, ret)``; index
    unused (model_om2.cpp:1817), documented as -1.
  - ``set_dynamic_batch_size(model_id, dataset, index, batch)`` "IkkK" → ret
    (model.cpp:1839, runtime/v1/executor/ge_executor.cc:375): NULL dataset, batch 0, no
    buffer at index, a buffer with a NULL address → 100000; the dataset records the batch;
    a buffer under 4 bytes → 145012; an unknown model id → 145003 (model_manager.cc:1370;
    a runtime-v2 model too: it is not in GE's v1 model manager, UNCONFIRMED); a batch that
    is not a gear, or a model without batch gears → 145013 (ge_executor.cc:138); then the
    batch is written to the buffer (8 bytes from an 8-byte buffer on, else 4). The docs:
    the batch "只能是模型编译时设置的BatchSize档位中的某一档" (GE docs/zh/api/graph_engine_api/
    c/acl/aclmdlSetDynamicBatchSize.md).
  - ``set_dynamic_hw_size(model_id, dataset, index, height, width)`` "IkkKK" → ret: the same
    with a zero H or W → 100000, a buffer under 8 bytes → 145012, a pair that is not a gear
    → 145013 (ge_executor.cc:162, :434); H and W written 8 bytes each from 16 bytes on.
  - ``set_input_dynamic_dims(model_id, dataset, index, dims)`` "IkkO", ``dims`` a dict
    ``{"dimCount", "name", "dims"}`` (WrapAclMdlSetInputDynamicDims: not a dict → TypeError
    "argument 4 is not dict"; "dims" not a list → "The dims of parameter 4 is not a list.";
    an item not an int → "the dims of fourth parameter is not list of int"); NULL dataset,
    dimCount 0, no buffer, NULL address → 100000 (model.cpp:1920); the dataset's gear is
    cleared; the dims are all the inputs' dims in data-name order: a count or a fixed dim
    that differs → 145012, an unknown id → 145003 (ge_executor.cc:585); no gear with those
    values (or a model without gears) → 145013 (:190); a buffer under 4 bytes per value →
    145012; the dataset records the gear. A model built with batch or image-size gears
    takes it too: its gears are matched the same way (:190 compares values only).
  - ``get_input_dims_range(desc, index)`` "kk" → ``({"rangeCount", "range": [[lo, hi]]},
    ret)``, the dict even on failure (WrapAclMdlGetInputDimsRange): a model with gears →
    rangeCount 0, success, whatever the index (model_om2.cpp:471 GetDimsRange; the doc
    aclmdlGetInputDimsRange.md: "动态Shape且配置分档的场景下，不支持使用本接口，rangeCount
    返回0"); an index past the inputs → 100000; without shape ranges every dim is its own
    range (the doc: "静态Shape场景下 ... 各维度上下限相同").
  - ``get_input_dynamic_gear_count(desc, index)`` "kk" → ``(count, ret)`` and
    ``get_input_dynamic_dims(desc, index, gear_count)`` "kkk" → ``([{"name", "dimCount",
    "dims"}] * gear_count, ret)``: index must be -1 (100000); gear_count over 4096 →
    ``(None, 100000)`` in pyACL; fewer than the model's gears → 100000 (model_om2.cpp:1846,
    :1876). On failure pyACL returns its list of gear_count unset items; the simulator gives
    that many None (UNCONFIRMED).
  - ``get_cur_output_dims(desc, index)`` "kk" → ``({"name", "dimCount", "dims"}, ret)``: the
    output dims of the gear the last successful set_dynamic_* call set on the model (GE keeps
    it in the model: davinci_model.cc SetDynamicSize, GetCurrentShape), else the desc's
    (model.cpp aclmdlGetCurOutputDimsImpl; aclmdlGetCurOutputDims.md 约束说明); an index past
    the outputs → 100000, a gear the desc does not list (dims set on a batch model) → 500001
    (model_common.cpp GetCurGearIndex).
Execution
  - The gear recorded on the input dataset chooses the subgraph (ge_executor.cc:1169
    ExecModel → SetDynamicInputDataFlag); with a gear set GE does not check the input
    buffers against the largest gear (davinci_model.cc:6562 CheckUserAndModelSize). Without
    one the model runs at its largest gear (both ATC option pages, 接口约束: "默认按照
    batch_size设置范围的最大值"). A recorded value that is no gear (a refused set_* leaves
    it on the dataset, as ACL records it first): the execution fails with 507011
    (UNCONFIRMED: on a card MapIndex finds no branch). Only one of set_dataset_tensor_desc /
    set_dynamic_batch_size / set_dynamic_hw_size / set_input_dynamic_dims per model
    ("使用约束", the pyACL concepts page); a model with gears ignores tensor descs here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pytest_acl.constants import AclError
from pytest_acl.om.inout import BATCH, DIMS, IMAGE_SIZE, InOutInfo
from pytest_acl.om.partitions import PartitionType
from pytest_acl.sim.acl_data import DataApi, Dataset
from pytest_acl.sim.handles import Kind
from pytest_acl.sim.models import ModelManager
from pytest_acl.sim.pyargs import AclFail, pyacl, raised_by_pyacl
from pytest_acl.sim.runtime import Runtime

E = AclError
ACL_MAX_BATCH_NUM = ACL_MAX_HW_NUM = ACL_MAX_DIM_CNT = 128  # acl_mdl.h:25-28
GEAR_COUNT_LIMIT = 4096  # WrapAclMdlGetInputDynamicDims
INDEX_UNUSED = 2**64 - 1  # -1 through pyACL's "k"
_INT64 = range(-(2**63), 2**63)


# -- what a desc holds ---------------------------------------------------------------------
def _no_fields(model_id: int = 0) -> dict[str, Any]:
    return {"batch": [], "hw": [], "dims": [], "order": [], "outputs": [],
            "model_id": model_id}


def desc_fields(graph: dict[str, Any] | None, model_id: int = 0) -> dict[str, Any]:
    """aclmdlDesc's dynamicBatch, dynamicHW, dynamicDims, dataNameOrder and dynamicOutputShape
    (as ``outputs[gear][output]``) of a model with this graph, and its id (what aclmdlGetDesc
    reads from the loaded model)."""
    gears = (graph or {}).get("gears")
    fields = _no_fields(model_id)
    if gears is None:
        return fields
    rows = [list(gear["values"]) for gear in gears["list"]]
    key = {BATCH: "batch", IMAGE_SIZE: "hw", DIMS: "dims"}[gears["kind"]]
    fields[key] = [row[0] for row in rows] if key == "batch" else rows
    fields["order"] = list(gears["order"])
    fields["outputs"] = [[list(shape) for shape in gear["outputs"]] for gear in gears["list"]]
    return fields


def desc_fields_of_file(om: Any) -> dict[str, Any]:
    """The same from the MODEL_INOUT_INFO partition (what GetDescFromFile/Mem read; no model
    id); a partition that does not decode gives none (UNCONFIRMED: GE's parser fails the
    call)."""
    partition = om.groups[0].find(PartitionType.MODEL_INOUT_INFO)
    fields = _no_fields()
    if partition is None:
        return fields
    try:
        info = InOutInfo.decode(partition.contiguous())
    except ValueError:
        return fields
    outputs: dict[int, dict[int, list[int]]] = {}
    for text in info.dynamic_output_shape:  # "gear,output,d0,d1,..." (inout.py)
        try:
            gear, output, *dims = (int(part) for part in text.split(","))
        except ValueError:
            continue
        outputs.setdefault(gear, {})[output] = dims
    return fields | {"batch": list(info.dynamic_batch), "hw": info.dynamic_hw,
                     "dims": info.dynamic_dims, "order": list(info.data_name_order),
                     "outputs": [[by_output[o] for o in sorted(by_output)]
                                 for _, by_output in sorted(outputs.items())]}


def has_gears(fields: dict[str, Any] | None) -> bool:
    return fields is not None and any(fields.get(key) for key in ("batch", "hw", "dims"))


def cur_output_dims(models: ModelManager, found: dict[str, Any], index: int
                    ) -> tuple[dict[str, Any], int]:
    """aclmdlGetCurOutputDims of a model with gears (model.cpp aclmdlGetCurOutputDimsImpl;
    GE docs/zh/api/graph_engine_api/c/acl/aclmdlGetCurOutputDims.md: after a set_dynamic_*
    call the output dims of that gear, without one those of the largest gear — the desc's):
    an index past the outputs → 100000, an unknown model → 145003, a gear the desc does not
    know → 500001 (GetCurGearIndex), in pyACL's ``(dict, ret)`` shape."""
    fields, outputs = found["dynamic"], found["outputs"]
    if index >= len(outputs):
        return {}, E.ACL_ERROR_INVALID_PARAM.value
    try:
        model = models.get(fields["model_id"])
    except AclFail as fail:
        return {}, fail.code
    entry = outputs[index]
    dims = list(entry["dims"])
    if model.gear is not None:
        kind, values = model.gear
        if kind == DIMS:
            table = [tuple(row) for row in fields["dims"]]
        elif len(values) == 1:
            table = [(batch,) for batch in fields["batch"]]
        else:
            table = [tuple(row) for row in fields["hw"]]
        if values not in table or table.index(values) >= len(fields["outputs"]):
            return {}, E.ACL_ERROR_FAILURE.value
        dims = list(fields["outputs"][table.index(values)][index])
    return {"name": entry["name"], "dimCount": len(dims), "dims": dims}, E.ACL_SUCCESS.value


# -- execution at a gear -------------------------------------------------------------------
def _matches(recorded: tuple[str, tuple[int, ...]], values: tuple[int, ...]) -> bool:
    """SetDynamicInputDataFlag (ge_executor.cc:98): dims compare value by value; a batch
    matches a one-value gear, an H,W pair a two-value gear."""
    kind, chosen = recorded
    if kind == DIMS:
        return chosen == values
    return len(values) == len(chosen) and chosen == values


def selected_gear(graph: dict[str, Any], dataset: Dataset, applied: bool = True) -> int:
    """The gear an execution with ``dataset`` as input runs (see the module docstring);
    ``applied`` False: the largest, whatever the dataset says (defect gear_not_applied)."""
    gears = graph["gears"]["list"]
    values = [tuple(gear["values"]) for gear in gears]
    if dataset.dynamic is None or not applied:
        products = [functools.reduce(lambda a, b: a * b, v, 1) for v in values]
        return products.index(max(products))
    for index, gear in enumerate(values):
        if _matches(dataset.dynamic, gear):
            return index
    raise AclFail(E.ACL_ERROR_RT_MODEL_EXECUTE,
                  f"the input dataset selects {dataset.dynamic[0]} {list(dataset.dynamic[1])}, "
                  f"which is none of the model's gears {[list(v) for v in values]}")


def input_shapes(graph: dict[str, Any], dataset: Dataset, applied: bool = True
                 ) -> list[list[int]]:
    """The input shapes of the gear ``dataset`` selects (the gear input's last)."""
    gear = graph["gears"]["list"][selected_gear(graph, dataset, applied)]
    return [list(s) for s in gear["inputs"]] + [list(graph["inputs"][-1]["shape"])]


def at_gear(graph: dict[str, Any], shapes: list[list[int]]) -> dict[str, Any]:
    """The graph as the subgraph of the gear whose input shapes are ``shapes`` runs it: its
    shapes and its memory plan. A graph without gears is returned as it is."""
    gears = graph.get("gears")
    if gears is None:
        return graph
    gear = next(g for g in gears["list"] if g["inputs"] == shapes[:-1])
    inputs = [dict(spec, shape=list(shape)) for spec, shape in
              zip(graph["inputs"][:-1], gear["inputs"], strict=True)] + [graph["inputs"][-1]]
    outputs = [dict(spec, shape=list(shape)) for spec, shape in
               zip(graph["outputs"], gear["outputs"], strict=True)]
    return dict(graph, inputs=inputs, outputs=outputs, tensors=gear["tensors"])


# -- pyACL's dict results --------------------------------------------------------------------
def _on_failure(empty: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """pyACL's wrappers that return a dict (or list) give ``(empty, ret)`` on failure, not
    ``(0, ret)`` as :func:`pyacl` does for a number; ``empty`` gets the parsed arguments'
    raw values."""
    def decorate(call: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(call)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            result, ret = call(self, *args, **kwargs)
            return (empty(*args), ret) if ret else (result, ret)

        return wrapper

    return decorate


def _unset_items(count: int) -> list[None] | None:
    """What pyACL returns from a failed get_input_dynamic_dims: None past its gear-count
    limit, else its list of ``count`` items it never set (None here, UNCONFIRMED)."""
    count &= 2**64 - 1
    return None if count > GEAR_COUNT_LIMIT else [None] * count


def _dims_argument(dims: Any) -> tuple[int, list[int]]:
    """The ``dims`` dict as WrapAclMdlSetInputDynamicDims reads it (see the docstring). A
    dimCount that is missing or not a non-negative int: pyACL reads it unchecked with
    PyLong_AsSize_t and fails later; the simulator raises the TypeError at once
    (UNCONFIRMED)."""
    if not isinstance(dims, dict):
        raise raised_by_pyacl(TypeError("argument 4 is not dict"))
    count = dims.get("dimCount")
    if not isinstance(count, int) or count < 0:
        raise raised_by_pyacl(TypeError("the dimCount of parameter 4 is not an int"))
    name = dims.get("name")
    if name is not None and not isinstance(name, str):
        raise raised_by_pyacl(RuntimeError("PyUnicode_AsUTF8String failed"))
    values = dims.get("dims")
    if not isinstance(values, list):
        raise raised_by_pyacl(TypeError("The dims of parameter 4 is not a list."))
    if count > ACL_MAX_DIM_CNT:  # pyACL would write past aclmdlIODims.dims (UNCONFIRMED code)
        raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                      f"dimCount {count} is more than ACL_MAX_DIM_CNT ({ACL_MAX_DIM_CNT})")
    if len(values) < count or any(not isinstance(v, int) for v in values[:count]):
        raise raised_by_pyacl(TypeError("the dims of fourth parameter is not list of int"))
    if any(v not in _INT64 for v in values[:count]):
        raise raised_by_pyacl(ValueError("PyLong_AsLongLong failed"))
    return count, [int(v) for v in values[:count]]


class DynamicApi:
    """``acl.mdl``'s functions for models with gears."""

    HOME = "acl.mdl"

    def __init__(self, runtime: Runtime, models: ModelManager, data: DataApi) -> None:
        self._rt = runtime
        self._models = models
        self._data = data

    # -- helpers ---------------------------------------------------------------------------
    def _fields(self, desc: int) -> dict[str, Any]:
        found = self._rt.handles.get(Kind.MODEL_DESC, desc)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{desc:#x} is not a model desc")
        return found

    def _dynamic(self, desc: int) -> dict[str, Any]:
        return self._fields(desc).get("dynamic") or desc_fields(None)

    def _dynamic_buffer(self, dataset: int, index: int) -> tuple[Dataset, int, int]:
        """The dataset and the address and size of its buffer ``index`` (the checks ACL makes
        before GE is asked: model.cpp:1839)."""
        found = self._data._dataset(dataset)
        if index >= len(found.buffers):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"the dataset has no buffer {index}")
        buffer = self._data._buffer(found.buffers[index])
        if buffer.address == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"buffer {index} has a NULL address")
        return found, buffer.address, buffer.size

    def _gears(self, model_id: int) -> dict[str, Any] | None:
        """The model's gears; GE's v1 model manager knows no other id (145003)."""
        model = self._models.get(model_id)
        if model.dynamic:
            raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_ID_INVALID,
                          f"model {model_id} is a runtime-v2 (dynamic) model, unknown to the "
                          "gear functions")
        return model.graph.get("gears") if model.graph else None

    def _write(self, address: int, length: int, values: list[int], wide: bool) -> None:
        """GE's aclrtMemcpy of the values into the dynamic input buffer (UNCONFIRMED code for
        a buffer that is not device memory: the runtime's 107000)."""
        size = 8 if wide else 4
        data = b"".join((v & (2**(8 * size) - 1)).to_bytes(size, "little") for v in values)
        heap = self._rt.heap_of(address)
        view = heap.view(address, min(len(data), length)) if heap is not None else None
        if view is None:
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"the dynamic input buffer {address:#x}+{length} is not device memory")
        view[:] = data[:len(view)]

    @staticmethod
    def _not_a_gear(what: str, values: list[int], gears: dict[str, Any] | None) -> AclFail:
        known = [g["values"] for g in gears["list"]] if gears else []
        return AclFail(E.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID,
                       f"{what} {values} does not match a gear of the model {known}")

    # -- the desc ----------------------------------------------------------------------------
    @_on_failure(lambda *args: {})
    @pyacl("acl.mdl.get_dynamic_batch", "k", outputs=1)
    def get_dynamic_batch(self, desc: int) -> dict[str, Any]:
        batch = self._dynamic(desc)["batch"]
        if len(batch) > ACL_MAX_BATCH_NUM:
            raise AclFail(E.ACL_ERROR_STORAGE_OVER_LIMIT, f"{len(batch)} batch gears")
        return {"batchCount": len(batch), "batch": list(batch)}

    @_on_failure(lambda *args: {})
    @pyacl("acl.mdl.get_dynamic_hw", "kk", outputs=1)
    def get_dynamic_hw(self, desc: int, index: int) -> dict[str, Any]:
        hw = self._dynamic(desc)["hw"]
        if len(hw) > ACL_MAX_HW_NUM:
            raise AclFail(E.ACL_ERROR_STORAGE_OVER_LIMIT, f"{len(hw)} image-size gears")
        return {"hwCount": len(hw), "hw": [list(pair) for pair in hw]}

    @_on_failure(lambda *args: {"rangeCount": 0, "range": []})
    @pyacl("acl.mdl.get_input_dims_range", "kk", outputs=1)
    def get_input_dims_range(self, desc: int, index: int) -> dict[str, Any]:
        found = self._fields(desc)
        dynamic = found.get("dynamic") or {}
        if any(dynamic.get(key) for key in ("batch", "hw", "dims")):
            return {"rangeCount": 0, "range": []}
        inputs = found["inputs"]
        if index >= len(inputs):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"input {index} of a model with {len(inputs)} inputs")
        dims, ranges = inputs[index]["dims"], inputs[index].get("shape_range") or []
        if ranges and len(ranges) != len(dims):
            raise AclFail(E.ACL_ERROR_INTERNAL_ERROR, "shape ranges and dims differ in count")
        pairs = [list(r) for r in ranges] if ranges else [[d, d] for d in dims]
        return {"rangeCount": len(pairs), "range": pairs}

    @pyacl("acl.mdl.get_input_dynamic_gear_count", "kk", outputs=1)
    def get_input_dynamic_gear_count(self, desc: int, index: int) -> int:
        dims = self._dynamic(desc)["dims"]
        if index != INDEX_UNUSED:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"index must be -1, not {index}")
        if len(dims) > ACL_MAX_DIM_CNT:
            raise AclFail(E.ACL_ERROR_STORAGE_OVER_LIMIT, f"{len(dims)} dims gears")
        return len(dims)

    @_on_failure(lambda desc, index, count: _unset_items(count))
    @pyacl("acl.mdl.get_input_dynamic_dims", "kkk", outputs=1)
    def get_input_dynamic_dims(self, desc: int, index: int, gear_count: int) -> list[Any]:
        if gear_count > GEAR_COUNT_LIMIT:  # pyACL's own check, before ACL: (None, 100000)
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"gear count {gear_count} is over pyACL's {GEAR_COUNT_LIMIT}")
        fields = self._dynamic(desc)
        if index != INDEX_UNUSED:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"index must be -1, not {index}")
        gears = fields["dims"]
        if gear_count < len(gears):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"gear count {gear_count} is less than the model's {len(gears)}")
        inputs = {entry["name"]: entry["dims"] for entry in self._fields(desc)["inputs"]}
        raw = [d for name in fields["order"] for d in inputs.get(name, [])]
        if len(raw) > ACL_MAX_DIM_CNT:
            raise AclFail(E.ACL_ERROR_FAILURE, f"{len(raw)} dims in all")
        result = []
        for gear in range(gear_count):
            values = iter(gears[gear]) if gear < len(gears) else None
            dims = [] if values is None else [next(values, 0) if d < 0 else d for d in raw]
            result.append({"name": "", "dimCount": len(dims),
                           "dims": [d & (2**64 - 1) for d in dims]})
        return result

    # -- choosing the gear -------------------------------------------------------------------
    @pyacl("acl.mdl.set_dynamic_batch_size", "IkkK")
    def set_dynamic_batch_size(self, model_id: int, dataset: int, index: int,
                               batch: int) -> None:
        self._data._dataset(dataset)
        if batch == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "batchSize can't be zero")
        found, address, length = self._dynamic_buffer(dataset, index)
        found.dynamic = (BATCH, (batch,))
        if length < 4:
            raise AclFail(E.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID,
                          f"the dynamic input buffer has {length} bytes, less than 4")
        gears = self._gears(model_id)
        if (gears is None or not any(g["values"] == [batch] for g in gears["list"])) and \
                self._rt.faults.checks_gear():
            raise self._not_a_gear("batch size", [batch], gears)
        self._models.get(model_id).gear = (BATCH, (batch,))
        self._write(address, length, [batch], wide=length >= 8)

    @pyacl("acl.mdl.set_dynamic_hw_size", "IkkKK")
    def set_dynamic_hw_size(self, model_id: int, dataset: int, index: int, height: int,
                            width: int) -> None:
        self._data._dataset(dataset)
        if height == 0 or width == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "height and width can't be zero")
        found, address, length = self._dynamic_buffer(dataset, index)
        found.dynamic = (IMAGE_SIZE, (height, width))
        if length < 8:
            raise AclFail(E.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID,
                          f"the dynamic input buffer has {length} bytes, less than 8")
        gears = self._gears(model_id)
        if (gears is None or not any(g["values"] == [height, width] for g in gears["list"])) \
                and self._rt.faults.checks_gear():
            raise self._not_a_gear("image size", [height, width], gears)
        self._models.get(model_id).gear = (IMAGE_SIZE, (height, width))
        self._write(address, length, [height, width], wide=length >= 16)

    @pyacl("acl.mdl.set_input_dynamic_dims", "IkkO")
    def set_input_dynamic_dims(self, model_id: int, dataset: int, index: int,
                               dims: Any) -> None:
        count, values = _dims_argument(dims)
        self._data._dataset(dataset)
        if count == 0:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "dimCount can't be zero")
        found, address, length = self._dynamic_buffer(dataset, index)
        found.dynamic = None
        if not self._rt.init_count:
            raise AclFail(E.ACL_ERROR_GE_EXEC_NOT_INIT, "GeExecutor has not been initialized")
        gears = self._gears(model_id)
        model = self._models.get(model_id)
        order = gears["order"] if gears else []
        origin = {spec["name"]: spec["shape"] for spec in model.inputs}
        raw = [d for name in order for d in origin.get(name, [])]
        if len(values) != len(raw):
            raise AclFail(E.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID,
                          f"{len(values)} dims given, the inputs have {len(raw)}")
        current = []
        for position, (fixed, given) in enumerate(zip(raw, values, strict=True)):
            if fixed < 0:
                current.append(given & (2**64 - 1))
            elif fixed != given:
                raise AclFail(E.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID,
                              f"dim {position} is {given}, the model fixes it at {fixed}")
        if gears is None or not any(g["values"] == current for g in gears["list"]):
            raise self._not_a_gear("dims", current, gears)
        model.gear = (DIMS, tuple(current))
        if length < 4 * len(current):
            raise AclFail(E.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID,
                          f"the dynamic input buffer has {length} bytes, less than "
                          f"{4 * len(current)}")
        self._write(address, length, current, wide=length >= 8 * len(current))
        found.dynamic = (DIMS, tuple(current))
