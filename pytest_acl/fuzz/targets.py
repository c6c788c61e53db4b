"""Every entry that takes model bytes, as a small function ``target(session, data)``.

A target makes the calls an application would: the load (from a file it writes, from host
memory, with user memory of the queried size or an odd one, through a config handle), the
size queries, the description of a model file or buffer without a load, the bundle loads,
inits and query info. Whatever loads is described and
executed — sync, or async then ``synchronize_stream`` — with inputs and outputs sized from
its description, then unloaded. Every resource is released through ``session.defer``, last
made first released, even when a call raised, so what remains after an input is the
simulator's leak, not the harness's.

Targets record return codes (``session.note``) and contract breaches a pyACL caller would
trip on (``session.problem``: a description with a non-int dim, ``507000`` from a stream);
the runner turns exceptions, leaks, slow calls and problems into findings.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pytest_acl.constants import (
    NUMPY_DTYPE_OF,
    AclError,
    Format,
    MdlConfigAttr,
    MdlLoadType,
    MemcpyKind,
)
from pytest_acl.fuzz.mutators import BUNDLE, MODEL

E = AclError
A = MdlConfigAttr
POLICY = 0  # ACL_MEM_MALLOC_HUGE_FIRST
MAX_TENSORS = 16  # inputs or outputs per model that the harness sets up
MAX_BUFFER = 16 << 20  # the most device memory one harness buffer takes
MAX_GRAPHS = 8  # bundle graphs exercised per input
RANDOM_FILL_LIMIT = 64 << 10
INT64 = range(-(1 << 63), 1 << 63)
# Codes that say the simulator failed inside (its guard's, a stream's): never a refusal.
INTERNAL_CODES = {int(E.ACL_ERROR_INTERNAL_ERROR), int(E.ACL_ERROR_RT_INTERNAL_ERROR)}


@dataclass
class Session:
    """What one input's target works with: the timed ``acl`` module, a scratch directory,
    a stream of the simulator, the input's own random choices, and what it leaves to do."""

    acl: Any
    tmp: Path
    stream: int
    rng: random.Random
    cleanups: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # kind, key, detail
    loaded: int = 0
    executed: int = 0
    _keep: list[Any] = field(default_factory=list)  # host bytes whose address was handed out

    def defer(self, what: str, fn: Callable[..., Any], *args: Any) -> None:
        self.cleanups.append((what, lambda: fn(*args)))

    def note(self, what: str, ret: Any) -> None:
        self.notes.append(f"{what}={ret}")
        if isinstance(ret, int) and ret in INTERNAL_CODES:
            self.problem("internal-code", f"{what.split('(')[0]} returned {ret} "
                                          f"({E(ret).name})")

    def problem(self, kind: str, key: str, detail: str = "") -> None:
        """A breach of what a pyACL caller may rely on; ``key`` groups alike ones."""
        self.problems.append((kind, key, detail))

    def file(self, data: bytes) -> str:
        path = self.tmp / "input.om"
        path.write_bytes(data)
        return str(path)

    def host(self, data: bytes) -> int:
        """The host address of ``data`` (kept alive until the input ends)."""
        self._keep.append(data)
        return int(self.acl.util.bytes_to_ptr(data)) if data else 0

    def malloc(self, size: int) -> int:
        """Device memory of ``size`` bytes (at most MAX_BUFFER), freed when the input ends;
        0 when none can be had."""
        ptr, ret = self.acl.rt.malloc(max(1, min(size, MAX_BUFFER)), POLICY)
        if ret != 0:
            self.note("malloc", ret)
            return 0
        self.defer("acl.rt.free", self.acl.rt.free, ptr)
        return int(ptr)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_sizes(s: Session, api: str, values: tuple[Any, ...]) -> None:
    if not all(_int(v) and 0 <= v < 1 << 64 for v in values):
        s.problem("contract", f"{api} succeeded with a size that is not a uint64",
                  f"{values!r}")


# -- what loads: describe, execute, unload --------------------------------------------------

@dataclass
class Tensor:
    dims: list[int]
    dtype: int
    size: int  # bytes the harness gives it
    dynamic: bool


