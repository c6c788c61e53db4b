"""The valid inputs the fuzzer mutates: the small fixture models and the bundle of the catalog
(the simulator's compiler builds them; each carries an executable graph, so what loads also
runs), plus graph-less models built in code (what an ATC-built model looks like to the
simulator) and a bundle of them.

``bigweights`` is left out: copying its 64 MiB for every input would make the budget about
memory bandwidth, and its container is the same as ``mlp``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_acl.fuzz.mutators import BUNDLE, MODEL
from pytest_acl.models.manifest import read_manifest

CATALOG_MODELS = ("mlp", "conv", "noweights", "multi_io", "dyn_shape", "dyn_batch", "dyn_hw",
                  "bundle3")


@dataclass(frozen=True)
class Base:
    name: str
    kind: str  # mutators.MODEL or mutators.BUNDLE
    data: bytes


def sample_bases() -> list[Base]:
    """Models built in code, without the simulator's graph (no onnx needed)."""
    from pytest_acl.om.bundle import Bundle
    from pytest_acl.om.samples import static_model

    static = static_model().to_bytes()
    return [Base("sample", MODEL, static),
            Base("sample_tiny_table", MODEL, static_model(wide=False).to_bytes()),
            Base("sample_bundle", BUNDLE, Bundle(64, [static, static]).to_bytes())]


def catalog_bases(directory: Path) -> list[Base]:
    """The fuzzed models of a built catalog (``pytest-acl models build``'s directory)."""
    manifest = read_manifest(directory)
    if manifest is None:
        raise FileNotFoundError(f"{directory}: no manifest.json (build the catalog with "
                                "'pytest-acl models build --out DIR')")
    found = []
    for name in CATALOG_MODELS:
        entry = manifest["models"].get(name)
        if not entry or not entry.get("file"):
            continue
        kind = BUNDLE if entry.get("kind") == "bundle" else MODEL
        found.append(Base(name, kind, (directory / entry["file"]).read_bytes()))
    if not found:
        raise FileNotFoundError(f"{directory}: none of {', '.join(CATALOG_MODELS)} is built")
    return found


def build_bases(directory: Path) -> list[Base]:
    """Build (or reuse) the fuzzed catalog models in ``directory``; every base."""
    from pytest_acl.models.build import build_catalog

    build_catalog(directory, list(CATALOG_MODELS), log=lambda line: None)
    return catalog_bases(directory) + sample_bases()
