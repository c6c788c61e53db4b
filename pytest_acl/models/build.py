"""Build the fixture-model catalog into a directory: OM files, reference arrays, manifest.

``build_catalog(out_dir, target="sim")`` compiles each model with the simulator's compiler;
``target="atc"`` drives ATC on an NPU host (atc.py). A model is rebuilt only when its cache
key changes — the key hashes the catalog source, the builder's own sources, the model name,
the target and the SoC — so a second build is near-instant and a changed compiler never
leaves stale files behind. A model is also rebuilt when its file no longer has the SHA-256
the manifest records, or when the old manifest names a file outside ``out`` (never followed).

Builds into one directory take turns: each holds an exclusive ``flock`` on ``out/.build.lock``
for its whole run, so a second build (another process, an xdist worker) waits and then reuses
what the first built. Every file is written under a temporary name no other writer uses and
renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import mmap
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx

from pytest_acl import __version__
from pytest_acl.models.catalog import load_catalog
from pytest_acl.models.manifest import (
    FILE_FIELDS,
    FORMAT,
    TEMPORARY_SUFFIX,
    CatalogError,
    entry_file,
    file_digest,
    gear_reference_key,
    read_manifest,
    reference_key,
    write_atomically,
    write_manifest,
    write_reference,
)
from pytest_acl.models.spec import BUNDLE, DYNAMIC, CatalogModel, Graph
from pytest_acl.om.bundle import Bundle
from pytest_acl.om.reader import expected_sizes, read_model

_PACKAGE = Path(__file__).resolve().parents[1]
_BUILDER_SOURCES = sorted([*(_PACKAGE / "om").glob("*.py"), *(_PACKAGE / "models").glob("*.py"),
                           _PACKAGE / "sim" / "compiler.py", _PACKAGE / "sim" / "planner.py",
                           _PACKAGE / "sim" / "ops.py"])
VAR_ALIGNMENT = 32
LOCK_FILE = ".build.lock"
Log = Callable[[str], None]


class BuildError(RuntimeError):
    """A model could not be built; the message says which and why."""


def cache_key(catalog_source: bytes, name: str, target: str, soc: str | None) -> str:
    digest = hashlib.sha256()
    for part in (catalog_source, *(p.read_bytes() for p in _BUILDER_SOURCES),
                 name.encode(), target.encode(), (soc or "").encode()):
        digest.update(len(part).to_bytes(8, "little") + part)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a built file (hashed once per file version and process)."""
    return file_digest(path)


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold the exclusive lock on ``out`` (``out/.build.lock``) for a build: a concurrent
    build into ``out`` waits for it. Leftover temporary files are of a build that died."""
    with (out / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for leftover in out.glob(f".*{TEMPORARY_SUFFIX}"):
                leftover.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tensor_entry(name: str, shape: Iterable[int], dtype: npt.DTypeLike) -> dict[str, Any]:
    shape = [int(d) for d in shape]
    known = all(d >= 0 for d in shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize if known else None
    return {"name": name, "shape": shape, "dtype": np.dtype(dtype).name, "nbytes": nbytes}


def _io(model: onnx.ModelProto, exclude: Iterable[str]) -> tuple[list, list]:
    skip = set(exclude) | {init.name for init in model.graph.initializer}

    def entry(value: onnx.ValueInfoProto) -> dict[str, Any]:
        kind = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in kind.shape.dim]
        return _tensor_entry(value.name, dims, onnx.helper.tensor_dtype_to_np_dtype(kind.elem_type))

    return ([entry(v) for v in model.graph.input if v.name not in skip],
            [entry(v) for v in model.graph.output])


def _evaluate(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Reference outputs from ONNX's own reference evaluator (never from our executor)."""
    from onnx.reference import ReferenceEvaluator

    names = [v.name for v in model.graph.output]
    results = ReferenceEvaluator(model).run(None, feeds)
    return dict(zip(names, (np.asarray(r) for r in results), strict=True))


def _variable_layout(graphs: list[onnx.ModelProto], specs: tuple[Graph, ...]) -> dict:
    """Offsets of the bundle's variables in variable memory (sorted by name, 32-aligned)."""
    found: dict[str, tuple[list[int], str]] = {}
    for model, spec in zip(graphs, specs, strict=True):
        values = {v.name: v for v in [*model.graph.input, *model.graph.output]}
        for name in (*spec.variables, *spec.assign):
            value = values[spec.assign.get(name, name)] if name in spec.assign else values[name]
            kind = value.type.tensor_type
            found.setdefault(name, ([d.dim_value for d in kind.shape.dim],
                                    np.dtype(onnx.helper.tensor_dtype_to_np_dtype(
                                        kind.elem_type)).str))
    layout, offset = {}, 0
    for name in sorted(found):
        shape, dtype = found[name]
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        layout[name] = {"offset": offset, "nbytes": nbytes, "dtype": dtype, "shape": shape}
        offset = (offset + nbytes + VAR_ALIGNMENT - 1) // VAR_ALIGNMENT * VAR_ALIGNMENT
    return layout


