"""The load variants the suites parametrize over, each described once.

A variant knows how to load (and unload) one model or one bundle graph through the pyACL
functions of any backend, and which memory it owns. Ownership (work, weight) is
``"user"`` or ``"system"``; a user buffer is ``"exact"`` (the queried size) or ``"larger"``.
Everything here is static data plus code, so every xdist worker collects the same tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pytest_acl.buffers import check
from pytest_acl.constants import ACL_HBM_MEM
from pytest_acl.constants import MdlConfigAttr as A
from pytest_acl.constants import MdlLoadType as T
from pytest_acl.models.manifest import ModelEntry

SYSTEM, USER = "system", "user"
LARGER_BY = 4096
# User work and variable buffers start filled with this byte: whether the model wrote them
# shows afterwards.
SENTINEL = 0xA5


@dataclass(frozen=True)
class Ownership:
    work: str = SYSTEM
    weight: str = SYSTEM
    # user buffers: "exact" (queried), "larger" (+4096), or "smaller": a work buffer given as
    # half its queried size and a weight buffer as one byte less (allocated in full)
    size: str = "exact"

    @property
    def id(self) -> str:
        suffix = f"-{self.size}" if USER in (self.work, self.weight) else ""
        return f"work_{self.work}-weight_{self.weight}{suffix}"


SYSTEM_ONLY = (Ownership(),)
ALL_OWNERSHIPS = tuple(Ownership(w, g, s) for w in (SYSTEM, USER) for g in (SYSTEM, USER)
                       for s in (("exact", "larger") if USER in (w, g) else ("exact",)))


@dataclass
class Loaded:
    """A loaded model (or bundle graph) and how to give everything back."""

    acl: ModuleType
    model_id: int
    user_buffers: list[int] = field(default_factory=list)
    undo: list[Callable[[], int]] = field(default_factory=list)
    keep: list[object] = field(default_factory=list)  # host bytes that must stay alive
    # role ("work", "weight", "variables") → (ptr, size) of the user buffers given to the load
    user_memory: dict[str, tuple[int, int]] = field(default_factory=dict)
    user_cost: int = 0  # device memory the user buffers took (allocator rounding included)
    # allocates the user buffers instead of acl.rt.malloc, e.g. the device_memory fixture
    # (canaried buffers that it frees itself); what it returned, by role, is in ``buffers``
    allocate: Callable[[int], Any] | None = None
    buffers: dict[str, Any] = field(default_factory=dict)

    def user_buffer(self, role: str, size: int) -> int:
        """Allocate a user buffer for ``role`` (work and variables filled with SENTINEL)."""
        acl = self.acl
        free_before = acl.rt.get_mem_info(ACL_HBM_MEM)[0]
        if self.allocate is not None:
            self.buffers[role] = buffer = self.allocate(size)
            ptr = buffer.ptr
        else:
            ptr, ret = acl.rt.malloc(size, 0)
            check(ret, f"acl.rt.malloc({size})")
            self.user_buffers.append(ptr)
        self.user_cost += free_before - acl.rt.get_mem_info(ACL_HBM_MEM)[0]
        self.user_memory[role] = (ptr, size)
        if role != "weight":
            check(acl.rt.memset(ptr, size, SENTINEL, size), "acl.rt.memset")
        return ptr

    def release(self) -> None:
        for step in self.undo:
            check(step(), "unload")
        for ptr in self.user_buffers:
            check(self.acl.rt.free(ptr), f"acl.rt.free({ptr:#x})")
        self.undo, self.user_buffers = [], []


@dataclass(frozen=True)
class Variant:
    """One way to load: its loader (``load_model`` / ``open_bundle``), the APIs it needs and
    the clauses that loading this way exercises — a suite parametrizes with ``param``."""

    name: str
    family: str  # "model", "config", "bundle_load", "bundle_init"
    source: str  # "file" or "mem"
    with_mem: bool
    requires: tuple[str, ...]
    clauses: tuple[str, ...] = ()

    @property
    def bundle(self) -> bool:
        return self.family.startswith("bundle")

    def param(self, *values: object, clauses: tuple[str, ...] = (), label: str = "") -> Any:
        """``pytest.param(self, *values)`` skipped where the backend lacks the variant's APIs
        and naming its clauses (and ``clauses``)."""
        import pytest

        marks = [pytest.mark.acl_requires(*self.requires)]
        if self.clauses or clauses:
            marks.append(pytest.mark.acl_clause(*self.clauses, *clauses))
        return pytest.param(self, *values, id=self.name + (f"-{label}" if label else ""),
                            marks=marks)

    @property
    def ownerships(self) -> tuple[Ownership, ...]:
        return ALL_OWNERSHIPS if self.with_mem else SYSTEM_ONLY


# What a test supplies for a role ("work", "weight", "variables") instead of the variant's
# own choice: a size to allocate (e.g. what a query returned), or a (ptr, size) buffer used as
# it is and not freed here (e.g. one work buffer several loads share).
Given = dict[str, int | tuple[int, int]]


def _user_buffers(loaded: Loaded, ownership: Ownership, work: int, weight: int,
                  given: Given) -> tuple[int, int, int, int]:
    """(work_ptr, work_size, weight_ptr, weight_size) for the ownership; NULL pointers
    carry a junk size on purpose: it must be ignored (seeds/000, 002, 003)."""
    values: list[tuple[int, int]] = []
    for role, owner, size in (("work", ownership.work, work), ("weight", ownership.weight,
                                                               weight)):
        supplied = given.get(role)
        if isinstance(supplied, tuple):
            loaded.user_memory[role] = supplied
            values.append(supplied)
            continue
        size = size if supplied is None else supplied
        if owner == USER and size:
            size += LARGER_BY if ownership.size == "larger" else 0
            told = (size // 2 if role == "work" else size - 1) if ownership.size == "smaller" \
                else size
            values.append((loaded.user_buffer(role, size), told))
        else:
            values.append((0, 0xDEAD))
    (work_ptr, work_size), (weight_ptr, weight_size) = values
    return work_ptr, work_size, weight_ptr, weight_size


def _model_bytes(loaded: Loaded, entry: ModelEntry) -> tuple[int, int]:
    """(ptr, size) of the model file's bytes in host memory, kept alive by ``loaded`` (one
    copy per load: the query and the load see the same buffer)."""
    if not loaded.keep:
        loaded.keep.append(entry.path.read_bytes())
    data = loaded.keep[0]
    assert isinstance(data, bytes)
    return loaded.acl.util.bytes_to_ptr(data), len(data)


def load_model(variant: Variant, acl: ModuleType, entry: ModelEntry, ownership: Ownership,
               allocate: Callable[[int], Any] | None = None,
               given: Given | None = None) -> tuple[Loaded, int]:
    """Load ``entry`` with a single-model variant — for user memory: query the sizes, allocate
    (with ``allocate`` if given) and load with them; returns (loaded, ret)."""
    loaded = Loaded(acl, 0, allocate=allocate)
    path = str(entry.path)
    work = weight = 0
    if variant.with_mem and variant.source == "file":
        work, weight, ret = acl.mdl.query_size(path)
        check(ret, f"acl.mdl.query_size({path})")
    elif variant.with_mem:  # the model is in memory: so is what the sizes are queried from
        work, weight, ret = acl.mdl.query_size_from_mem(*_model_bytes(loaded, entry))
        check(ret, f"acl.mdl.query_size_from_mem({entry.name})")
    memory = (_user_buffers(loaded, ownership, work, weight, given or {}) if variant.with_mem
              else None)
    if variant.family == "model":
        if variant.source == "file":
            model_id, ret = (acl.mdl.load_from_file_with_mem(path, *memory) if memory
                             else acl.mdl.load_from_file(path))
        else:
            ptr, size = _model_bytes(loaded, entry)
            model_id, ret = (acl.mdl.load_from_mem_with_mem(ptr, size, *memory) if memory
                             else acl.mdl.load_from_mem(ptr, size))
    else:
        model_id, ret = _load_with_config(variant, acl, loaded, entry, memory)
    loaded.model_id = model_id
    if ret == 0:
        loaded.undo.append(lambda: acl.mdl.unload(model_id))
    return loaded, ret


def _load_with_config(variant: Variant, acl: ModuleType, loaded: Loaded, entry: ModelEntry,
                      memory: tuple[int, int, int, int] | None) -> tuple[int, int]:
    handle = acl.mdl.create_config_handle()
    load_type = {("file", False): T.ACL_MDL_LOAD_FROM_FILE,
                 ("file", True): T.ACL_MDL_LOAD_FROM_FILE_WITH_MEM,
                 ("mem", False): T.ACL_MDL_LOAD_FROM_MEM,
                 ("mem", True): T.ACL_MDL_LOAD_FROM_MEM_WITH_MEM}[variant.source, variant.with_mem]
    options: list[tuple[int, object]] = [(A.ACL_MDL_LOAD_TYPE_SIZET, int(load_type))]
    if variant.source == "file":
        options.append((A.ACL_MDL_PATH_PTR, str(entry.path)))
    else:
        ptr, size = _model_bytes(loaded, entry)
        options += [(A.ACL_MDL_MEM_ADDR_PTR, ptr), (A.ACL_MDL_MEM_SIZET, size)]
    if memory:
        work_ptr, work_size, weight_ptr, weight_size = memory
        options += [(A.ACL_MDL_WORKSPACE_ADDR_PTR, work_ptr),
                    (A.ACL_MDL_WORKSPACE_SIZET, work_size),
                    (A.ACL_MDL_WEIGHT_ADDR_PTR, weight_ptr),
                    (A.ACL_MDL_WEIGHT_SIZET, weight_size)]
    for attr, value in options:
        check(acl.mdl.set_config_opt(handle, int(attr), value), f"set_config_opt({attr})")
    model_id, ret = acl.mdl.load_with_config(handle)
    check(acl.mdl.destroy_config_handle(handle), "destroy_config_handle")
    return model_id, ret


@dataclass
class LoadedBundle:
    acl: ModuleType
    bundle_id: int
    graph_count: int
    loaded: Loaded

    def release(self) -> None:
        self.loaded.release()


def open_bundle(variant: Variant, acl: ModuleType, entry: ModelEntry,
                user_variables: bool = False, allocate: Callable[[int], Any] | None = None,
                given: Given | None = None) -> tuple[LoadedBundle, int]:
    """Load (load mode) or initialise (init mode) a bundle — with user variable memory of the
    manifest's size or ``given["variables"]``; returns (bundle, ret)."""
    loaded = Loaded(acl, 0, allocate=allocate)
    path = str(entry.path)
    if variant.family == "bundle_load":
        if variant.source == "file":
            bundle_id, ret = acl.mdl.bundle_load_from_file(path)
        else:
            bundle_id, ret = acl.mdl.bundle_load_from_mem(*_model_bytes(loaded, entry))
    else:
        var_ptr = var_size = 0
        supplied = (given or {}).get("variables")
        if isinstance(supplied, tuple):
            var_ptr, var_size = loaded.user_memory["variables"] = supplied
        elif user_variables:
            var_size = entry.data["var_size"] if supplied is None else supplied
            var_ptr = loaded.user_buffer("variables", var_size)
        if variant.source == "file":
            bundle_id, ret = acl.mdl.bundle_init_from_file(path, var_ptr, var_size)
        else:
            ptr, size = _model_bytes(loaded, entry)
            bundle_id, ret = acl.mdl.bundle_init_from_mem(ptr, size, var_ptr, var_size)
    if ret == 0:
        loaded.undo.append(lambda: acl.mdl.bundle_unload(bundle_id))
    return LoadedBundle(acl, bundle_id, entry.data["graph_count"], loaded), ret


