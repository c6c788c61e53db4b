"""The simulator's model manager: loading, memory ownership, ids, unloading.

Rules and their sources (reference/cann-behaviour.md, which corrects acl-api.md §5):

- §2 ids: static models take ids from a process-wide counter starting at 1, taken once the
  256-byte header probe passed (a load failing later uses one up) and never reused; a dynamic
  (runtime v2) load also uses up a static id (``GenModelId`` in its executor builder), and
  takes its own from the runtime-v2 counter shared with bundles (first 2147483648), which
  failed loads do not use.
- §1 a NULL work or weight pointer means the system allocates that memory, whatever the
  size; user memory must stay valid until unload; no alignment check.
- §1 size checks: weight_size < the WEIGHTS_DATA size → 145000; work_size + fixed size <
  the required work size → 145000 (the simulator's models have no fixed part: fixed size 0).
- §1 a dynamic model's load ignores the work pointer and size; its intermediates are sized
  at execution time.
- §3 unload: an unknown id, a second unload and 0xFFFFFFFF → 145003; a bundle's graph →
  100000; from another context → 0 (CANN does not check; the sanitizer reports the misuse,
  acl-api.md §5.1 makes same-context use the application's obligation).
- §1 system memory that cannot be allocated → 245000.
- om-format.md §3.1: the weight memory receives the WEIGHTS_DATA partition.

Reading the file goes through :mod:`pytest_acl.om` only.
"""

from __future__ import annotations

import functools
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from pytest_acl.constants import AclError
from pytest_acl.om import protobuf as pb
from pytest_acl.om.container import Chunk, OmModel
from pytest_acl.om.header import HEADER_SIZE, MODELTYPE_BUNDLE, ModelFileHeader
from pytest_acl.om.modeldef import SIM_GRAPH_ATTR, ModelDef
from pytest_acl.om.partitions import PartitionType
from pytest_acl.om.reader import LOAD_MEM, OmError, ReadOptions, expected_sizes, read_model
from pytest_acl.sim import graphcheck
from pytest_acl.sim.devmem import OutOfMemory
from pytest_acl.sim.faultpoints import FaultPoints
from pytest_acl.sim.pyargs import AclFail
from pytest_acl.sim.releases import Release
from pytest_acl.sim.runtime import Runtime

E = AclError
FIRST_STATIC_ID = 1
FIRST_DYNAMIC_ID = 2**31  # UINT32_MAX / 2, pre-incremented (§5.7)
U64 = 2**64 - 1


@dataclass
class Region:
    """Device memory a model uses: where, how much, and whether the model owns it."""

    ptr: int = 0
    size: int = 0
    owned: bool = False


