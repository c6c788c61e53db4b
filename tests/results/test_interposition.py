"""The one interposition layer (results/calls.py, issue 16 item 5): one wrapper per function,
made once and reused (no closure per attribute access), for ``acl.*`` as for ``acl.rt.*``;
it counts the contexts and streams made through it (the leak check of bindings that cannot
list theirs) and records codes, timings and the flight recorder's call in flight."""

from __future__ import annotations

import types

from pytest_acl.backends import Backend
from pytest_acl.results.calls import RecordingAcl, start_log
from pytest_acl.sim import Simulator


def fresh() -> tuple[RecordingAcl, types.ModuleType]:
    module = Simulator(devices=1, hbm="256MiB").acl
    return RecordingAcl(module), module


def test_each_function_is_wrapped_once_and_reused():
    acl, module = fresh()
    for get in (lambda: acl.rt.malloc, lambda: acl.mdl.load_from_file, lambda: acl.init,
                lambda: acl.util.ptr_to_bytes, lambda: acl.create_data_buffer):
        first = get()
        assert get() is first  # the same object: no new closure per access
    assert acl.rt.malloc is not module.rt.malloc
    assert acl.init is not module.init
    assert len(acl.rt._wrapped) == 1 and len(acl._wrapped) == 2


def test_a_replaced_function_gets_its_own_wrapper():
    acl, module = fresh()
    before = acl.rt.get_device_count
    original = module.rt.get_device_count
    module.rt.get_device_count = lambda: (7, 0)
    try:
        assert acl.rt.get_device_count is not before
        assert acl.rt.get_device_count() == (7, 0)
    finally:
        module.rt.get_device_count = original
    assert acl.rt.get_device_count() == (1, 0)


def test_constants_classes_and_hidden_functions():
    acl, module = fresh()
    assert acl.__simulator__ is module.__simulator__  # not a function: passed as is
    del acl.rt.memset  # a conftest mimicking an older pyACL
    assert not hasattr(acl.rt, "memset") and hasattr(module.rt, "memset")


def test_contexts_and_streams_are_counted_with_the_hbm_in_use():
    acl, _ = fresh()
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    base = acl.live_resources()
    assert base["contexts"] == 0 and base["streams"] == 0 and "device0.bytes_in_use" in base
    context, ret = acl.rt.create_context(0)
    stream, ret2 = acl.rt.create_stream()
    pointer, ret3 = acl.rt.malloc(4096, 0)
    assert (ret, ret2, ret3) == (0, 0, 0)
    grown = acl.live_resources()
    assert (grown["contexts"], grown["streams"]) == (1, 1)
    assert grown["device0.bytes_in_use"] >= base["device0.bytes_in_use"] + 4096
    assert acl.rt.create_stream()[1] == 0 and acl.live_resources()["streams"] == 2
    assert acl.rt.destroy_context(12345) != 0  # a refused destroy counts nothing
    assert acl.live_resources()["contexts"] == 1
    assert acl.rt.destroy_stream(stream) == 0 and acl.rt.destroy_context(context) == 0
    after = acl.live_resources()
    assert (after["contexts"], after["streams"]) == (0, 1)


def test_a_backend_without_a_snapshot_uses_the_counts():
    module = Simulator(devices=1, hbm="256MiB").acl
    backend = Backend(name="plain", open_module=lambda: module, version="v")
    assert isinstance(backend.module, RecordingAcl) and backend.module.wrapped is module
    assert module.init() == 0 and module.rt.set_device(0) == 0
    backend.module.rt.create_stream()
    assert backend.resources()["streams"] == 1
    counted = Backend(name="own", open_module=lambda: module, version="v",
                      snapshot=lambda: {"things": 3})
    assert counted.resources() == {"things": 3}


class Flight:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def call_started(self, function: str) -> None:
        self.calls.append(function)

    def call_returned(self) -> None:
        self.calls.append("returned")


def test_one_wrapper_records_codes_timings_ledger_and_flight():
    acl, _ = fresh()
    flight = Flight()
    acl.flight = flight  # type: ignore[assignment]
    stop = start_log(acl)
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    assert acl.mdl.load_from_file("/nonexistent.om")[1] != 0
    pointer, _ = acl.rt.malloc(64, 0)
    log = stop()
    assert log is not None
    assert [c["function"] for c in log.codes] == ["acl.mdl.load_from_file"]
    assert "load" in log.timings
    assert flight.calls[:4] == ["acl.init", "returned", "acl.rt.set_device", "returned"]
    assert log.ledger.release(acl) == [f"acl.rt.free({pointer:#x})"]  # noted, freed now
