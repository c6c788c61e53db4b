"""From ``acl.mdl.execute`` to a running graph: CANN's checks in CANN's order, the buffers
resolved, the run done now (sync) or queued on the stream (async).

The order and codes (reference/cann-behaviour.md §6):

1. a NULL input or output dataset → 100000, before the model id is looked at;
2. an unknown id → 145003 — but a sync execute with a ``(NULL, 0)`` output buffer asks for
   the model's description first: 100000;
3. another context than the load's → the runtime's model-context error (the code on each
   product is open, §10; the sanitizer reports the misuse);
4. a dynamic model given fewer input buffers than it has inputs → 100000; a static model
   whose buffer counts differ from the model's (empty datasets included) → 500002
   (``UpdateAllNodeArgs`` under ``GE_ASSERT_SUCCESS``);
5. a static model executed both sync and async → 500002 ("NnExecute not support mix
   execute", ``InitModelStream``), whichever came first;
6. an input buffer up to 64 bytes smaller than the model's input is accepted
   (``kDataMemAlignSizeCompare``; the missing bytes read as zeros here), more → 145000;
7. a sync execute's ``(NULL, 0)`` output buffer is allocated by ACL with the output size.

Codes the references leave open are the simulator's (UNCONFIRMED): a buffer that is not
device memory or an output too small → 145000; a model without the simulator's graph
(built by ATC) → 200001.
"""

from __future__ import annotations

import numpy as np

from pytest_acl.constants import AclError, Format
from pytest_acl.sim import dynamic
from pytest_acl.sim.acl_data import DataApi
from pytest_acl.sim.acl_tensor import TensorDesc, TensorDescApi, acl_data_type
from pytest_acl.sim.devmem import is_device_address
from pytest_acl.sim.executor import Buffer, Execution
from pytest_acl.sim.handles import Kind
from pytest_acl.sim.models import LoadedModel, ModelManager
from pytest_acl.sim.pyargs import AclFail
from pytest_acl.sim.runtime import Runtime
from pytest_acl.sim.sanitizer import thread_actor

E = AclError
# GE accepts an input buffer this much smaller than the model's input (davinci_model.cc
# CheckUserAndModelSize 6562, kDataMemAlignSizeCompare).
INPUT_SHORTFALL_ACCEPTED = 64
SYNC, ASYNC = "sync", "async"


