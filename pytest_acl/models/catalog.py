"""Find and load the fixture-model catalog (``fixtures/catalog.py`` of the repository).

The catalog lives in the repository's ``fixtures/`` and ships as the package
``pytest_acl.fixture_catalog``: it is looked up in ``PYTEST_ACL_FIXTURES`` (a directory, to
build another catalog), then in that package (a checkout, an editable install or a wheel).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from pytest_acl.models.spec import CatalogModel

CATALOG_FILE = "catalog.py"


class CatalogNotFound(FileNotFoundError):
    pass


def catalog_dir() -> Path:
    from pytest_acl.suite import package_dir

    candidates = []
    if env := os.environ.get("PYTEST_ACL_FIXTURES"):
        candidates.append(Path(env))
    if shipped := package_dir("pytest_acl.fixture_catalog"):
        candidates.append(shipped)
    for candidate in candidates:
        if (candidate / CATALOG_FILE).is_file():
            return candidate
    raise CatalogNotFound("no fixtures/catalog.py found (looked in: "
                          + ", ".join(map(str, candidates))
                          + "); reinstall pytest-acl, or set PYTEST_ACL_FIXTURES to a "
                          "directory holding a catalog.py")


def load_catalog(directory: Path | None = None) -> tuple[Path, dict[str, CatalogModel]]:
    """The catalog file and its models by name."""
    path = (directory or catalog_dir()) / CATALOG_FILE
    spec = importlib.util.spec_from_file_location("pytest_acl_fixture_catalog", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return path, {model.name: model for model in module.MODELS}