def _tensor(s: Session, desc: int, side: str, index: int, batch: int) -> Tensor | None:
    mdl = s.acl.mdl
    dims_info, ret = getattr(mdl, f"get_{side}_dims")(desc, index)
    s.note(f"get_{side}_dims", ret)
    if ret != 0:
        return None
    dims = dims_info.get("dims") if isinstance(dims_info, dict) else None
    dtype = getattr(mdl, f"get_{side}_data_type")(desc, index)
    size = getattr(mdl, f"get_{side}_size_by_index")(desc, index)
    name = getattr(mdl, f"get_{side}_name_by_index")(desc, index)
    getattr(mdl, f"get_{side}_format")(desc, index)
    if isinstance(name, str):
        getattr(mdl, f"get_{side}_index_by_name")(desc, name)
    if not isinstance(dims, list) or not all(_int(d) and d in INT64 for d in dims) or \
            not _int(dtype) or not _int(size) or size < 0 or not isinstance(name, str):
        s.problem("contract", f"a model description's {side} is not pyACL's (dims int64, data "
                              "type int, size a uint64, name str)",
                  f"{side} {index}: dims {dims!r}, data type {dtype!r}, size {size!r}, "
                  f"name {name!r}")
        return None
    dynamic = any(d < 0 for d in dims)
    if dynamic:
        dims = [batch if d < 0 else d for d in dims]
        itemsize = np.dtype(NUMPY_DTYPE_OF.get(dtype, "uint8")).itemsize
        size = int(np.prod(dims, dtype=object)) * itemsize if dims else itemsize
    return Tensor(dims, dtype, size, dynamic)


def _buffer(s: Session, dataset: int, size: int, fill: bool) -> int:
    """A device buffer of ``size`` bytes (or MAX_BUFFER: an execution must refuse a short
    one) in ``dataset``; its address."""
    acl = s.acl
    ptr = s.malloc(size)
    if not ptr:
        return 0
    size = min(size, MAX_BUFFER)
    if fill and 0 < size <= RANDOM_FILL_LIMIT:
        data = s.rng.randbytes(size)
        acl.rt.memcpy(ptr, size, s.host(data), size, MemcpyKind.ACL_MEMCPY_HOST_TO_DEVICE)
    buffer = acl.create_data_buffer(ptr, size)
    s.defer("acl.destroy_data_buffer", acl.destroy_data_buffer, buffer)
    acl.mdl.add_dataset_buffer(dataset, buffer)
    return ptr


def exercise(s: Session, model_id: int) -> None:
    """Describe the model, then execute it once (sync, or async on the session's stream)."""
    acl = s.acl
    mdl = acl.mdl
    desc = mdl.create_desc()
    s.defer("acl.mdl.destroy_desc", mdl.destroy_desc, desc)
    ret = mdl.get_desc(desc, model_id)
    s.note("get_desc", ret)
    if ret != 0:
        return
    counts = mdl.get_num_inputs(desc), mdl.get_num_outputs(desc)
    if not all(_int(c) and c >= 0 for c in counts):
        s.problem("contract", "get_num_inputs/outputs gave a count that is not an int",
                  f"{counts!r}")
        return
    if max(counts) > MAX_TENSORS:
        s.note("tensors", f"{counts} (more than the harness sets up)")
        return
    batch = s.rng.choice([1, 2, 3, 4])
    inputs = [_tensor(s, desc, "input", i, batch) for i in range(counts[0])]
    outputs = [_tensor(s, desc, "output", i, batch) for i in range(counts[1])]
    if any(t is None for t in inputs + outputs):
        return
    fill = s.rng.random() < 0.25
    # Now and then one buffer or shape is off, as in a caller's mistake: an input short by
    # the 64 bytes GE tolerates or by 65, an output a byte short, a run-time shape of
    # another batch or rank. The execution must refuse it or run it, nothing else.
    odd = s.rng.choice(["input_64", "input_65", "output_1", "shape", "rank"]) \
        if s.rng.random() < 0.1 else ""
    if odd.startswith("input") and inputs:
        tensor = s.rng.choice(inputs)
        assert tensor is not None
        tensor.size = max(tensor.size - int(odd[6:]), 0)
    elif odd == "output_1" and outputs:
        tensor = s.rng.choice(outputs)
        assert tensor is not None
        tensor.size = max(tensor.size - 1, 0)
    elif odd and any(t is not None and t.dynamic for t in inputs):
        tensor = s.rng.choice([t for t in inputs if t is not None and t.dynamic])
        assert tensor is not None
        tensor.dims = [d + 1 for d in tensor.dims] if odd == "shape" else tensor.dims[:-1]
    if odd:
        s.note("odd", odd)
    sync = s.rng.random() < 0.5
    in_ds = mdl.create_dataset()
    s.defer("acl.mdl.destroy_dataset", mdl.destroy_dataset, in_ds)
    for index, tensor in enumerate(inputs):
        assert tensor is not None
        if not _buffer(s, in_ds, tensor.size, fill):
            return
        if tensor.dynamic:
            td = acl.create_tensor_desc(tensor.dtype, tensor.dims, Format.ACL_FORMAT_ND)
            s.defer("acl.destroy_tensor_desc", acl.destroy_tensor_desc, td)
            s.note("set_dataset_tensor_desc", mdl.set_dataset_tensor_desc(in_ds, td, index)[1])
    out_ds = mdl.create_dataset()
    s.defer("acl.mdl.destroy_dataset", mdl.destroy_dataset, out_ds)
    null_output = 0
    for index, tensor in enumerate(outputs):
        assert tensor is not None
        if index == 0 and sync and s.rng.random() < 0.15:
            # (NULL, 0): a sync execute allocates it and the caller frees it (§5.10)
            null_output = acl.create_data_buffer(0, 0)
            s.defer("acl.destroy_data_buffer", acl.destroy_data_buffer, null_output)
            acl.mdl.add_dataset_buffer(out_ds, null_output)
        elif not _buffer(s, out_ds, tensor.size, False):
            return
    s.executed += 1
    if sync:
        s.note("execute", mdl.execute(model_id, in_ds, out_ds))
        if null_output:
            allocated = acl.get_data_buffer_addr(null_output)
            if allocated:
                s.defer("acl.rt.free", acl.rt.free, allocated)
    else:
        s.note("execute_async", mdl.execute_async(model_id, in_ds, out_ds, s.stream))
        s.note("synchronize_stream", acl.rt.synchronize_stream(s.stream))


