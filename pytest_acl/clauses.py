"""The clause catalog (``suites/clauses.toml``): every normative statement the suite checks.

Loaded with tomllib and validated (unique ids, known levels, required fields), so a broken
catalog is a clear error instead of silently unchecked clauses. Each clause's ``source``
cites entries of the sources table (``pytest_acl.sources``): ``source_of`` gives a report the
title and link of a clause's first source, ``citations`` all of them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pytest_acl.sources import Citation, Source, cite, default_sources

LEVELS = ("must", "observed")
FIELDS = ("id", "api", "source", "level", "text")


@dataclass(frozen=True)
class Clause:
    id: str
    api: str
    source: str
    level: str
    text: str
    notes: str = ""
    # What a binding must expose to reach the clause at all (e.g. "the C API"), for clauses
    # whose every test skips as "not exposed by this backend" elsewhere; empty: every binding.
    reach: str = ""


class CatalogError(ValueError):
    pass


@lru_cache(maxsize=4)
def load_clauses(path: Path) -> dict[str, Clause]:
    with path.open("rb") as stream:
        data = tomllib.load(stream)
    clauses: dict[str, Clause] = {}
    for index, entry in enumerate(data.get("clause", [])):
        missing = [f for f in FIELDS if not entry.get(f)]
        if missing:
            raise CatalogError(f"{path}: clause #{index + 1} lacks {', '.join(missing)}")
        if entry["level"] not in LEVELS:
            raise CatalogError(f"{path}: clause {entry['id']}: level {entry['level']!r} is not "
                               f"one of {', '.join(LEVELS)}")
        if entry["id"] in clauses:
            raise CatalogError(f"{path}: clause id {entry['id']} appears twice")
        clauses[entry["id"]] = Clause(**{k: entry.get(k, "") for k in (*FIELDS, "notes", "reach")})
    return clauses


def citations(clause: Clause, sources: dict[str, Source] | None = None) -> list[Citation]:
    """Every source the clause cites, in its order, with title and URL (``sources``: the
    table that ships with the catalog unless given)."""
    return cite(clause.source, default_sources() if sources is None else sources)


def source_of(clause: Clause, sources: dict[str, Source] | None = None
              ) -> tuple[str, str | None]:
    """(title, URL) of the clause's first source, for a report's clause table; the URL is
    None for pytest-acl's own checks and for a key the table lacks (the title is then the
    cited text itself)."""
    found = citations(clause, sources)
    if not found:
        return clause.source, None
    first = found[0]
    detail = first.detail
    if detail.startswith("(") and detail.endswith(")"):
        detail = detail[1:-1]
    return (f"{first.title} — {detail}" if detail else first.title), first.url