class Launcher:
    """Checks, prepares and runs executions of one simulator's models."""

    def __init__(self, runtime: Runtime, models: ModelManager, data: DataApi,
                 tensors: TensorDescApi) -> None:
        self._rt = runtime
        self._models = models
        self._data = data
        self._tensors = tensors

    # -- the checks --------------------------------------------------------------------------
    def _model(self, model_id: int, in_ds: int, out_ds: int, mode: str) -> LoadedModel:
        """Steps 1-3."""
        if not in_ds or not out_ds:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "the input or output dataset is NULL")
        outputs = self._buffers(out_ds)
        self._buffers(in_ds)  # a dead dataset handle is refused (100000) before the id too
        if mode == SYNC and any(b.ptr == 0 and b.size == 0 for _, b in outputs) and \
                not self._models.is_loaded(model_id):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"model {model_id} is not loaded: no description to size the "
                          "output buffer ACL would allocate")
        return self._models.in_current_context(model_id, f"execute ({mode})")

    def _counts(self, model: LoadedModel, inputs: int, outputs: int) -> None:
        """Step 4."""
        if model.dynamic and inputs < len(model.inputs):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"dynamic model {model.model_id} has {len(model.inputs)} inputs, "
                          f"the dataset holds {inputs} buffers")
        if inputs != len(model.inputs) or outputs != len(model.outputs):
            code = E.ACL_ERROR_GE_PARAM_INVALID if model.dynamic else E.ACL_ERROR_GE_FAILURE
            raise AclFail(code, f"model {model.model_id} takes {len(model.inputs)} inputs and "
                                f"{len(model.outputs)} outputs, the datasets hold {inputs} "
                                f"and {outputs}")

    def _mode(self, model: LoadedModel, mode: str) -> None:
        """Step 5: the first execution fixes a static model's mode."""
        if model.dynamic:
            return
        with model.lock:
            if model.mode is None:
                model.mode = mode
            elif model.mode != mode:
                raise AclFail(E.ACL_ERROR_GE_FAILURE,
                              f"model {model.model_id} was executed {model.mode} before: "
                              "NnExecute does not support mixing sync and async execution")

    # -- the buffers -------------------------------------------------------------------------
    def _buffers(self, dataset: int) -> list[tuple[int, Buffer]]:
        found = self._data._dataset(dataset)
        buffers = []
        for handle in found.buffers:
            buffer = self._data._buffer(handle)
            buffers.append((handle, Buffer(buffer.address, buffer.size)))
        return buffers

    def _input_shapes(self, model: LoadedModel, dataset: int) -> list[list[int]]:
        """Static shapes, or — for dimensions unknown until run time — the shape given by the
        input buffer's tensor desc (set_dataset_tensor_desc); for a model with gears, those
        of the gear the dataset selects (dynamic.py)."""
        if model.graph is not None and model.graph.get("gears") is not None:
            return dynamic.input_shapes(model.graph, self._data._dataset(dataset),
                                        self._rt.faults.applies_gear())
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

    def prepare(self, model_id: int, in_ds: int, out_ds: int, mode: str
                ) -> tuple[LoadedModel, list[Buffer], list[list[int]], list[Buffer]]:
        model = self._model(model_id, in_ds, out_ds, mode)
        if model.graph is None:
            raise AclFail(E.ACL_ERROR_API_NOT_SUPPORT,
                          f"model {model.model_id} has no simulator graph (built by ATC?): "
                          "the simulator cannot execute it")
        inputs = [buffer for _, buffer in self._buffers(in_ds)]
        outputs = self._buffers(out_ds)
        self._counts(model, len(inputs), len(outputs))
        self._mode(model, mode)
        shapes = self._input_shapes(model, in_ds)
        for index, (spec, buffer, shape) in enumerate(zip(model.inputs, inputs, shapes,
                                                          strict=True)):
            needed = TensorDesc(acl_data_type(spec["dtype"]), shape, 0).size
            if not is_device_address(buffer.ptr) or \
                    buffer.size + INPUT_SHORTFALL_ACCEPTED < needed:
                raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                              f"input {index} ({spec['name']}) needs {needed} bytes of device "
                              f"memory, its buffer is {buffer.ptr:#x}+{buffer.size}")
        ready = []
        for index, (handle, buffer) in enumerate(outputs):
            if buffer.ptr == 0 and buffer.size == 0 and mode == SYNC:
                buffer = self._allocate_output(model, index, handle)
            if not is_device_address(buffer.ptr):
                raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                              f"output {index} buffer {buffer.ptr:#x} is not device memory")
            ready.append(buffer)
        return model, inputs, shapes, ready

    def _allocate_output(self, model: LoadedModel, index: int, handle: int) -> Buffer:
        """Sync execute with a (NULL, 0) output buffer: ACL allocates it and the user frees
        it (§5.10). A dynamic output is sized by its static dims only (UNCONFIRMED)."""
        spec = model.outputs[index]
        size = TensorDesc(acl_data_type(spec["dtype"]), spec["shape"], 0).size
        ptr = self._rt.malloc(max(size, 1))
        if self._rt.faults.returns_allocated_outputs():
            found = self._data._buffer(handle)
            found.address, found.size = ptr, size
        return Buffer(ptr, size)

    # -- running -----------------------------------------------------------------------------
    def run(self, model: LoadedModel, inputs: list[Buffer], shapes: list[list[int]],
            outputs: list[Buffer], out_ds: int) -> None:
        assert model.graph is not None  # prepare refused a model without a graph
        graph = dynamic.at_gear(model.graph, shapes)
        execution = Execution(graph, self.view, model.weight.ptr, model.work.ptr,
                              model.variables.ptr)
        output_shapes = execution.run(inputs, shapes, outputs)
        if graph.get("assign"):
            execution.write_variables()
        self._rt.faults.past_outputs(
            lambda: [self.view(buffer.ptr + buffer.size, 16) for buffer in outputs])
        self._rt.faults.after_execution(
            lambda: self.view(model.weight.ptr, 1) if model.weight.size else None,
            lambda: [(self.live_view(buffer.ptr, buffer.size, "output buffer"),
                      np.dtype(spec["dtype"]))
                     for buffer, spec in zip(outputs, graph["outputs"], strict=True)])
        if model.dynamic:
            found = self._data._dataset(out_ds)
            for index, (spec, shape) in enumerate(zip(model.outputs, output_shapes,
                                                      strict=True)):
                old = found.tensor_descs.get(index)
                if old:
                    self._rt.handles.remove(Kind.TENSOR_DESC, old)
                found.tensor_descs[index] = self._tensors._new(
                    TensorDesc(acl_data_type(spec["dtype"]), shape, Format.ACL_FORMAT_ND))

    def view(self, ptr: int, nbytes: int) -> memoryview | None:
        heap = self._rt.heap_of(ptr)
        return heap.view(ptr, nbytes) if heap is not None else None

    def live_view(self, ptr: int, nbytes: int, what: str) -> memoryview:
        """As :meth:`view`, but memory that is not live is an execution fault (as in
        :class:`Execution`)."""
        view = self.view(ptr, nbytes)
        if view is None:
            raise AclFail(E.ACL_ERROR_RT_MODEL_EXECUTE,
                          f"{what} at {ptr:#x}+{nbytes} is not live device memory")
        return view

    def execute(self, model_id: int, in_ds: int, out_ds: int) -> None:
        model, inputs, shapes, outputs = self.prepare(model_id, in_ds, out_ds, SYNC)
        token = self._rt.sanitizer.begin(model.model_id, model.work.ptr, model.work.size,
                                         thread_actor())
        try:
            self.run(model, inputs, shapes, outputs, out_ds)
        finally:
            self._rt.sanitizer.end(token)

    def execute_async(self, model_id: int, in_ds: int, out_ds: int, stream: int) -> None:
        """Checked now, run in stream order; a fault surfaces at synchronize_stream. For the
        sanitizer the execution uses its work memory from now until it has run."""
        target = self._rt.stream_in_current_context(stream)
        model, inputs, shapes, outputs = self.prepare(model_id, in_ds, out_ds, ASYNC)
        actor = (f"stream {stream:#x}" if stream else
                 f"default stream of context {target.context_handle:#x}")
        token = self._rt.sanitizer.begin(model.model_id, model.work.ptr, model.work.size,
                                         actor)

        early = [bytes(view) for buffer in inputs
                 if (view := self.view(buffer.ptr, buffer.size)) is not None] \
            if self._rt.faults.reads_inputs_at_launch() else None

        def run() -> None:
            try:
                if early is not None:  # the defect: what the buffers held at the call
                    for buffer, data in zip(inputs, early, strict=False):
                        self.live_view(buffer.ptr, len(data), "input buffer")[:] = data
                self.run(model, inputs, shapes, outputs, out_ds)
            finally:
                self._rt.sanitizer.end(token)

        task, now = self._rt.faults.async_task(run, lambda: self._models.shares_work(model))
        if now:
            task()
        else:
            target.submit(task)