def _loaded(s: Session, api: str, model_id: int, ret: int) -> None:
    """After a load: note it; if it loaded, exercise and (at the end) unload it."""
    s.note(api, ret)
    if ret == 0:
        s.loaded += 1
        s.defer("acl.mdl.unload", lambda: s.note("unload", s.acl.mdl.unload(model_id)))
        exercise(s, model_id)


# -- user memory ---------------------------------------------------------------------------

MEMORY_PLANS = ("exact", "exact", "larger", "smaller", "null_work", "null_weight", "null_both",
                "zero_sizes", "huge_claim")


def _plan_sizes(s: Session, queried: tuple[int, int] | None) -> tuple[int, int, int, int, str]:
    """(work_ptr, work_size, weight_ptr, weight_size, plan): buffers of the queried sizes, or
    a chosen departure from them."""
    work, weight = queried if queried is not None else (s.rng.choice([0, 64, 4096]),
                                                        s.rng.choice([0, 1024, 4096]))
    plan = s.rng.choice(MEMORY_PLANS)
    if plan == "larger":
        work, weight = work + 4096, weight + 4096
    elif plan == "smaller":
        work, weight = work // 2, max(weight - 1, 0)
    elif plan == "zero_sizes":
        work = weight = 0
    work_ptr = 0 if plan in ("null_work", "null_both") else s.malloc(work)
    weight_ptr = 0 if plan in ("null_weight", "null_both") else s.malloc(weight)
    if plan == "huge_claim":  # small buffers, claimed as 2**64 - 1 bytes
        work = weight = (1 << 64) - 1
    return work_ptr, work, weight_ptr, weight, plan


def _query_file(s: Session, path: str) -> tuple[int, int] | None:
    work, weight, ret = s.acl.mdl.query_size(path)
    s.note("query_size", ret)
    return (work, weight) if ret == 0 and _int(work) and _int(weight) else None


def _query_mem(s: Session, ptr: int, size: int) -> tuple[int, int] | None:
    work, weight, ret = s.acl.mdl.query_size_from_mem(ptr, size)
    s.note("query_size_from_mem", ret)
    return (work, weight) if ret == 0 and _int(work) and _int(weight) else None


# -- model targets --------------------------------------------------------------------------

def load_from_file(s: Session, data: bytes) -> None:
    model_id, ret = s.acl.mdl.load_from_file(s.file(data))
    _loaded(s, "load_from_file", model_id, ret)


def load_from_mem(s: Session, data: bytes) -> None:
    model_id, ret = s.acl.mdl.load_from_mem(s.host(data), len(data))
    _loaded(s, "load_from_mem", model_id, ret)


