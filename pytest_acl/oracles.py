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
from pytest_acl.versions import ByRelease

if TYPE_CHECKING:  # numpy loads with the first check, not with the plugin
    import numpy as np

    from pytest_acl.variants import Loaded

DRIFTS = pytest.StashKey[list[str]]()
OBSERVED = pytest.StashKey[dict[str, object]]()
RTOL, ATOL = 1e-4, 1e-5


@dataclass
class Expect:
    item: pytest.Item
    clauses: dict[str, Clause]
    drifts: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # short: it shows in failure reports
        return f"Expect({self.item.nodeid!r}, {len(self.clauses)} clauses)"

    def code(self, seen: int, expected: int | ByRelease, clause: str) -> None:
        """The aclError ``seen`` must be ``expected`` under ``clause`` — a code that differs
        between CANN releases is the one of the backend's release; when that release is
        unknown, any of them is taken."""
        __tracebackhide__ = True
        self._known(clause)
        if isinstance(expected, ByRelease):
            from pytest_acl.state import get_state

            version = get_state(self.item.config).cann_version()[0]
            chosen = expected.for_version(version)
            if chosen is None:
                if seen in expected.values():
                    return
                self._differs(f"expected one of {expected} (CANN version unknown), saw "
                              f"{describe(seen)}", clause)
                return
            expected = chosen
        self.value(seen, expected, clause, show=describe)

    def refusal(self, seen: int, code: int | ByRelease, refused: str, code_clause: str) -> None:
        """A call the documents say is refused: accepting it (``ACL_SUCCESS``) breaks the
        ``refused`` clause (a must: the test fails); the exact ``code`` is the
        ``code_clause``'s (observed: drift)."""
        __tracebackhide__ = True
        self._known(refused)
        if seen == 0:
            self._differs("the call was accepted (ACL_SUCCESS); it must be refused", refused)
        self.code(seen, code, code_clause)

    def value(self, seen: object, expected: object, clause: str, show=repr) -> None:
        """``seen`` must equal ``expected`` under ``clause`` (observed: drift, must: failure)."""
        __tracebackhide__ = True
        self._known(clause)
        if seen == expected:
            return
        self._differs(f"expected {show(expected)}, saw {show(seen)}", clause)

    def record(self, what: str, value: object) -> None:
        """What the backend does where CANN's behaviour is open (cann-behaviour.md §10):
        kept in the test's record (``observed``), never asserted."""
        observed = self.item.stash.get(OBSERVED, None)
        if observed is None:
            observed = self.item.stash[OBSERVED] = {}
            self.item.user_properties.append(("acl.observed", observed))
        observed[what] = value

    def _known(self, clause: str) -> None:
        if clause not in self.clauses:
            raise AssertionError(f"unknown clause {clause!r}")

    def _differs(self, what: str, clause: str) -> None:
        __tracebackhide__ = True
        message = f"{clause}: {what} — {self.clauses[clause].text}"
        if self.clauses[clause].level == "must":
            raise AssertionError(message)
        self.item.stash.setdefault(DRIFTS, []).append(message)


def refused(ret: int, what: str) -> None:
    """A failure is any non-zero aclError (the documented return convention)."""
    __tracebackhide__ = True
    assert ret != 0, f"{what} succeeded; it must be refused"