def load_bundle_graph(variant: Variant, bundle: LoadedBundle, entry: ModelEntry, index: int,
                      ownership: Ownership, given: Given | None = None) -> tuple[int, int]:
    """The model id of graph ``index``: looked up (load mode) or loaded (init mode, with user
    memory of the manifest's sizes or ``given``)."""
    acl = bundle.acl
    if variant.family == "bundle_load":
        return acl.mdl.bundle_get_model_id(bundle.bundle_id, index)
    graph = entry.data["graphs"][index] if index < len(entry.data["graphs"]) else \
        {"work_size": 0, "weight_size": 0}
    if variant.name.endswith("load_model"):
        return acl.mdl.bundle_load_model(bundle.bundle_id, index)
    memory = _user_buffers(bundle.loaded, ownership, graph["work_size"], graph["weight_size"],
                           given or {})
    if variant.name.endswith("with_mem"):
        return acl.mdl.bundle_load_model_with_mem(bundle.bundle_id, index, *memory)
    handle = acl.mdl.create_config_handle()
    for attr, value in zip((A.ACL_MDL_WORKSPACE_ADDR_PTR, A.ACL_MDL_WORKSPACE_SIZET,
                            A.ACL_MDL_WEIGHT_ADDR_PTR, A.ACL_MDL_WEIGHT_SIZET), memory,
                           strict=True):
        check(acl.mdl.set_config_opt(handle, int(attr), value), f"set_config_opt({attr})")
    result = acl.mdl.bundle_load_model_with_config(bundle.bundle_id, index, handle)
    acl.mdl.destroy_config_handle(handle)
    return result