def load_from_file_with_mem(s: Session, data: bytes) -> None:
    path = s.file(data)
    *memory, plan = _plan_sizes(s, _query_file(s, path))
    s.note("memory", plan)
    model_id, ret = s.acl.mdl.load_from_file_with_mem(path, *memory)
    _loaded(s, "load_from_file_with_mem", model_id, ret)


def load_from_mem_with_mem(s: Session, data: bytes) -> None:
    ptr = s.host(data)
    *memory, plan = _plan_sizes(s, _query_mem(s, ptr, len(data)))
    s.note("memory", plan)
    model_id, ret = s.acl.mdl.load_from_mem_with_mem(ptr, len(data), *memory)
    _loaded(s, "load_from_mem_with_mem", model_id, ret)


def load_with_config(s: Session, data: bytes) -> None:
    mdl = s.acl.mdl
    handle = mdl.create_config_handle()
    s.defer("acl.mdl.destroy_config_handle", mdl.destroy_config_handle, handle)
    load_type = s.rng.choice(list(MdlLoadType)[:4])
    from_file = load_type in (MdlLoadType.ACL_MDL_LOAD_FROM_FILE,
                              MdlLoadType.ACL_MDL_LOAD_FROM_FILE_WITH_MEM)
    options: list[tuple[int, Any]] = [(A.ACL_MDL_LOAD_TYPE_SIZET, int(load_type))]
    if from_file:
        path = s.file(data)
        options.append((A.ACL_MDL_PATH_PTR, path))
        queried = _query_file(s, path)
    else:
        ptr = s.host(data)
        options += [(A.ACL_MDL_MEM_ADDR_PTR, ptr), (A.ACL_MDL_MEM_SIZET, len(data))]
        queried = _query_mem(s, ptr, len(data))
    if load_type in (MdlLoadType.ACL_MDL_LOAD_FROM_FILE_WITH_MEM,
                     MdlLoadType.ACL_MDL_LOAD_FROM_MEM_WITH_MEM):
        work_ptr, work, weight_ptr, weight, plan = _plan_sizes(s, queried)
        s.note("memory", plan)
        options += [(A.ACL_MDL_WORKSPACE_ADDR_PTR, work_ptr), (A.ACL_MDL_WORKSPACE_SIZET, work),
                    (A.ACL_MDL_WEIGHT_ADDR_PTR, weight_ptr), (A.ACL_MDL_WEIGHT_SIZET, weight)]
    if s.rng.random() < 0.2:
        options.append((A.ACL_MDL_PRIORITY_INT32, s.rng.randrange(8)))
    if s.rng.random() < 0.2:
        options.append((A.ACL_MDL_WORKSPACE_MEM_OPTIMIZE, s.rng.choice([0, 1])))
    for attr, value in options:
        mdl.set_config_opt(handle, int(attr), value)
    model_id, ret = mdl.load_with_config(handle)
    _loaded(s, f"load_with_config(type {int(load_type)})", model_id, ret)


def _described(s: Session, api: str, fill: Callable[[int], int]) -> None:
    """A desc filled from the bytes without a load: every tensor of it read back."""
    mdl = s.acl.mdl
    desc = mdl.create_desc()
    s.defer("acl.mdl.destroy_desc", mdl.destroy_desc, desc)
    ret = fill(desc)
    s.note(api, ret)
    if ret != 0:
        return
    counts = mdl.get_num_inputs(desc), mdl.get_num_outputs(desc)
    if not all(_int(c) and c >= 0 for c in counts):
        s.problem("contract", "get_num_inputs/outputs gave a count that is not an int",
                  f"{counts!r}")
        return
    for side, count in zip(("input", "output"), counts, strict=True):
        for index in range(min(count, MAX_TENSORS)):
            _tensor(s, desc, side, index, 1)


def get_desc_from_file(s: Session, data: bytes) -> None:
    path = s.file(data)
    _described(s, "get_desc_from_file", lambda desc: s.acl.mdl.get_desc_from_file(desc, path))


def get_desc_from_mem(s: Session, data: bytes) -> None:
    ptr = s.host(data)
    _described(s, "get_desc_from_mem",
               lambda desc: s.acl.mdl.get_desc_from_mem(desc, ptr, len(data)))


def query_size(s: Session, data: bytes) -> None:
    work, weight, ret = s.acl.mdl.query_size(s.file(data))
    s.note("query_size", ret)
    if ret == 0:
        _check_sizes(s, "acl.mdl.query_size", (work, weight))