@dataclass
class LoadedModel:
    model_id: int
    name: str
    context: int
    device_id: int
    dynamic: bool
    graph: dict[str, Any] | None  # the simulator's executable graph; None for foreign models
    work: Region
    weight: Region
    required_work: int
    bundle_id: int = 0
    variables: Region = field(default_factory=Region)
    mode: str | None = None  # "sync" or "async" once a static model has run (launch.py)
    # the gear the last set_dynamic_* call set (GE DavinciModel::SetDynamicSize; dynamic.py)
    gear: tuple[str, tuple[int, ...]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return self.graph["inputs"] if self.graph else []

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return self.graph["outputs"] if self.graph else []


def _om_failure(error: OmError) -> AclFail:
    return AclFail(error.code, error.message)


@functools.lru_cache(maxsize=128)
def _graph_of(model_def: bytes, weight_size: int, work_size: int, dynamic: bool,
              variable_size: int | None) -> dict[str, Any] | None:
    raw = ModelDef.decode(model_def).bytes_attrs.get(SIM_GRAPH_ATTR)
    if not raw:
        return None  # a foreign (e.g. ATC-built) model: loads, does not execute here
    graph = graphcheck.decode(raw)
    graphcheck.check(graph, weight_size, work_size, dynamic, variable_size)
    return graph


def executable_graph_of(om: OmModel, work_size: int, dynamic: bool,
                        variable_size: int | None = None) -> dict[str, Any] | None:
    """The model's graph (read-only), checked as GE checks a graph it builds at load
    (graphcheck.py) and decoded once per distinct ModelDef and memory: the suites load the
    same few models hundreds of times. A graph that cannot be built is an AclFail."""
    root_def = om.groups[0].find(PartitionType.MODEL_DEF)
    if root_def is None:
        return None
    try:
        return _graph_of(bytes(root_def.contiguous()), om.weights_size(), work_size, dynamic,
                         variable_size)
    except (graphcheck.GraphError, pb.DecodeError) as error:
        raise graphcheck.load_failure(graphcheck.GraphError(str(error))) from None


class ModelManager:
    """Every model loaded in one simulated process."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._models: dict[int, LoadedModel] = {}
        self._unloaded: set[int] = set()
        self._ghosts: dict[int, LoadedModel] = {}  # unloaded, still described (a defect)
        self._lock = threading.Lock()
        self._static_ids = itertools.count(FIRST_STATIC_ID)
        self._dynamic_ids = itertools.count(FIRST_DYNAMIC_ID)

    @property
    def cann(self) -> Release:
        """The CANN release whose rules apply (releases.py)."""
        return self._rt.release

    @property
    def faults(self) -> FaultPoints:
        return self._rt.faults

    @property
    def file_limit(self) -> int:
        """The largest model file worth reading: what one device's memory holds."""
        return self._rt.config.hbm_bytes

    # -- ids ---------------------------------------------------------------------------------
    def next_dynamic_id(self) -> int:
        """The runtime-v2 counter, shared by dynamic models and bundles (§5.7)."""
        with self._lock:
            return next(self._dynamic_ids)

    def _next_static_id(self) -> int:
        with self._lock:
            return self._rt.faults.static_id(lambda: next(self._static_ids),
                                             lambda model_id: model_id in self._models)

    # -- memory ------------------------------------------------------------------------------
    def user_region(self, ptr: int, size: int, what: str) -> Region:
        """User memory must be device memory of one live allocation on the current
        context's device (a simulator check: on a card a bad pointer faults later;
        UNCONFIRMED code 107000, the same for memory of another device)."""
        heap = self._rt.heap_of(ptr)
        if heap is None or heap.view(ptr, max(size, 1)) is None:
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"{what} {ptr:#x}+{size} is not inside one live device allocation")
        device_id = self._rt.current_context().device_id
        if heap is not self._rt.devices[device_id].heap:
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"{what} {ptr:#x} is memory of another device than the current "
                          f"context's (device {device_id})")
        return Region(ptr, size, owned=False)

    def system_region(self, device_id: int, size: int, what: str) -> Region:
        if size == 0:
            return Region()
        device_id = self._rt.faults.model_memory_device(device_id)
        try:
            return Region(self._rt.devices[device_id].heap.allocate(size), size, owned=True)
        except OutOfMemory as exc:
            self._rt.faults.out_of_device_memory(device_id)
            raise AclFail(E.ACL_ERROR_GE_MEMORY_ALLOCATION, f"{what}: {exc}") from None

    def release(self, region: Region) -> None:
        if region.owned and region.ptr:
            heap = self._rt.heap_of(region.ptr)
            if heap is not None:
                heap.free(region.ptr)

    def write_device(self, ptr: int, data: Chunk) -> None:
        heap = self._rt.heap_of(ptr)
        view = heap.view(ptr, len(data)) if heap is not None else None
        if view is None:  # only a weight buffer smaller than the weights (a defect) gets here
            raise AclFail(E.ACL_ERROR_RT_PARAM_INVALID,
                          f"{ptr:#x}+{len(data)} is not inside one live device allocation")
        view[:] = data

    # -- loading -----------------------------------------------------------------------------
    def load(self, data: bytes | memoryview, options: ReadOptions, work_ptr: int = 0,
             work_size: int = 0, weight_ptr: int = 0, weight_size: int = 0,
             model_id: int | None = None, variable_size: int | None = None) -> LoadedModel:
        """Load a (non-bundle) OM held in ``data``; see the module docstring for the rules."""
        context = self._rt.current_context()
        faults = self._rt.faults
        view = memoryview(data).cast("B")
        if len(view) < HEADER_SIZE:
            raise AclFail(options.short_code, "shorter than the 256-byte model header")
        header = ModelFileHeader.unpack(view)
        view = faults.model_bytes(view, HEADER_SIZE + header.payload_length)
        dynamic = header.is_dynamic and header.modeltype != MODELTYPE_BUNDLE
        if model_id is None and not dynamic:
            model_id = self._next_static_id()  # used up even if the load fails (§2)
        try:
            om = read_model(view, options)
        except OmError as error:
            raise _om_failure(error) from None
        if dynamic and model_id is None:
            self._next_static_id()  # runtime v2's executor builder calls GenModelId (§2)
        required_work, weights = expected_sizes(om)
        if not dynamic:
            model_def = om.groups[0].find(PartitionType.MODEL_DEF)
            # an int64 attribute GE reads into a size_t: a negative one is a huge size
            required_work = int(ModelDef.decode(model_def.contiguous()).int_attrs.get(
                "memory_size", required_work)) & U64 if model_def is not None else required_work
        # the graph is built before any memory is taken: a model that loads also runs
        graph = executable_graph_of(om, 0 if dynamic else required_work, dynamic, variable_size)
        work_ptr, weight_ptr = faults.user_memory(work_ptr, weight_ptr, weight_size)
        from_memory = options is LOAD_MEM
        if weight_ptr and weight_size < weights and faults.checks_weight_size(from_memory):
            raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                          f"E13025: the weight size of model is {weights}, but the input size "
                          f"set by user is {weight_size}")
        if work_ptr and not dynamic and work_size < required_work and \
                faults.checks_work_size(from_memory):
            raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID,
                          f"Invalid mem param: mem_size={work_size}, required={required_work}")
        device_id = context.device_id
        if weight_ptr:
            weight = self.user_region(weight_ptr, weight_size, "weight memory")
        elif not faults.weights_in_device_memory():
            weight = self._host_weights(weights)
        else:
            weight = self.system_region(device_id, weights, "weight memory")
        try:
            if dynamic or not work_ptr:
                work = Region() if dynamic else self.system_region(device_id, required_work,
                                                                    "work memory")
            else:
                work = self.user_region(work_ptr, work_size, "work memory")
        except AclFail:
            if faults.releases_weights_of_a_failed_load():
                self.release(weight)
            raise
        try:
            self._copy_weights(om, weight)
            if weight_ptr and faults.runs_from_own_weight_copy():
                weight = self.system_region(device_id, weights, "weight memory")
                self._copy_weights(om, weight)
        except AclFail:
            self.release(work)
            self.release(weight)
            raise
        if model_id is None:
            model_id = self.next_dynamic_id()
        model = LoadedModel(model_id, om.header.model_name, context.handle, device_id, dynamic,
                            graph, work, weight, required_work)
        with self._lock:
            self._models[model_id] = model
        return model

    def _host_weights(self, size: int) -> Region:
        """Defect system_load_skips_weight_memory: weights in a block get_mem_info misses."""
        region = self.system_region(self._rt.current_device(), size, "weight memory")
        if region.ptr:
            heap = self._rt.heap_of(region.ptr)
            assert heap is not None  # system_region allocated it from a device heap
            heap.set_accounted(region.ptr, False)
        return region

    def _copy_weights(self, om: OmModel, weight: Region) -> None:
        offset = 0
        for group in om.groups:
            partition = group.find(PartitionType.WEIGHTS_DATA)
            if partition is not None and partition.size:
                self.write_device(weight.ptr + offset, partition.contiguous())
                offset += partition.size

    # -- lookup and unloading ----------------------------------------------------------------
    def get(self, model_id: int) -> LoadedModel:
        model = self._models.get(model_id)
        if model is None:
            raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_ID_INVALID,
                          f"model id {model_id} is not loaded")
        return model

    def describable(self, model_id: int) -> LoadedModel:
        """The model get_desc describes: a loaded one (unknown → 145003)."""
        ghost = self._ghosts.get(model_id)
        return ghost if ghost is not None and model_id not in self._models else self.get(model_id)

    def is_loaded(self, model_id: int) -> bool:
        return model_id in self._models

    def _unloaded_before(self, model_id: int) -> bool:
        return self._rt.faults.forgets_unload(model_id in self._unloaded)

    def in_current_context(self, model_id: int, operation: str) -> LoadedModel:
        """The model, which must belong to the current context (§5.1, 107004)."""
        model = self.get(model_id)
        current = self._rt.current_context().handle
        if current != model.context and self._rt.faults.checks_context():
            self._rt.sanitizer.wrong_context(model_id, operation, model.context, current)
            raise AclFail(E.ACL_ERROR_RT_MODEL_CONTEXT,
                          f"model {model_id} was loaded in another context")
        return model

    def shares_work(self, model: LoadedModel) -> bool:
        """Whether another loaded model's work memory overlaps ``model``'s (user work
        buffers shared between models; system work memory is never shared)."""
        start, end = model.work.ptr, model.work.ptr + model.work.size
        return start != end and any(
            other is not model and other.work.size and other.work.ptr < end
            and start < other.work.ptr + other.work.size for other in self.live())

    def users_of(self, start: int, end: int) -> list[tuple[int, str, int]]:
        """(model id, role, address) of user memory of loaded models inside [start, end)."""
        return [(m.model_id, role, region.ptr) for m in self.live()
                for role, region in (("work", m.work), ("weight", m.weight),
                                     ("variable", m.variables))
                if region.ptr and not region.owned and start <= region.ptr < end]

    def unload(self, model_id: int, from_bundle: bool = False) -> None:
        """§3: the AICPU session is destroyed before GraphLoader's INVALID_MODEL_ID short-cut,
        so 0xFFFFFFFF is an unknown id like any other (145003)."""
        if self._unloaded_before(model_id):
            return
        model = self.get(model_id)
        if model.bundle_id and not from_bundle:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"model {model_id} belongs to bundle {model.bundle_id}; unload it "
                          "with bundle_unload_model")
        current = self._rt.current_context().handle
        if current != model.context:  # not refused by CANN (§3): the application's mistake
            self._rt.sanitizer.wrong_context(model_id, "unload", model.context, current)
        with model.lock:
            with self._lock:
                self._models.pop(model_id, None)
                self._unloaded.add(model_id)
                if self._rt.faults.remembers_unloaded_models():
                    self._ghosts[model_id] = model
            if self._rt.faults.frees_work_on_unload():
                self.release(model.work)
            self.release(self._rt.faults.weight_memory_to_release(model.weight))

    def live(self) -> list[LoadedModel]:
        with self._lock:
            return list(self._models.values())

    def release_all(self) -> None:
        with self._lock:
            self._models.clear()
