"""Reusable checks of the suites: outputs against the reference, codes by clause level,
device memory in use, bytes of a device buffer.

``Expect`` (the ``acl_expect`` fixture) knows the clause catalog: a ``must`` clause that does
not hold fails the test; an ``observed`` clause (an exact error code of the reference
implementation) that does not hold is recorded as behaviour drift — the test finishes and is
reported as DRIFT, failing only with ``--acl-strict-codes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from pytest_acl.buffers import copy_from_device
from pytest_acl.clauses import Clause
from pytest_acl.constants import MemAttr, describe

if TYPE_CHECKING:  # numpy loads with the first check, not with the plugin
    import numpy as np

DRIFTS = pytest.StashKey[list[str]]()
RTOL, ATOL = 1e-4, 1e-5


@dataclass
class Expect:
    item: pytest.Item
    clauses: dict[str, Clause]
    drifts: list[str] = field(default_factory=list)

    def code(self, seen: int, expected: int, clause: str) -> None:
        """``seen`` must be ``expected`` under ``clause`` (observed: drift, must: failure)."""
        if clause not in self.clauses:
            raise AssertionError(f"unknown clause {clause!r}")
        if seen == expected:
            return
        message = (f"{clause}: expected {describe(expected)}, saw {describe(seen)} — "
                   f"{self.clauses[clause].text}")
        if self.clauses[clause].level == "must":
            raise AssertionError(message)
        self.item.stash.setdefault(DRIFTS, []).append(message)


def refused(ret: int, what: str) -> None:
    """A failure is any non-zero aclError (the documented return convention)."""
    assert ret != 0, f"{what} succeeded; it must be refused"


def outputs_match(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    import numpy as np

    assert list(actual) == list(expected), f"outputs {list(actual)} ≠ {list(expected)}"
    for name, reference in expected.items():
        np.testing.assert_allclose(actual[name], reference, rtol=RTOL, atol=ATOL,
                                   err_msg=f"output {name!r} differs from the reference")


def device_used(acl: ModuleType) -> int:
    free, total, ret = acl.rt.get_mem_info(MemAttr.ACL_HBM_MEM)
    assert ret == 0, f"acl.rt.get_mem_info returned {describe(ret)}"
    return total - free


def device_bytes(acl: ModuleType, ptr: int, size: int) -> bytes:
    return copy_from_device(acl, ptr, size)