def query_size_from_mem(s: Session, data: bytes) -> None:
    work, weight, ret = s.acl.mdl.query_size_from_mem(s.host(data), len(data))
    s.note("query_size_from_mem", ret)
    if ret == 0:
        _check_sizes(s, "acl.mdl.query_size_from_mem", (work, weight))


# -- bundle targets -------------------------------------------------------------------------

def _bundle_loaded(s: Session, api: str, bundle_id: int, ret: int) -> bool:
    s.note(api, ret)
    if ret == 0:
        s.defer("acl.mdl.bundle_unload",
                lambda: s.note("bundle_unload", s.acl.mdl.bundle_unload(bundle_id)))
    return ret == 0


def _bundle_graphs(s: Session, bundle_id: int) -> None:
    """A bundle loaded whole: every graph by its id, and the index past the last."""
    mdl = s.acl.mdl
    count, ret = mdl.bundle_get_model_num(bundle_id)
    s.note("bundle_get_model_num", ret)
    if ret != 0:
        return
    if not _int(count) or count < 0:
        s.problem("contract", "bundle_get_model_num gave a count that is not an int",
                  f"{count!r}")
        return
    for index in range(min(count, MAX_GRAPHS)):
        model_id, ret = mdl.bundle_get_model_id(bundle_id, index)
        s.note(f"bundle_get_model_id({index})", ret)
        if ret == 0:
            s.loaded += 1
            exercise(s, model_id)
    s.note("bundle_get_model_id(past the end)", mdl.bundle_get_model_id(bundle_id, count)[1])


def bundle_load_from_file(s: Session, data: bytes) -> None:
    bundle_id, ret = s.acl.mdl.bundle_load_from_file(s.file(data))
    if _bundle_loaded(s, "bundle_load_from_file", bundle_id, ret):
        _bundle_graphs(s, bundle_id)


def bundle_load_from_mem(s: Session, data: bytes) -> None:
    bundle_id, ret = s.acl.mdl.bundle_load_from_mem(s.host(data), len(data))
    if _bundle_loaded(s, "bundle_load_from_mem", bundle_id, ret):
        _bundle_graphs(s, bundle_id)


def _query_info(s: Session, data: bytes, from_file: bool) -> tuple[int, bool]:
    """A query info filled from the bytes: (handle, whether the query succeeded)."""
    mdl = s.acl.mdl
    info = mdl.bundle_create_query_info()
    s.defer("acl.mdl.bundle_destroy_query_info", mdl.bundle_destroy_query_info, info)
    ret = mdl.bundle_query_info_from_file(s.file(data), info) if from_file else \
        mdl.bundle_query_info_from_mem(s.host(data), len(data), info)
    s.note("bundle_query_info", ret)
    return info, ret == 0


def _graph_sizes(s: Session, info: int) -> list[tuple[int, int] | None]:
    """Each graph's (work, weight) from a query info, and the index past the last."""
    mdl = s.acl.mdl
    count, ret = mdl.bundle_get_query_model_num(info)
    s.note("bundle_get_query_model_num", ret)
    var_size, ret_var = mdl.bundle_get_var_weight_size(info)
    s.note("bundle_get_var_weight_size", ret_var)
    if ret != 0 or ret_var != 0:
        return []
    if not _int(count) or count < 0:
        s.problem("contract", "bundle_get_query_model_num gave a count that is not an int",
                  f"{count!r}")
        return []
    _check_sizes(s, "acl.mdl.bundle_get_var_weight_size", (var_size,))
    sizes: list[tuple[int, int] | None] = []
    for index in range(min(count, MAX_GRAPHS) + 1):
        work, weight, ret = mdl.bundle_get_size(info, index)
        s.note(f"bundle_get_size({index})", ret)
        if ret == 0:
            _check_sizes(s, "acl.mdl.bundle_get_size", (work, weight))
        sizes.append((work, weight) if ret == 0 and _int(work) and _int(weight) else None)
    return sizes


def bundle_query_info_from_file(s: Session, data: bytes) -> None:
    info, ok = _query_info(s, data, True)
    if ok:
        _graph_sizes(s, info)


def bundle_query_info_from_mem(s: Session, data: bytes) -> None:
    info, ok = _query_info(s, data, False)
    if ok:
        _graph_sizes(s, info)


