"""What the simulated machine looks like: device count, SoC name, HBM capacity, and the CANN
release whose behaviour it follows (releases.py).

Read from ``PYTEST_ACL_SIM_DEVICES`` (default 2), ``PYTEST_ACL_SIM_SOC``,
``PYTEST_ACL_SIM_HBM`` (bytes, or with a unit: ``32GiB``, ``512MiB``, ``64GB``) and
``PYTEST_ACL_SIM_CANN`` (``8.5``, ``9.0``, ``9.1``; default the newest). A bad value
raises :class:`SimConfigError` naming the variable, the value and what would be right.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from pytest_acl.sim.releases import DEFAULT_RELEASE, UnknownRelease, release

DEFAULT_DEVICE_COUNT = 2
# Atlas A2 (910B) is the first product on every seed page's support list.
DEFAULT_SOC = "Ascend910B1"
DEFAULT_HBM = 64 * 2**30
MAX_DEVICE_COUNT = 64
MIN_HBM = 2**20
# Device address space per device (see devmem.py); capacity must fit in it.
MAX_HBM = 2**40

_UNITS = {"": 1, "B": 1, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


class SimConfigError(ValueError):
    """A simulator setting that cannot be used; the message says what would be right."""


def parse_size(text: str) -> int:
    """``"32GiB"`` → 34359738368. Accepts bytes or B/KiB/MiB/GiB/TiB, KB/MB/GB/TB, K/M/G/T."""
    match = _SIZE.match(text)
    unit = match.group(2).upper() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size; use bytes or a unit such as 32GiB or 512MiB")
    return int(Fraction(match.group(1)) * _UNITS[unit])  # exact: no float rounding/overflow


@dataclass(frozen=True)
class SimConfig:
    """The simulated machine. Run mode is always ACL_HOST (an EP card in a host)."""

    device_count: int = DEFAULT_DEVICE_COUNT
    soc_name: str = DEFAULT_SOC
    hbm_bytes: int = DEFAULT_HBM
    cann: str = DEFAULT_RELEASE  # canonical: "8.5" becomes "8.5.0"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "cann", release(self.cann).version)
        except UnknownRelease as exc:
            raise SimConfigError(str(exc)) from None
        if not 1 <= self.device_count <= MAX_DEVICE_COUNT:
            raise SimConfigError(f"device count {self.device_count} is out of range; "
                                 f"use 1 to {MAX_DEVICE_COUNT}")
        if not MIN_HBM <= self.hbm_bytes <= MAX_HBM:
            raise SimConfigError(f"HBM capacity {self.hbm_bytes} bytes is out of range; "
                                 "use 1MiB to 1TiB")
        if not self.soc_name.strip():
            raise SimConfigError("SoC name is empty; use a name such as Ascend910B1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimConfig:
        """The configuration ``PYTEST_ACL_SIM_*`` variables describe (defaults otherwise)."""
        env = os.environ if environ is None else environ
        count, soc, hbm = DEFAULT_DEVICE_COUNT, DEFAULT_SOC, DEFAULT_HBM
        try:
            cann = release(env.get("PYTEST_ACL_SIM_CANN")).version
        except UnknownRelease as exc:
            raise SimConfigError(f"PYTEST_ACL_SIM_CANN: {exc}") from None
        if raw := env.get("PYTEST_ACL_SIM_DEVICES", "").strip():
            if not re.fullmatch(r"[0-9]+", raw) or not 1 <= int(raw) <= MAX_DEVICE_COUNT:
                raise SimConfigError(f"PYTEST_ACL_SIM_DEVICES={raw!r} is not a device count; "
                                     f"use a whole number from 1 to {MAX_DEVICE_COUNT}")
            count = int(raw)
        if raw := env.get("PYTEST_ACL_SIM_SOC", "").strip():
            soc = raw
        if raw := env.get("PYTEST_ACL_SIM_HBM", "").strip():
            try:
                hbm = parse_size(raw)
            except ValueError as exc:
                raise SimConfigError(f"PYTEST_ACL_SIM_HBM: {exc}") from None
            if not MIN_HBM <= hbm <= MAX_HBM:
                raise SimConfigError(f"PYTEST_ACL_SIM_HBM={raw!r} is {hbm} bytes, out of range; "
                                     "use 1MiB to 1TiB")
        return cls(count, soc, hbm, cann)
