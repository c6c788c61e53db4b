"""Find and load the fixture-model catalog (``fixtures/catalog.py`` of the repository).

The catalog is repository content, like ``suites/``: it is looked up in
``PYTEST_ACL_FIXTURES`` (a directory), then next to the installed package (a checkout or an
editable install), then in the current directory.
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
    candidates = []
    if env := os.environ.get("PYTEST_ACL_FIXTURES"):
        candidates.append(Path(env))
    candidates += [Path(__file__).resolve().parents[2] / "fixtures", Path.cwd() / "fixtures"]
    for candidate in candidates:
        if (candidate / CATALOG_FILE).is_file():
            return candidate
    raise CatalogNotFound("no fixtures/catalog.py found (looked in: "
                          + ", ".join(map(str, candidates))
                          + "); run from a pytest-acl checkout or set PYTEST_ACL_FIXTURES")


def load_catalog(directory: Path | None = None) -> tuple[Path, dict[str, CatalogModel]]:
    """The catalog file and its models by name."""
    path = (directory or catalog_dir()) / CATALOG_FILE
    spec = importlib.util.spec_from_file_location("pytest_acl_fixture_catalog", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return path, {model.name: model for model in module.MODELS}
