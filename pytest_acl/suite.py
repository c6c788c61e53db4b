"""The conformance suite as an artifact: where it is, what it is (a hash) and what it holds.

``pytest-acl verify`` judges a bundle against *its own* suite — never against lists inside
the bundle — so it needs the suite's location, a fingerprint to prove the run used the same
suite, and the list of tests a run of it at a level must have (collected by pytest itself,
in a subprocess).

Tests are compared by a canonical id: ``suites/<path in the suite>::<name>``, whatever the
directory the run started in (the run's header records the node-id prefix of its suite).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pytest_acl import __version__

CANONICAL_PREFIX = "suites/"
FINGERPRINTED = ("*.py", "*.toml", "*.ini")


class SuiteUnavailable(Exception):
    """This installation has no conformance suite, or it cannot be collected."""


def package_dir(name: str) -> Path | None:
    """Where a (sub)package of this distribution lives: ``pytest_acl.suites`` is ``suites/``
    in a checkout or an editable install, ``site-packages/pytest_acl/suites`` in a wheel."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]).resolve() if locations else None


def suite_dir() -> Path | None:
    """The conformance suite that ships with this pytest-acl."""
    directory = package_dir("pytest_acl.suites")
    return directory if directory and (directory / "clauses.toml").is_file() else None


def catalog_file() -> Path | None:
    directory = suite_dir()
    return directory / "clauses.toml" if directory is not None else None


def suite_hash(directory: Path | None = None) -> str | None:
    """SHA-256 over the suite's files (sources and clause catalog) and the fixture-model
    catalog: two runs with the same hash ran the same tests with the same expectations."""
    directory = directory or suite_dir()
    if directory is None:
        return None
    digest = hashlib.sha256(f"pytest-acl {__version__}\n".encode())
    files = sorted({path for pattern in FINGERPRINTED for path in directory.rglob(pattern)
                    if "__pycache__" not in path.parts})
    catalog_directory = package_dir("pytest_acl.fixture_catalog")
    catalog = [catalog_directory / "catalog.py"] if catalog_directory else []
    for path in [*files, *(c for c in catalog if c.is_file())]:
        name = ("suites/" + path.relative_to(directory).as_posix() if directory in path.parents
                else "fixtures/" + path.name)
        digest.update(f"{name}\n{len(path.read_bytes())}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _initial_paths(config: Any) -> list[Path]:
    """The paths the session's arguments name (``--pyargs`` modules resolved), as pytest
    names nodes outside its root relative to them."""
    paths = []
    for arg in config.args:
        text = str(arg).split("::")[0]
        if getattr(config.option, "pyargs", False) and package_dir(text) is not None:
            paths.append(package_dir(text))
        else:
            paths.append((config.invocation_params.dir / text).resolve())
    return [path for path in paths if path is not None]


def node_prefix(config: Any, directory: Path | None = None) -> str | None:
    """How the node ids of this session begin for the suite's files: ``"suites/"`` when
    pytest starts in the checkout, ``""`` when the suite itself is the root or the argument
    (``--pyargs pytest_acl.suites``); None when the session does not run this suite."""
    directory = directory or suite_dir()
    if directory is None:
        return None
    try:
        relative = directory.relative_to(config.rootpath.resolve())
        return "" if relative == Path(".") else relative.as_posix() + "/"
    except ValueError:
        pass
    for path in _initial_paths(config):
        if path == directory:
            return ""
        if path in directory.parents:
            return directory.relative_to(path).as_posix() + "/"
    return None


def canonical(nodeid: str, prefix: str | None) -> str:
    """The suite-relative id of a node id from a session whose suite prefix is ``prefix``."""
    if prefix is None or not nodeid.startswith(prefix):
        return nodeid
    return CANONICAL_PREFIX + nodeid[len(prefix):]


def collect(level: str, directory: Path | None = None, timeout: float = 600,
            backends: str | None = None) -> list[str]:
    """The canonical ids of the tests a run of the suite at ``level`` has, as pytest
    collects them (in a clean subprocess: no PYTEST_ACL_* or PYTEST_ADDOPTS of the caller);
    ``backends``: a parity run's bindings (``sim,capi``), whose ids carry the binding."""
    directory = directory or suite_dir()
    if directory is None:
        raise SuiteUnavailable("this pytest-acl installation has no conformance suite")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTEST_ACL_", "PYTEST_ADDOPTS", "PYTEST_XDIST"))}
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
               "--rootdir", str(directory.parent), "--acl-level", level, str(directory),
               *(["--acl-backend", backends] if backends else [])]
    try:
        result = subprocess.run(command, cwd=directory.parent, env=env, capture_output=True,
                                text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SuiteUnavailable(f"collecting the suite failed: {exc}") from None
    prefix = directory.name + "/"
    ids = [canonical(line.strip(), prefix) for line in result.stdout.splitlines()
           if line.startswith(prefix) and "::" in line]
    if result.returncode != 0 or not ids:
        raise SuiteUnavailable(f"collecting the suite at {directory} failed (pytest exit "
                               f"{result.returncode}):\n{(result.stdout + result.stderr)[-2000:]}")
    return ids
