"""The clause catalog (``suites/clauses.toml``): every normative statement the suite checks.

Loaded with tomllib and validated (unique ids, known levels, required fields), so a broken
catalog is a clear error instead of silently unchecked clauses.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
        clauses[entry["id"]] = Clause(**{k: entry.get(k, "") for k in (*FIELDS, "notes")})
    return clauses