_MODEL_APIS = {("file", False): "mdl.load_from_file", ("mem", False): "mdl.load_from_mem",
               ("file", True): "mdl.load_from_file_with_mem",
               ("mem", True): "mdl.load_from_mem_with_mem"}
_INIT = {"load_model": ("mdl.bundle_load_model", False),
         "load_model_with_mem": ("mdl.bundle_load_model_with_mem", True),
         "load_model_with_config": ("mdl.bundle_load_model_with_config", True)}

# The clauses each single-model loader exercises (seeds/001-003, acl-api.md §2.1).
_MODEL_CLAUSES = {
    "file": ("load.success_returns_zero",),
    "mem": ("load_from_mem.loads_with_system_memory",
            "load_from_mem.model_id_identifies_the_model",
            "load_from_mem.model_buffer_is_host_memory", "products.load_from_mem.a2_a3"),
    "file_with_mem": ("load_from_file_with_mem.returns_model_id_and_ret",),
    "mem_with_mem": ("load_from_mem_with_mem.loads_with_user_memory",
                     "load_from_mem_with_mem.model_buffer_on_the_app_side",
                     "products.load_from_mem_with_mem.listed"),
}
_CONFIG_CLAUSES = ("config.each_load_type_loads",)
_INIT_CLAUSES = ("bundle.bundle_id_from_init",)
_INIT_WITH_MEM_CLAUSES = ("bundle.load_model_by_index_with_user_memory",
                          "products.bundle_load_model_with_mem.a2_a3")


