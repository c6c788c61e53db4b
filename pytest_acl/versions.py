"""Versions of the Ascend software stack: which CANN toolkit and NPU driver are installed,
and how two CANN versions order.

The installed version is the ``version=`` line of the toolkit's install record,
``<toolkit>/<arch>-linux/ascend_toolkit_install.info`` — the file the build guides of
CANN's open-source repositories tell users to ``cat`` to check their version (docs/build.md,
"2. 环境验证"; the same file is quoted with ``package_name=Ascend-cann-toolkit`` /
``version=8.1.RC1`` lines in many public bug reports). The toolkit is found from
``ASCEND_TOOLKIT_HOME`` / ``ASCEND_HOME_PATH`` (exported by the toolkit's ``set_env.sh``),
from the location of the imported ``acl`` module, then from the default install paths
(``/usr/local/Ascend`` for root, ``~/Ascend`` otherwise, per the same guides). UNCONFIRMED
on an NPU host by this project: an option to state the version is the fallback.

CANN names its releases ``8.0.RC1``, ``8.0.RC2``, … then ``8.0.0``; test builds ``8.0.T6``;
newer pre-releases ``9.2.0-beta.2``. A range bound names the start of a series: ``>=8.0``
admits ``8.0.RC1``, ``<9`` excludes ``9.0.RC1``.

The driver's version is the ``Version=`` line of ``/usr/local/Ascend/driver/version.info``,
the file containers mount from the host next to ``npu-smi`` (vllm-ascend and others' docker
instructions); UNCONFIRMED on an NPU host by this project.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping
from pathlib import Path

INSTALL_INFO = "ascend_toolkit_install.info"
DRIVER_INFO = Path("/usr/local/Ascend/driver/version.info")
DEFAULT_HOMES = tuple(f"{root}/{tree}" for root in ("/usr/local/Ascend", "~/Ascend")
                      for tree in ("cann", "ascend-toolkit/latest"))
HOME_VARIABLES = ("ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH")

# Rank of a component: test builds < alpha < beta < RC < a release number. A missing
# component ranks below all of them (a bound is the start of its series); a "-pre" suffix
# ranks below a missing one (9.2.0-beta.2 comes before 9.2.0).
_TAG_RANKS = {"t": 1, "alpha": 2, "b": 3, "beta": 3, "rc": 4}
_NUMBER_RANK = 5
_MISSING = (0, 0)
_COMPONENT = re.compile(r"^([A-Za-z]*)(\d*)$")


def _component(text: str) -> tuple[int, int]:
    match = _COMPONENT.match(text)
    if match is None or not (match[1] or match[2]):
        raise ValueError(f"{text!r} is not a version component")
    tag, number = match[1].lower(), int(match[2] or 0)
    if not tag:
        return (_NUMBER_RANK, number)
    if tag not in _TAG_RANKS:
        raise ValueError(f"unknown version tag {match[1]!r}")
    return (_TAG_RANKS[tag], number)


def version_key(text: str, length: int = 8) -> tuple[tuple[int, ...], ...]:
    """A sortable key for a CANN version; ValueError if ``text`` is not one."""
    release, _, pre = text.strip().partition("-")
    # (rank, number) per component; a pre-release tag adds a leading -1 (three ints)
    parts: list[tuple[int, ...]] = [_component(p) for p in release.split(".")]
    if pre:
        tags = [_component(p) for p in pre.split(".")]
        parts.append((-1, *tags[0]))  # below a missing component: before the release
        parts += tags[1:]
    if len(parts) > length:
        raise ValueError(f"{text!r} has more than {length} components")
    return tuple(parts + [_MISSING] * (length - len(parts)))


def is_version(text: str) -> bool:
    try:
        version_key(text)
    except ValueError:
        return False
    return True


def read_install_info(path: Path, key: str = "version") -> str | None:
    """The ``key=`` value of an install record, or None if there is none."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition("=")
        if name.strip() == key and value.strip():
            return value.strip()
    return None


def candidate_homes(environ: Mapping[str, str], acl_file: str | None) -> list[Path]:
    homes = [Path(environ[name]) for name in HOME_VARIABLES if environ.get(name)]
    if acl_file:  # pyACL lives inside the toolkit (…/python/site-packages/acl*.so)
        homes += list(Path(acl_file).resolve().parents)
    return homes + [Path(home).expanduser() for home in DEFAULT_HOMES]


def find_cann_version(environ: Mapping[str, str] = os.environ,
                      acl_file: str | None = None,
                      machine: str = platform.machine()) -> str | None:
    """The installed CANN toolkit's version, or None when no install record is found."""
    for home in candidate_homes(environ, acl_file):
        version = read_install_info(home / f"{machine}-linux" / INSTALL_INFO)
        if version is not None:
            return version
    return None


def find_driver_version(info: Path = DRIVER_INFO) -> str | None:
    """The installed NPU driver's version, or None without a driver."""
    return read_install_info(info, "Version")


_VERSION = re.compile(r"^\s*(>=|<=|==|>|<)\s*([0-9][0-9A-Za-z.\-]*)\s*$")


def valid_range(spec: str) -> bool:
    parts = [_VERSION.match(p) for p in spec.split(",") if p.strip()]
    return bool(parts) and all(m is not None and is_version(m[2]) for m in parts)


def in_range(version: str | None, spec: str) -> bool:
    """Whether ``version`` lies in ``spec`` (``>=8.0,<9``); an unknown or unreadable version
    lies in no range, so a version-scoped entry never matches it."""
    if version is None or not is_version(version):
        return False
    for part in filter(None, (p.strip() for p in spec.split(","))):
        op, bound = _VERSION.match(part).groups()  # type: ignore[union-attr]
        a, b = version_key(version), version_key(bound)
        if not {">=": a >= b, "<=": a <= b, "==": a == b, ">": a > b, "<": a < b}[op]:
            return False
    return True


class ByRelease:
    """A value — an observed error code — that differs between CANN releases: version ranges
    (``"<9.1"``, ``">=9.1"``) and the value in each, the first matching range winning
    (reference/cann-behaviour.md). ``for_version`` of an unknown version is None."""

    def __init__(self, by_range: Mapping[str, int]) -> None:
        bad = [spec for spec in by_range if not valid_range(spec)]
        if bad or not by_range:
            raise ValueError(f"not version ranges: {bad or 'none given'}")
        self.by_range = dict(by_range)

    def for_version(self, version: str | None) -> int | None:
        return next((value for spec, value in self.by_range.items()
                     if in_range(version, spec)), None)

    def values(self) -> set[int]:
        return set(self.by_range.values())

    def __repr__(self) -> str:
        return "ByRelease(" + ", ".join(f"{spec}: {value}" for spec, value
                                        in self.by_range.items()) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ByRelease) and other.by_range == self.by_range

    def __hash__(self) -> int:
        return hash(tuple(self.by_range.items()))


def for_release(value: int | ByRelease, version: str | None) -> int | None:
    """``value`` itself, or its value in ``version`` (None: the version decides, and is
    unknown)."""
    return value.for_version(version) if isinstance(value, ByRelease) else value
