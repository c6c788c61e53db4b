"""The CANN releases the simulator follows, as one table of named behaviours.

A behaviour that differs between releases is a row here — its name, the releases that have
it, what it does and where the CANN source says so — and the rules ask the chosen release
``release.has("name")``: no version comparisons inside the rules, and a release takes all of
its rules, never some of one and some of another (reference/cann-behaviour.md, preamble).
Rows that hold for every release here (v8.5.0 to HEAD) are simply the rules.

Chosen with ``PYTEST_ACL_SIM_CANN`` (``8.5``, ``9.0``, ``9.1``; default the newest),
``Simulator(cann=...)`` or ``pytest-acl run-sim --cann``. The simulator reports the release
as its CANN version (results header, expectation files' ``cann`` ranges).
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_acl.versions import version_key

GE = "hicann/ge"


@dataclass(frozen=True)
class Behaviour:
    """A behaviour some releases have: from ``since`` on (until ``until``, if it ended)."""

    name: str
    since: str
    text: str
    source: str
    until: str | None = None

    def in_release(self, version: str) -> bool:
        key = version_key(version)
        return version_key(self.since) <= key and (
            self.until is None or key < version_key(self.until))


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "model_router", "9.1.0",
        "every load, size query and bundle entry first goes through gert::IsOm2Model: a file "
        "or buffer of 1-3 bytes and an empty file give 145006, QuerySizeFromMem of size 0 "
        "gives 100000, and LoadWithConfig probes the PATH attribute before anything else "
        "(a missing file 145002, an empty path without a memory address 100000)",
        f"cann-behaviour.md preamble, §1, §4, §7, §8; {GE} v9.1.0 "
        "api/acl/acl_model/model/acl_model_router.cpp, "
        "runtime/om2/om2_model_executor.cc IsOm2Model 1698-1745"),
    Behaviour(
        "bundle_query_and_init", "9.0.0",
        "the bundle query/init family (aclmdlBundleCreateQueryInfo ... "
        "aclmdlBundleUnloadModel) exists",
        f"acl-api.md §1.5: {GE} inc/external/acl/acl_mdl.h, added in v9.0.0-beta.1 "
        "(commit 571459331), absent in v8.5.0"),
)

_BY_NAME = {behaviour.name: behaviour for behaviour in BEHAVIOURS}
RELEASES = ("8.5.0", "9.0.0", "9.1.0")  # oldest first
DEFAULT_RELEASE = RELEASES[-1]


class UnknownRelease(ValueError):
    pass


@dataclass(frozen=True)
class Release:
    """One CANN release the simulator can follow."""

    version: str

    @property
    def behaviours(self) -> frozenset[str]:
        return frozenset(b.name for b in BEHAVIOURS if b.in_release(self.version))

    def has(self, name: str) -> bool:
        """Whether this release has the behaviour ``name`` (a misspelt name is an error)."""
        behaviour = _BY_NAME.get(name)
        if behaviour is None:
            raise KeyError(f"no CANN behaviour named {name!r}; known: {', '.join(_BY_NAME)}")
        return behaviour.in_release(self.version)

    def __str__(self) -> str:
        return self.version


def release(text: str | None) -> Release:
    """The release ``text`` names (``9.1``, ``9.1.0``, ``v9.1.0``); None or empty: the newest."""
    if text is None or not text.strip():
        return Release(DEFAULT_RELEASE)
    wanted = text.strip().lower().removeprefix("v")
    for version in RELEASES:
        if wanted in (version, version.rsplit(".", 1)[0]):
            return Release(version)
    short = ", ".join(v.rsplit(".", 1)[0] for v in RELEASES)
    raise UnknownRelease(f"{text!r} is not a CANN release the simulator follows; use one of "
                         f"{short} (default {DEFAULT_RELEASE.rsplit('.', 1)[0]})")


def differences() -> list[tuple[str, str, str]]:
    """(behaviour, releases that have it, what it does) — for the README and ``--help``."""
    return [(b.name, ", ".join(v for v in RELEASES if b.in_release(v)), b.text)
            for b in BEHAVIOURS]