def outputs_match(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    import numpy as np

    __tracebackhide__ = True
    assert list(actual) == list(expected), f"outputs {list(actual)} ≠ {list(expected)}"
    for name, reference in expected.items():
        np.testing.assert_allclose(actual[name], reference, rtol=RTOL, atol=ATOL,
                                   err_msg=f"output {name!r} differs from the reference")


def device_used(acl: ModuleType) -> int:
    __tracebackhide__ = True
    free, total, ret = acl.rt.get_mem_info(MemAttr.ACL_HBM_MEM)
    assert ret == 0, f"acl.rt.get_mem_info returned {describe(ret)}"
    return total - free


def device_bytes(acl: ModuleType, ptr: int, size: int) -> bytes:
    return copy_from_device(acl, ptr, size)


def execute_and_compare(acl: ModuleType, model_id: int, inputs: dict[str, np.ndarray],
                        expected: dict[str, np.ndarray], stream: int | None = None) -> None:
    """Run the model on ``inputs`` (sync, or async on ``stream``) and compare every output
    with the reference; all buffers are released afterwards."""
    from pytest_acl.modelio import ModelIO

    __tracebackhide__ = True

    io = ModelIO.prepare(acl, model_id, list(inputs.values()),
                         [array.nbytes for array in expected.values()])
    try:
        if stream is None:
            ret = acl.mdl.execute(model_id, io.in_ds, io.out_ds)
            assert ret == 0, f"acl.mdl.execute({model_id}) returned {describe(ret)}"
        else:
            ret = acl.mdl.execute_async(model_id, io.in_ds, io.out_ds, stream)
            assert ret == 0, f"acl.mdl.execute_async({model_id}) returned {describe(ret)}"
            ret = acl.rt.synchronize_stream(stream)
            assert ret == 0, f"acl.rt.synchronize_stream returned {describe(ret)}"
        outputs_match(io.outputs(), expected)
    finally:
        io.release()


def distinct_inputs(inputs: dict[str, np.ndarray], count: int) -> list[dict[str, np.ndarray]]:
    """``count`` input sets that differ from each other (the first is ``inputs``): threads or
    executions that mix up their data then show it."""
    return [{name: (array * (index + 1)).astype(array.dtype) for name, array in inputs.items()}
            for index in range(count)]


def reference_outputs(acl: ModuleType, path: str, input_sets: list[dict[str, np.ndarray]],
                      output_sizes: list[int]) -> list[dict[str, np.ndarray]]:
    """What the model at ``path`` gives for each input set, run synchronously, one after the
    other, by an instance of its own (loaded and unloaded here): the expected results of the
    same inputs run concurrently or queued."""
    from pytest_acl.modelio import ModelIO

    __tracebackhide__ = True
    model_id, ret = acl.mdl.load_from_file(path)
    assert ret == 0, f"acl.mdl.load_from_file({path!r}) returned {describe(ret)}"
    results = []
    try:
        for inputs in input_sets:
            io = ModelIO.prepare(acl, model_id, list(inputs.values()), output_sizes)
            try:
                ret = acl.mdl.execute(model_id, io.in_ds, io.out_ds)
                assert ret == 0, f"acl.mdl.execute({model_id}) returned {describe(ret)}"
                results.append({name: array.copy() for name, array in io.outputs().items()})
            finally:
                io.release()
    finally:
        acl.mdl.unload(model_id)
    return results


# A user part smaller than this is not checked for a second copy: a device's own fixed
# allocations for a model (task arguments, …) could be that large.
COPY_CHECKED_FROM = 8192


def uses_the_user_memory(acl: ModuleType, loaded: Loaded, before: int,
                         system_part: int) -> None:
    """A load given user memory uses it: besides the user's buffers it takes less device
    memory than ``system_part`` (what it manages itself) plus any user part — no copy of
    its own of what the user supplied."""
    __tracebackhide__ = True
    taken = device_used(acl) - before - loaded.user_cost
    for role, (_, size) in loaded.user_memory.items():
        if size >= COPY_CHECKED_FROM:
            assert taken < system_part + size, (
                f"the load took {taken} bytes of device memory besides the user's buffers; its "
                f"own parts need {system_part}: it keeps a {size}-byte {role} part of its own")


def written(acl: ModuleType, loaded: Loaded, role: str, what: str) -> None:
    """The user's ``role`` buffer (filled with variants.SENTINEL before the load) was
    written by ``what``: the model really runs in it."""
    from pytest_acl.variants import SENTINEL

    __tracebackhide__ = True
    ptr, size = loaded.user_memory[role]
    assert device_bytes(acl, ptr, size) != bytes([SENTINEL]) * size, (
        f"the user {role} buffer {ptr:#x}+{size} is untouched after {what}: the model does not "
        f"run in it")


def description(acl: ModuleType, model_id: int) -> dict[str, list[tuple]]:
    """Inputs and outputs as the model's desc reports them: (name, dims, size, data type)."""
    desc = acl.mdl.create_desc()
    try:
        ret = acl.mdl.get_desc(desc, model_id)
        assert ret == 0, f"acl.mdl.get_desc returned {describe(ret)}"
        result = {}
        for side, count, dims, size, dtype in (
                ("inputs", acl.mdl.get_num_inputs, acl.mdl.get_input_dims,
                 acl.mdl.get_input_size_by_index, acl.mdl.get_input_data_type),
                ("outputs", acl.mdl.get_num_outputs, acl.mdl.get_output_dims,
                 acl.mdl.get_output_size_by_index, acl.mdl.get_output_data_type)):
            entries = []
            for index in range(count(desc)):
                found, ret = dims(desc, index)
                entries.append((found.get("name"), tuple(found.get("dims", ())),
                                size(desc, index), dtype(desc, index)))
            result[side] = entries
        return result
    finally:
        acl.mdl.destroy_desc(desc)
