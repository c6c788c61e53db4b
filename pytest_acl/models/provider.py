"""The catalog a test session uses: read from ``--acl-model-dir``, or built on demand.

On the simulator without ``--acl-model-dir`` the catalog is built into the pytest cache
(``.pytest_cache/d/acl-models``; the build is content-keyed, so it happens once). xdist
workers share it through the build's file lock: the first builds, the others wait and reuse.
On an NPU backend the models must come from ATC, so a catalog directory is required.

Either way the catalog is checked before a test uses it: every file its manifest names is
inside its directory, and every model file has the SHA-256 recorded at build time (hashed
once per file and process, and again only if the file changes). A catalog that fails is a
``pytest.UsageError`` saying what is wrong and how to rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_acl.models.manifest import (
    CatalogError,
    ModelEntry,
    check_manifest,
    read_manifest,
    verify_model_file,
)


@dataclass(frozen=True)
class ModelCatalog:
    """The built catalog: ``catalog["mlp"].path``, ``.inputs()``, ``.outputs()``, sizes."""

    directory: Path
    manifest: dict[str, Any]

    def __repr__(self) -> str:  # short: it shows in failure reports
        return (f"ModelCatalog({len(self.manifest['models'])} models, target "
                f"{self.manifest.get('target')!r}, in {str(self.directory)!r})")

    @property
    def target(self) -> str:
        return self.manifest["target"]

    @property
    def names(self) -> list[str]:
        return sorted(self.manifest["models"])

    def __getitem__(self, name: str) -> ModelEntry:
        """The entry of model ``name``, its file checked against the manifest's SHA-256
        (a stat when the file has not changed since it was hashed)."""
        try:
            data = self.manifest["models"][name]
        except KeyError:
            raise KeyError(f"model {name!r} is not in the catalog at {self.directory} "
                           f"(it has {', '.join(self.names)})") from None
        try:
            verify_model_file(self.directory, name, data, self.manifest)
        except CatalogError as exc:
            raise pytest.UsageError(str(exc)) from None
        return ModelEntry(self.directory, data)

    def verify(self, context: str = "") -> None:
        """A ``pytest.UsageError`` (its message after ``context``) unless every entry's files
        are inside the directory and every model file is the one built."""
        try:
            check_manifest(self.directory, self.manifest)
            for name, entry in self.manifest["models"].items():
                verify_model_file(self.directory, name, entry, self.manifest)
        except CatalogError as exc:
            raise pytest.UsageError(f"{context}{exc}") from None


def _build_locked(directory: Path) -> dict[str, Any]:
    """Build (or reuse) the catalog in ``directory``; concurrent callers take turns on the
    build's lock."""
    from pytest_acl.models.build import build_catalog

    return build_catalog(directory, log=lambda line: None)


def cache_directory(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("acl-models"))
    return tmp_path_factory.getbasetemp().parent / "acl-models"  # shared by xdist workers


def session_catalog(model_dir: Path | None, backend_name: str, source: str,
                    build_dir: Path, simulated: bool | None = None) -> ModelCatalog:
    """The catalog for this session, or a UsageError saying how to get one. ``simulated``:
    the backend runs the simulator, whose own builds it loads (default: it is ``sim``)."""
    simulated = backend_name == "sim" if simulated is None else simulated
    if model_dir is None:
        if not simulated:
            raise pytest.UsageError(
                f"--acl-backend {backend_name} needs models built for the device: on the NPU "
                "host run 'pytest-acl models build --target atc --soc SOC --out DIR' and pass "
                "--acl-model-dir DIR")
        catalog = ModelCatalog(build_dir, _build_locked(build_dir))
        catalog.verify()
        return catalog
    manifest = read_manifest(model_dir)
    if manifest is None:
        raise pytest.UsageError(f"--acl-model-dir {model_dir} (from {source}): manifest.json "
                                "is missing or unreadable; rebuild with 'pytest-acl models "
                                "build'")
    if not simulated and manifest.get("target") == "sim":
        raise pytest.UsageError(f"--acl-model-dir {model_dir} (from {source}) was built for "
                                "the simulator; a device needs 'pytest-acl models build "
                                "--target atc --soc SOC'")
    catalog = ModelCatalog(model_dir, manifest)
    catalog.verify(f"--acl-model-dir {model_dir} (from {source}): ")
    return catalog
