"""What the recorder takes for an aclError: only the status element of a function whose
return shape in the pyACL surface table ends with ``ret`` — never a handle, size or id a
function returns as its value (issue 15: bundle_create_query_info's handle was recorded as
UNKNOWN_ACL_ERROR_5764…) — and codes seen in a hypothesis-generated example are marked."""

from __future__ import annotations

import types

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.constants import error_name
from pytest_acl.results.calls import CallLog, RecordingAcl, start_log, status_of
from pytest_acl.sim import Simulator


def recorded(module: types.ModuleType, calls) -> list[dict]:
    acl = RecordingAcl(module)
    stop = start_log(acl)
    calls(acl)
    log = stop()
    assert log is not None
    return log.codes


def test_a_handle_is_never_a_code_on_the_simulator():
    acl = Simulator(devices=1, hbm="256MiB").acl
    assert acl.init() == 0 and acl.rt.set_device(0) == 0

    def calls(acl):
        info = acl.mdl.bundle_create_query_info()
        assert info > 2**32  # a handle: a large plain value, returns_ret = false
        assert acl.mdl.bundle_destroy_query_info(info) == 0
        pointer, ret = acl.rt.malloc(64, 0)  # an output and ret 0: nothing
        assert pointer and ret == 0
        assert acl.rt.free(pointer) == 0
        desc = acl.mdl.create_desc()
        assert acl.mdl.get_num_inputs(desc) == 0  # a count, not a code
        assert acl.mdl.get_desc(desc, 12345) != 0  # no such model: a code
        acl.mdl.destroy_desc(desc)
        assert acl.mdl.load_from_file("/nonexistent/model.om")[1] != 0

    try:
        codes = recorded(acl, calls)
    finally:
        acl.rt.reset_device(0)
        acl.finalize()
    assert [c["function"] for c in codes] == ["acl.mdl.get_desc", "acl.mdl.load_from_file"]
    assert all(not c["name"].startswith("UNKNOWN") for c in codes)


def fake_backend() -> types.ModuleType:
    """A backend whose functions all answer 7 or (7, 145000): what counts is each function's
    shape in the table, not the value."""
    module = types.ModuleType("acl")
    module.mdl = types.SimpleNamespace(
        create_desc=lambda: 145000,  # a handle that happens to look like a code
        get_input_size_by_index=lambda desc, index: 100000,  # a size, likewise
        load_from_file=lambda path: (7, 145000),  # model id, ret
        get_desc=lambda desc, model: 145000,  # ret alone
        not_in_the_table=lambda: 145000)
    module.rt = types.SimpleNamespace(get_device_count=lambda: (100000, 0))  # count, ret 0
    return module


def test_codes_come_only_from_the_status_of_the_return_shape():
    codes = recorded(fake_backend(), lambda acl: [
        acl.mdl.create_desc(), acl.mdl.get_input_size_by_index(1, 0),
        acl.mdl.load_from_file("m.om"), acl.mdl.get_desc(1, 7), acl.mdl.not_in_the_table(),
        acl.rt.get_device_count()])
    assert codes == [
        {"function": "acl.mdl.load_from_file", "code": 145000, "name": error_name(145000)},
        {"function": "acl.mdl.get_desc", "code": 145000, "name": error_name(145000)}]


def test_status_of_reads_the_shape():
    assert status_of((True, 1), (5, 107000)) == 107000
    assert status_of((True, 0), 107000) == 107000
    assert status_of((False, 0), 5764616319127257632) is None
    assert status_of(None, 107000) is None  # not in the table: not guessed
    assert status_of((True, 1), 107000) is None  # not the shape it should have
    assert status_of((True, 0), True) is None


@settings(max_examples=1, database=None)
@given(st.just(145000))
def test_a_code_seen_in_a_generated_example_is_marked(code):
    log = CallLog()
    log.add("acl.mdl.load_from_file", code, 0.0, None)
    assert log.codes[0]["generated"] is True


def test_a_code_seen_outside_hypothesis_is_not_marked():
    log = CallLog()
    log.add("acl.mdl.load_from_file", 145000, 0.0, None)
    assert "generated" not in log.codes[0]