def _bundle_init(s: Session, data: bytes, from_file: bool) -> None:
    """Query, init with variable memory (queried, odd or system-managed), then load each
    graph on demand — plain, with user memory, or through a config handle."""
    mdl = s.acl.mdl
    info, ok = _query_info(s, data, from_file)
    sizes = _graph_sizes(s, info) if ok else []
    var_size = mdl.bundle_get_var_weight_size(info)[0] if ok else s.rng.choice([0, 512])
    var_size = var_size if _int(var_size) else 0
    plan = s.rng.choice(["system", "exact", "exact", "smaller", "larger", "huge_claim"])
    var_ptr = 0 if plan == "system" else s.malloc(
        {"smaller": var_size // 2, "larger": var_size + 64}.get(plan, var_size))
    claimed = (1 << 64) - 1 if plan == "huge_claim" else var_size
    s.note("variables", plan)
    if from_file:
        bundle_id, ret = mdl.bundle_init_from_file(s.file(data), var_ptr, claimed)
    else:
        bundle_id, ret = mdl.bundle_init_from_mem(s.host(data), len(data), var_ptr, claimed)
    if not _bundle_loaded(s, "bundle_init", bundle_id, ret):
        return
    for index in range(max(len(sizes), 1)):  # the last is past the end
        how = s.rng.choice(["plain", "with_mem", "with_config"])
        if how == "plain":
            model_id, ret = mdl.bundle_load_model(bundle_id, index)
        elif how == "with_mem":
            *memory, plan = _plan_sizes(s, sizes[index] if index < len(sizes) else None)
            s.note("memory", plan)
            model_id, ret = mdl.bundle_load_model_with_mem(bundle_id, index, *memory)
        else:
            handle = mdl.create_config_handle()
            s.defer("acl.mdl.destroy_config_handle", mdl.destroy_config_handle, handle)
            work_ptr, work, weight_ptr, weight, plan = _plan_sizes(
                s, sizes[index] if index < len(sizes) else None)
            s.note("memory", plan)
            for attr, value in ((A.ACL_MDL_WORKSPACE_ADDR_PTR, work_ptr),
                                (A.ACL_MDL_WORKSPACE_SIZET, work),
                                (A.ACL_MDL_WEIGHT_ADDR_PTR, weight_ptr),
                                (A.ACL_MDL_WEIGHT_SIZET, weight)):
                if value:
                    mdl.set_config_opt(handle, int(attr), value)
            model_id, ret = mdl.bundle_load_model_with_config(bundle_id, index, handle)
        s.note(f"bundle_load_model {how}({index})", ret)
        if ret == 0:
            s.loaded += 1
            s.defer("acl.mdl.bundle_unload_model", lambda m=model_id: s.note(
                "bundle_unload_model", mdl.bundle_unload_model(bundle_id, m)))
            exercise(s, model_id)


def bundle_init_from_file(s: Session, data: bytes) -> None:
    _bundle_init(s, data, True)


def bundle_init_from_mem(s: Session, data: bytes) -> None:
    _bundle_init(s, data, False)


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # the kind of input it is for (others are sent to it now and then)
    fn: Callable[[Session, bytes], None]
    requires: str = ""  # an acl.mdl function the backend must have


TARGETS = {t.name: t for t in (
    Target("load_from_file", MODEL, load_from_file),
    Target("load_from_mem", MODEL, load_from_mem),
    Target("load_from_file_with_mem", MODEL, load_from_file_with_mem),
    Target("load_from_mem_with_mem", MODEL, load_from_mem_with_mem),
    Target("load_with_config", MODEL, load_with_config),
    Target("query_size", MODEL, query_size),
    Target("query_size_from_mem", MODEL, query_size_from_mem),
    Target("get_desc_from_file", MODEL, get_desc_from_file, "get_desc_from_file"),
    Target("get_desc_from_mem", MODEL, get_desc_from_mem, "get_desc_from_mem"),
    Target("bundle_load_from_file", BUNDLE, bundle_load_from_file),
    Target("bundle_load_from_mem", BUNDLE, bundle_load_from_mem),
    Target("bundle_init_from_file", BUNDLE, bundle_init_from_file, "bundle_init_from_file"),
    Target("bundle_init_from_mem", BUNDLE, bundle_init_from_mem, "bundle_init_from_mem"),
    Target("bundle_query_info_from_file", BUNDLE, bundle_query_info_from_file,
           "bundle_query_info_from_file"),
    Target("bundle_query_info_from_mem", BUNDLE, bundle_query_info_from_mem,
           "bundle_query_info_from_mem"),
)}