def _sizes_of_file(path: Path) -> tuple[int, int]:
    """QuerySize's (work, weight) read from the file through a mapping: only the header,
    tables and TASK_INFO are touched, so a 64 MiB weight partition is never read in."""
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as m:
        view = memoryview(m)
        try:
            return expected_sizes(read_model(view))
        finally:
            gc.collect()  # drop the model's views into the mapping before it closes
            view.release()


def _write_chunks(path: Path, chunks: list) -> None:
    def write(stream: Any) -> None:
        for chunk in chunks:
            stream.write(chunk)

    write_atomically(path, write)


def references(model: CatalogModel, onnx_model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """The reference arrays of a single model (``in:``/``out:``) and, for a model with gears,
    those at each gear (``gear<i>/in:``/``gear<i>/out:``), all from ONNX's evaluator."""
    feeds = model.graphs[0].inputs()
    reference = {reference_key(None, "in", k): v for k, v in feeds.items()}
    reference |= {reference_key(None, "out", k): v
                  for k, v in _evaluate(onnx_model, feeds).items()}
    if model.gears is not None:
        for index, values in enumerate(model.gears.gears.values):
            feeds = model.gears.inputs(values)
            reference |= {gear_reference_key(index, "in", k): v for k, v in feeds.items()}
            reference |= {gear_reference_key(index, "out", k): v
                          for k, v in _evaluate(onnx_model, feeds).items()}
    return reference


def gears_entry(model: CatalogModel) -> dict[str, Any]:
    """The manifest's ``gears`` of a model built with gears (nothing for the others)."""
    if model.gears is None:
        return {}
    gears = model.gears.gears
    return {"gears": {"kind": gears.kind, "values": [list(v) for v in gears.values],
                      "atc_option": gears.atc_option()}}


def _build_single(model: CatalogModel, out: Path) -> dict[str, Any]:
    from pytest_acl.sim.compiler import compile_onnx

    spec = model.graphs[0]
    onnx_model = spec.onnx_model()
    inputs, outputs = _io(onnx_model, ())
    om = compile_onnx(onnx_model, model.name, dynamic=model.kind == DYNAMIC,
                      gears=model.gears.gears if model.gears is not None else None)
    path = out / f"{model.name}.om"
    _write_chunks(path, om.chunks())
    del om
    gc.collect()
    reference = references(model, onnx_model)
    del onnx_model
    write_reference(out / f"{model.name}.npz", reference)
    work, weight = _sizes_of_file(path)
    return {"inputs": inputs, "outputs": outputs, "work_size": work,
            "weight_size": weight} | gears_entry(model)


def _build_bundle(model: CatalogModel, out: Path) -> dict[str, Any]:
    from pytest_acl.sim.compiler import compile_onnx

    graphs = [spec.onnx_model() for spec in model.graphs]
    layout = _variable_layout(graphs, model.graphs)
    var_size = sum(v["nbytes"] for v in layout.values()) and \
        max(v["offset"] + v["nbytes"] for v in layout.values())
    var_size = (var_size + VAR_ALIGNMENT - 1) // VAR_ALIGNMENT * VAR_ALIGNMENT
    sub_oms: list[bytes] = []
    entries: list[dict[str, Any]] = []
    reference: dict[str, np.ndarray] = {}
    state: dict[str, np.ndarray] = {}  # the variables' values after each graph
    for index, (onnx_model, spec) in enumerate(zip(graphs, model.graphs, strict=True)):
        used = {k: layout[k] for k in (*spec.variables, *spec.assign)}
        om_bytes = compile_onnx(onnx_model, f"{model.name}_g{index}", variables=used,
                                assign=dict(spec.assign)).to_bytes()
        sub_oms.append(om_bytes)
        work, weight = expected_sizes(read_model(om_bytes))
        inputs, outputs = _io(onnx_model, spec.variables)
        feeds = spec.inputs()
        results = _evaluate(onnx_model, feeds | {v: state[v] for v in spec.variables})
        for variable, source in spec.assign.items():
            state[variable] = results[source]
        reference |= {reference_key(index, "in", k): v for k, v in feeds.items()}
        reference |= {reference_key(index, "out", k): v for k, v in results.items()}
        entries.append({"index": index, "name": onnx_model.graph.name, "inputs": inputs,
                        "outputs": outputs, "work_size": work, "weight_size": weight,
                        "variables": list(spec.variables), "assign": dict(spec.assign)})
    path = out / f"{model.name}.om"
    _write_chunks(path, Bundle(var_size, sub_oms).chunks())
    write_reference(out / f"{model.name}.npz", reference)
    return {"graphs": entries, "graph_count": len(entries), "var_size": var_size,
            "variables": layout, "inputs": [], "outputs": [],
            "work_size": None, "weight_size": None}


def _previous_entries(out: Path, target: str, log: Log) -> dict[str, Any]:
    """The previous manifest's entries worth keeping: those of the same target whose files
    are inside ``out`` (an entry naming a file elsewhere is dropped, never followed)."""
    previous = read_manifest(out)
    if not previous or previous.get("target") != target:
        return {}
    models = previous.get("models")
    if not isinstance(models, dict):
        log(f"{out / 'manifest.json'}: no entries by model name; rebuilding every model")
        return {}
    kept = {}
    for name, entry in models.items():
        try:
            if not isinstance(entry, dict):
                raise CatalogError(f"{out / 'manifest.json'}: model {name!r}: the entry is not "
                                   "an object")
            for field in FILE_FIELDS:
                if entry.get(field) is not None:
                    entry_file(out, name, field, entry[field])
        except CatalogError as exc:
            log(f"{name}: the old entry is not used ({str(exc).split('; ')[0]})")
            continue
        kept[name] = entry
    return kept


def _up_to_date(out: Path, old: dict[str, Any] | None, key: str) -> bool:
    """The old entry was built from the same sources and its files are still those built."""
    if not old or old.get("key") != key:
        return False
    if not all((out / old[f]).is_file() for f in FILE_FIELDS if old.get(f)):
        return False
    if not old.get("file"):
        return True
    try:
        return file_digest(out / old["file"]) == old.get("sha256")
    except ValueError:  # not a regular file any more: rebuilt
        return False


def build_catalog(out: Path, names: list[str] | None = None, target: str = "sim",
                  soc: str | None = None, log: Log = print) -> dict[str, Any]:
    """Build (or reuse) the catalog's models in ``out``; return the manifest. A build that
    finds another one building into ``out`` waits for it, then reuses what it built."""
    out.mkdir(parents=True, exist_ok=True)
    catalog_path, models = load_catalog()
    unknown = sorted(set(names or ()) - set(models))
    if unknown:
        raise BuildError(f"unknown model(s) {', '.join(unknown)}; the catalog has "
                         f"{', '.join(models)}")
    with build_lock(out):
        return _build_locked(out, catalog_path, models, names, target, soc, log)


def _build_locked(out: Path, catalog_path: Path, models: dict[str, CatalogModel],
                  names: list[str] | None, target: str, soc: str | None,
                  log: Log) -> dict[str, Any]:
    source = catalog_path.read_bytes()
    old_entries = _previous_entries(out, target, log)
    manifest: dict[str, Any] = {"format": FORMAT, "target": target, "soc": soc,
                                "pytest_acl": __version__, "catalog": str(catalog_path),
                                "models": dict(old_entries)}
    for name in names or list(models):
        model = models[name]
        key = cache_key(source, name, target, soc)
        if _up_to_date(out, old_entries.get(name), key):
            log(f"{name}: up to date")
            continue
        if target == "atc":
            from pytest_acl.models.atc import build_with_atc
            entry = build_with_atc(model, out, soc)
        else:
            entry = (_build_bundle if model.kind == BUNDLE else _build_single)(model, out)
        entry = {"file": f"{name}.om", "reference": f"{name}.npz"} | entry
        entry |= {"name": name, "kind": model.kind, "description": model.description,
                  "key": key, "atc_buildable": model.atc_buildable, "atc_note": model.atc_note}
        if entry["file"]:
            entry["sha256"] = file_sha256(out / entry["file"])
            entry["size"] = (out / entry["file"]).stat().st_size
        manifest["models"][name] = entry
        write_manifest(out, manifest)
        log(f"{name}: built {entry['file']}" if entry["file"] else
            f"{name}: skipped ({entry.get('skipped')})")
    write_manifest(out, manifest)
    return manifest
