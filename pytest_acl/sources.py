"""The sources the clause catalog cites (``suites/sources.toml``), so a reader can open them.

A clause's ``source`` names pages and files by a stable key (``seed:aclmdlLoadFromMem``,
``ge:api/acl/acl_model/model/model.cpp``) or by an https URL, never by a path that exists
only on the machine that wrote it. The table ships with the catalog, so an installed
report can show each source's title and link; ``docs/sources.md`` is the same table for
readers of the repository, written by ``python -m pytest_acl.sources``.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FIELDS = ("key", "title", "url", "taken")
URL_PREFIX = "https://"
SEPARATOR = ";"  # between the citations of one clause's source


class SourcesError(ValueError):
    pass


@dataclass(frozen=True)
class Source:
    """One cited page or file: its key, title, public URL (None for pytest-acl's own checks,
    described in ``taken``) and what the suite took from it."""

    key: str
    title: str
    url: str | None
    taken: str


@dataclass(frozen=True)
class Citation:
    """One part of a clause's ``source``: a key (or URL) and what of it (a section, a
    function, the words quoted), with the title and URL the reader opens."""

    key: str
    detail: str
    title: str
    url: str | None
    known: bool  # the key is in the sources table, or an https URL


@lru_cache(maxsize=4)
def load_sources(path: Path) -> dict[str, Source]:
    """The sources table at ``path``; a malformed one is a :class:`SourcesError`."""
    with path.open("rb") as stream:
        data = tomllib.load(stream)
    unknown = sorted(set(data) - {"source"})
    if unknown:
        raise SourcesError(f"{path}: unknown table or key {', '.join(unknown)}; entries are "
                           "[[source]] tables")
    sources: dict[str, Source] = {}
    for index, entry in enumerate(data.get("source", []), 1):
        where = f"{path}: source #{index} ({entry.get('key', 'no key')})"
        missing = [name for name in FIELDS if name != "url" and not entry.get(name)]
        if missing:
            raise SourcesError(f"{where} lacks {', '.join(missing)}")
        extra = sorted(set(entry) - set(FIELDS))
        if extra:
            raise SourcesError(f"{where}: unknown key {', '.join(extra)}; the keys are "
                               f"{', '.join(FIELDS)}")
        url = entry.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(URL_PREFIX)):
            raise SourcesError(f"{where}: url must be an https URL")
        if url is None and not entry["key"].startswith("pytest-acl:"):
            raise SourcesError(f"{where} lacks url (only pytest-acl's own checks have none)")
        if " " in entry["key"] or SEPARATOR in entry["key"]:
            raise SourcesError(f"{where}: a key has no spaces or '{SEPARATOR}'")
        if entry["key"] in sources:
            raise SourcesError(f"{where}: key {entry['key']} appears twice")
        sources[entry["key"]] = Source(entry["key"], entry["title"], url, entry["taken"])
    return sources


def default_sources() -> dict[str, Source]:
    """The table that ships next to this installation's clause catalog (empty without one)."""
    from pytest_acl.suite import suite_dir

    directory = suite_dir()
    path = directory / "sources.toml" if directory is not None else None
    return load_sources(path) if path is not None and path.is_file() else {}


def cite(source: str, sources: dict[str, Source]) -> list[Citation]:
    """A clause's ``source`` text — citations separated by ``;``, each a key or an https URL
    followed by what of it — as citations with their titles and URLs."""
    citations = []
    for part in (text.strip() for text in source.split(SEPARATOR)):
        if not part:
            continue
        key, _, detail = part.partition(" ")
        detail = detail.strip()
        entry = sources.get(key)
        if entry is not None:
            citations.append(Citation(key, detail, entry.title, entry.url, True))
        elif key.startswith(URL_PREFIX):
            citations.append(Citation(key, detail, key, key, True))
        else:
            citations.append(Citation(part, "", part, None, False))
    return citations


def render_markdown(sources: dict[str, Source]) -> str:
    """``docs/sources.md``: every source with its title, link and what was taken from it."""
    lines = [
        "# Sources of the clause catalog",
        "",
        "Every clause of `suites/clauses.toml` cites its sources by the keys below (or by an",
        "https URL). This page is generated from `suites/sources.toml`, which ships with the",
        "catalog: run `python -m pytest_acl.sources > docs/sources.md` after editing it.",
        "`tests/test_clauses.py` checks that every cited key is listed here and every key",
        "listed here is cited.",
        "",
        "Keys: `seed:` the five vendor pages the project started from; `ge:` a file of",
        "[hicann/ge](https://github.com/hicann/ge) and `runtime:` a file of",
        "[hicann/runtime](https://github.com/hicann/runtime), each at the commit its link",
        "names; `cann:` a page of the CANN documentation on hiascend.com; `pytest-acl:` a",
        "check of this project's own.",
        "",
    ]
    for source in sources.values():
        link = f"[{source.title}]({source.url})" if source.url else f"{source.title} (no link)"
        lines += [f"## `{source.key}`", "", link, "", source.taken, ""]
    return "\n".join(lines)


def main() -> int:
    sys.stdout.write(render_markdown(default_sources()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
