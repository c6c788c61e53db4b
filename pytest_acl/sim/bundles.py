"""Bundles in the simulator: N graphs sharing one variable memory (reference/acl-api.md §5.9,
om-format.md §6).

- Load mode (``bundle_load_from_*``): every graph is loaded at once with system memory;
  ``get_model_id(index)`` gives their ids.
- Init mode (``bundle_init_from_*``): nothing is loaded; graphs are loaded on demand by index
  (``load_model``, ``load_model_with_mem``, ``load_model_with_config``), the same index may be
  loaded more than once (each load a new id), and ``get_model_id`` answers 200001.
- Bundle ids come from the runtime-v2 counter (first 2147483648); an unknown bundle id →
  148053; an index ≥ the graph count → 100000; ``varWeightPtr`` NULL → system-managed
  variable memory, else its size must cover the bundle's variables (100000).
- A bundle's graphs cannot be unloaded with ``unload`` (100000, models.py); ``unload_model``
  refuses an id of another bundle (100000); ``bundle_unload`` unloads every graph still loaded
  and releases the variable memory.
- ``get_model_id`` after ``unload_model`` still answers the unloaded graph's id (§8).
- ``init_from_mem`` keeps a reference to the caller's buffer (shallow), which must stay valid
  until the graphs are loaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pytest_acl.constants import AclError
from pytest_acl.om.bundle import Bundle, bundle_sizes, read_bundle
from pytest_acl.om.reader import LOAD_MEM, OmError
from pytest_acl.sim.faultpoints import FaultPoints
from pytest_acl.sim.models import LoadedModel, ModelManager, Region
from pytest_acl.sim.pyargs import AclFail
from pytest_acl.sim.releases import Release
from pytest_acl.sim.runtime import Runtime

E = AclError


@dataclass
class LoadedBundle:
    bundle_id: int
    bundle: Bundle
    init_mode: bool
    variables: Region
    device_id: int
    models: list[int] = field(default_factory=list)  # the graphs still loaded
    # Load mode: the id loaded for each index, never edited afterwards — CANN's index vector
    # keeps an unloaded graph's id (cann-behaviour.md §8; model.cpp 1389).
    index_ids: list[int] = field(default_factory=list)


def parse_bundle(data: bytes | memoryview) -> Bundle:
    try:
        return read_bundle(data)
    except OmError as error:
        raise AclFail(error.code, error.message) from None


@dataclass
class QueryInfo:
    """What QueryInfoFrom* found. A fresh one answers 0 graphs and 0 variable bytes; each
    fill appends its graphs (cann-behaviour.md §8; model_om2.cpp 1091-1103, model.cpp 1174)."""

    var_size: int = 0
    sizes: tuple[tuple[int, int], ...] = ()

    def fill(self, data: bytes | memoryview, faults: FaultPoints) -> None:
        try:
            var_size, sizes = bundle_sizes(parse_bundle(data))
        except OmError as error:
            raise AclFail(error.code, error.message) from None
        except AclFail:
            if faults.query_refuses_non_bundles():
                raise
            var_size, sizes = 0, [(0, 0)]
        self.var_size, self.sizes = var_size, (*self.sizes, *sizes)

    def size(self, index: int, faults: FaultPoints) -> tuple[int, int]:
        """(work, weight) of graph ``index``; an index at or beyond the count → 100000."""
        index = faults.size_index(index, len(self.sizes))
        if index >= len(self.sizes):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"index {index} is outside [0, {len(self.sizes) - 1}]")
        return self.sizes[index]


class BundleManager:
    def __init__(self, runtime: Runtime, models: ModelManager) -> None:
        self._rt = runtime
        self._models = models
        self._bundles: dict[int, LoadedBundle] = {}
        self._lock = threading.Lock()

    @property
    def cann(self) -> Release:
        """The CANN release whose rules apply (releases.py)."""
        return self._rt.release

    @property
    def faults(self) -> FaultPoints:
        return self._rt.faults

    @property
    def file_limit(self) -> int:
        return self._models.file_limit

    def get(self, bundle_id: int) -> LoadedBundle:
        found = self._bundles.get(bundle_id)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_BUNDLE_MODEL_ID, f"bundle {bundle_id} is unknown")
        return found

    def _variables(self, device_id: int, bundle: Bundle, var_ptr: int, var_size: int) -> Region:
        if not var_ptr or not self._rt.faults.uses_user_variables():
            return self._models.system_region(device_id, bundle.var_size, "variable memory")
        if var_size < bundle.var_size and self._rt.faults.checks_variable_size():
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"variable memory of {var_size} bytes is smaller than the bundle's "
                          f"{bundle.var_size}")
        return self._models.user_region(var_ptr, var_size, "variable memory")

    def create(self, data: bytes | memoryview, init_mode: bool, var_ptr: int = 0,
               var_size: int = 0) -> LoadedBundle:
        context = self._rt.current_context()
        # the bundle keeps its own copy of bytes from the caller's memory: its graphs load
        # later (bundle_load_model), when that memory may have been freed
        bundle = parse_bundle(data if isinstance(data, bytes) else bytes(data))
        variables = self._variables(context.device_id, bundle, var_ptr, var_size)
        loaded = LoadedBundle(self._models.next_dynamic_id(), bundle, init_mode, variables,
                              context.device_id)
        with self._lock:
            self._bundles[loaded.bundle_id] = loaded
        if not init_mode:
            try:
                for index in range(len(bundle.models)):
                    loaded.index_ids.append(self.load_model(loaded.bundle_id, index).model_id)
            except AclFail:
                self.unload(loaded.bundle_id)
                raise
        return loaded

    def _index(self, loaded: LoadedBundle, index: int) -> int:
        count = len(loaded.bundle.models)
        index = self._rt.faults.bundle_index(index, count, loaded.device_id)
        if index >= count:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"index {index} is outside [0, {len(loaded.bundle.models) - 1}]")
        return index

    def load_model(self, bundle_id: int, index: int, work_ptr: int = 0, work_size: int = 0,
                   weight_ptr: int = 0, weight_size: int = 0) -> LoadedModel:
        loaded = self.get(bundle_id)
        data = loaded.bundle.models[self._index(loaded, index)]
        model = self._models.load(data, LOAD_MEM, work_ptr, work_size, weight_ptr, weight_size,
                                  variable_size=loaded.bundle.var_size)
        model.bundle_id, model.variables = bundle_id, loaded.variables
        loaded.models.append(model.model_id)
        return model

    def model_id(self, bundle_id: int, index: int) -> int:
        loaded = self.get(bundle_id)
        if loaded.init_mode:
            raise AclFail(E.ACL_ERROR_API_NOT_SUPPORT,
                          "bundle_get_model_id is for bundles loaded with bundle_load_from_*; "
                          "this one was initialised with bundle_init_from_*")
        return loaded.index_ids[self._index(loaded, index)]

    def unload_model(self, bundle_id: int, model_id: int) -> None:
        loaded = self.get(bundle_id)
        if model_id not in loaded.models:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                          f"model {model_id} is not a loaded graph of bundle {bundle_id}")
        self._models.unload(model_id, from_bundle=True)
        loaded.models.remove(model_id)

    def unload(self, bundle_id: int) -> None:
        loaded = self.get(bundle_id)
        if self._rt.faults.bundle_unload_unloads_graphs():
            for model_id in list(loaded.models):
                self.unload_model(bundle_id, model_id)
        with self._lock:
            self._bundles.pop(bundle_id, None)
        self._models.release(loaded.variables)

    def live(self) -> list[LoadedBundle]:
        with self._lock:
            return list(self._bundles.values())

    def release_all(self) -> None:
        with self._lock:
            self._bundles.clear()
