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
import os
import subprocess
import sys
from pathlib import Path

from pytest_acl import __version__

CANONICAL_PREFIX = "suites/"
FINGERPRINTED = ("*.py", "*.toml")


class SuiteUnavailable(Exception):
    """This installation has no conformance suite, or it cannot be collected."""


def suite_dir() -> Path | None:
    """The conformance suite that ships with this pytest-acl (``suites/`` of the checkout)."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "suites", package.parent / "suites"):
        if (candidate / "clauses.toml").is_file():
            return candidate
    return None


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
    catalog = directory.parent / "fixtures" / "catalog.py"
    for path in [*files, *([catalog] if catalog.is_file() else [])]:
        name = path.relative_to(directory.parent).as_posix()
        digest.update(f"{name}\n{len(path.read_bytes())}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def node_prefix(rootpath: Path, directory: Path | None = None) -> str | None:
    """How node ids of this session begin for the suite's files (``"suites/"`` when pytest
    starts in the checkout), or None when the suite is not under the session's root."""
    directory = directory or suite_dir()
    if directory is None:
        return None
    try:
        relative = directory.resolve().relative_to(rootpath.resolve())
    except ValueError:
        return None
    return "" if relative == Path(".") else relative.as_posix() + "/"


def canonical(nodeid: str, prefix: str | None) -> str:
    """The suite-relative id of a node id from a session whose suite prefix is ``prefix``."""
    if prefix is None or not nodeid.startswith(prefix):
        return nodeid
    return CANONICAL_PREFIX + nodeid[len(prefix):]


def collect(level: str, directory: Path | None = None, timeout: float = 600) -> list[str]:
    """The canonical ids of the tests a run of the suite at ``level`` has, as pytest
    collects them (in a clean subprocess: no PYTEST_ACL_* or PYTEST_ADDOPTS of the caller)."""
    directory = directory or suite_dir()
    if directory is None:
        raise SuiteUnavailable("this pytest-acl installation has no conformance suite")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTEST_ACL_", "PYTEST_ADDOPTS", "PYTEST_XDIST"))}
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
               "--rootdir", str(directory.parent), "--acl-level", level, str(directory)]
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
