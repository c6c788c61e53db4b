"""The catalog a test session uses: read from ``--acl-model-dir``, or built on demand.

On the simulator without ``--acl-model-dir`` the catalog is built into the pytest cache
(``.pytest_cache/d/acl-models``; the build is content-keyed, so it happens once). xdist
workers share it through a file lock: the first builds, the others wait and reuse. On an NPU
backend the models must come from ATC, so a catalog directory is required.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_acl.models.manifest import ModelEntry, read_manifest


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
        try:
            return ModelEntry(self.directory, self.manifest["models"][name])
        except KeyError:
            raise KeyError(f"model {name!r} is not in the catalog at {self.directory} "
                           f"(it has {', '.join(self.names)})") from None


def _build_locked(directory: Path) -> dict[str, Any]:
    from pytest_acl.models.build import build_catalog

    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return build_catalog(directory, log=lambda line: None)


def cache_directory(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("acl-models"))
    return tmp_path_factory.getbasetemp().parent / "acl-models"  # shared by xdist workers


def session_catalog(model_dir: Path | None, backend_name: str, source: str,
                    build_dir: Path) -> ModelCatalog:
    """The catalog for this session, or a UsageError saying how to get one."""
    if model_dir is None:
        if backend_name != "sim":
            raise pytest.UsageError(
                f"--acl-backend {backend_name} needs models built for the device: on the NPU "
                "host run 'pytest-acl models build --target atc --soc SOC --out DIR' and pass "
                "--acl-model-dir DIR")
        return ModelCatalog(build_dir, _build_locked(build_dir))
    manifest = read_manifest(model_dir)
    if manifest is None:
        raise pytest.UsageError(f"--acl-model-dir {model_dir} (from {source}): manifest.json "
                                "is missing or unreadable; rebuild with 'pytest-acl models "
                                "build'")
    if backend_name != "sim" and manifest.get("target") == "sim":
        raise pytest.UsageError(f"--acl-model-dir {model_dir} (from {source}) was built for "
                                "the simulator; a device needs 'pytest-acl models build "
                                "--target atc --soc SOC'")
    return ModelCatalog(model_dir, manifest)