def _model_name(source: str, mem: bool) -> str:
    return f"{source}{'_with_mem' if mem else ''}"


# What a variant with user memory queries the sizes with first (seeds/000, 002).
_QUERY_APIS = {("file", True): ("mdl.query_size",), ("mem", True): ("mdl.query_size_from_mem",),
               ("file", False): (), ("mem", False): ()}
MODEL_VARIANTS = tuple(
    [Variant(_model_name(source, mem), "model", source, mem,
             (*_QUERY_APIS[source, mem], _MODEL_APIS[source, mem]),
             _MODEL_CLAUSES[_model_name(source, mem)])
     for mem in (False, True) for source in ("file", "mem")]
    + [Variant(f"config_{_model_name(source, mem)}", "config", source, mem,
               (*_QUERY_APIS[source, mem], "mdl.set_config_opt", "mdl.load_with_config"),
               _CONFIG_CLAUSES)
       for mem in (False, True) for source in ("file", "mem")])
BUNDLE_VARIANTS = tuple(
    [Variant(f"bundle_load_{source}", "bundle_load", source, False,
             (f"mdl.bundle_load_from_{source}", "mdl.bundle_get_model_id"))
     for source in ("file", "mem")]
    + [Variant(f"bundle_init_{source}_{how}", "bundle_init", source, mem,
               (f"mdl.bundle_init_from_{source}", api),
               _INIT_CLAUSES + (_INIT_WITH_MEM_CLAUSES if mem else ()))
       for source in ("file", "mem") for how, (api, mem) in _INIT.items()])
VARIANTS = MODEL_VARIANTS + BUNDLE_VARIANTS
# The single-model variants that take user work and weight memory.
MODEL_WITH_MEM = tuple(v for v in MODEL_VARIANTS if v.with_mem)
