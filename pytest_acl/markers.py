"""The ``acl_*`` markers: their documentation, argument checks and what they decide.

Arguments are checked at collection (a wrong marker is a ``pytest.UsageError`` quoting the
marker's signature, as labgrid does); skips are decided from the backend module actually in
use — never from a fixed per-backend list, since pyACL builds differ.
"""

from __future__ import annotations

import fnmatch
import re
from types import ModuleType

import pytest

MARKERS = {
    "acl_clause": "acl_clause(*ids): the clause ids of suites/clauses.toml this test checks.",
    "acl_requires": "acl_requires(*api_names): skip, naming what is missing, unless the "
                    "backend module has every API, e.g. 'mdl.bundle_load_model_with_mem'.",
    "acl_soc": "acl_soc(*patterns): run only on SoCs matching one of the fnmatch patterns, "
               "e.g. 'Ascend910B*'; skip elsewhere.",
    "acl_leak_check": "acl_leak_check: fail the test when device memory in use, live contexts "
                      "or live streams differ after it from before it.",
}
_CLAUSE_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
# pyACL names are snake_case; acl.capi holds the C functions under their C names.
_API_NAME = re.compile(r"^(acl\.)?[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*(\.acl[A-Za-z0-9_]+)?$")


def register(config: pytest.Config) -> None:
    for text in MARKERS.values():
        config.addinivalue_line("markers", text)


def _strings(item: pytest.Item, name: str, pattern: re.Pattern[str] | None,
             what: str) -> list[str]:
    values: list[str] = []
    for mark in item.iter_markers(name):
        if mark.kwargs or not mark.args:
            raise pytest.UsageError(f"{item.nodeid}: expected {MARKERS[name].split(':')[0]} "
                                    f"with at least one {what}, got args={mark.args!r} "
                                    f"kwargs={mark.kwargs!r}")
        for value in mark.args:
            if not isinstance(value, str) or (pattern and not pattern.match(value)):
                raise pytest.UsageError(f"{item.nodeid}: {name}: {value!r} is not a valid "
                                        f"{what}")
            values.append(value)
    return values


def clause_ids(item: pytest.Item) -> list[str]:
    return _strings(item, "acl_clause", _CLAUSE_ID,
                    "clause id (lower-case words joined by dots, e.g. 'rt.malloc.size_zero')")


def required_apis(item: pytest.Item) -> list[str]:
    return _strings(item, "acl_requires", _API_NAME,
                    "API name (e.g. 'mdl.bundle_load_model_with_mem', 'acl.rt.malloc' or "
                    "'capi.aclmdlQuerySize')")


def soc_patterns(item: pytest.Item) -> list[str]:
    return _strings(item, "acl_soc", None, "SoC pattern (a string such as 'Ascend910B*')")


def validate(item: pytest.Item) -> None:
    """Check every acl_* marker of ``item``; raise UsageError for the first bad one."""
    clause_ids(item)
    required_apis(item)
    soc_patterns(item)
    for mark in item.iter_markers("acl_leak_check"):
        if mark.args or mark.kwargs:
            raise pytest.UsageError(f"{item.nodeid}: acl_leak_check takes no arguments")


def missing_apis(module: ModuleType, names: list[str]) -> list[str]:
    """The names, as ``acl.x.y``, that ``module`` does not expose — or exposes only as the
    simulator's stub for a function outside its scope, which answers every call with
    ACL_ERROR_API_NOT_SUPPORT (sim/surface.py)."""
    missing = []
    for name in names:
        path = name.removeprefix("acl.").split(".")
        target: object = module
        for part in path:
            target = getattr(target, part, None)
            if target is None:
                break
        if target is None or not callable(target) or getattr(target, "pyacl_stub", False):
            missing.append("acl." + ".".join(path))
    return missing


def soc_matches(soc: str | None, patterns: list[str]) -> bool:
    return soc is not None and any(fnmatch.fnmatchcase(soc, p) for p in patterns)
