"""The manifest of a model build (``DIR/manifest.json``) and typed access to it.

One entry per model: file, kind, inputs/outputs (names, shapes, dtypes, byte sizes), the
reference arrays (npz, loaded with ``allow_pickle=False``), the sizes expected from the file,
graph count and variable size for bundles, and content hashes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST = "manifest.json"
FORMAT = 1


def read_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def write_manifest(directory: Path, data: dict[str, Any]) -> None:
    """Write atomically, so an interrupted build never leaves a half manifest."""
    temporary = directory / f".{MANIFEST}.{os.getpid()}"
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    temporary.replace(directory / MANIFEST)


_REFERENCES: dict[tuple[Path, int, int], dict[str, np.ndarray]] = {}


def _load_reference(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a reference npz, read once per file version (a suite reads each
    model's references hundreds of times)."""
    status = path.stat()
    key = (path, status.st_mtime_ns, status.st_size)
    if key not in _REFERENCES:
        with np.load(path, allow_pickle=False) as arrays:
            _REFERENCES[key] = {name: arrays[name] for name in arrays.files}
    return _REFERENCES[key]


def reference_key(graph: int | None, direction: str, name: str) -> str:
    """npz key of a reference array: ``in:x`` / ``out:y``, ``g1/in:x`` in bundles."""
    return f"{'' if graph is None else f'g{graph}/'}{direction}:{name}"


def write_reference(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Save reference arrays (by :func:`reference_key`) as an npz; without pickles, as
    :meth:`ModelEntry.reference` reads them."""
    np.savez(path, allow_pickle=False, **arrays)


@dataclass(frozen=True)
class ModelEntry:
    """One model of a built catalog, as the suites use it."""

    directory: Path
    data: dict[str, Any]

    def __repr__(self) -> str:  # short: it shows in failure reports
        return f"ModelEntry({self.name!r} in {str(self.directory)!r})"

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def path(self) -> Path:
        return self.directory / self.data["file"]

    @property
    def work_size(self) -> int:
        return self.data["work_size"]

    @property
    def weight_size(self) -> int:
        return self.data["weight_size"]

    def reference(self) -> dict[str, np.ndarray]:
        """Fresh copies of the reference arrays (a test may change what it gets)."""
        return {key: array.copy() for key, array in
                _load_reference(self.directory / self.data["reference"]).items()}

    def inputs(self, graph: int | None = None) -> dict[str, np.ndarray]:
        prefix = reference_key(graph, "in", "")
        return {k[len(prefix):]: v for k, v in self.reference().items() if k.startswith(prefix)}

    def outputs(self, graph: int | None = None) -> dict[str, np.ndarray]:
        prefix = reference_key(graph, "out", "")
        return {k[len(prefix):]: v for k, v in self.reference().items() if k.startswith(prefix)}
