"""The protobuf wire codec used for MODEL_DEF and TASK_INFO."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.om import protobuf as pb
from pytest_acl.om.modeldef import ModelDef, ModelTaskDef, OpDef


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2**29 - 1), st.integers(0, 2**64 - 1))
def test_varint_fields_round_trip(number, value):
    assert pb.decode(pb.varint(number << 3) + pb.varint(value)) == {number: [value]}


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 1000), st.binary(max_size=300))
def test_length_delimited_fields_round_trip(number, value):
    assert pb.decode(pb.bytes_field(number, value)) == {number: [value]}


def test_negative_int64_uses_ten_bytes():
    assert len(pb.varint(-1)) == 10


@pytest.mark.parametrize("data", [b"\x08", b"\x0a\x05ab", b"\x00\x01", b"\x0b", b"\x09\x01"])
def test_malformed_messages_are_refused(data):
    with pytest.raises(pb.DecodeError):
        pb.decode(data)


def test_model_def_keeps_name_int_and_bytes_attributes_and_ops():
    original = ModelDef("m", {"memory_size": 0, "weight_size": 12345, "neg": -2},
                        {"blob": b"\x00\x01"}, [OpDef("fc", "Gemm", ["x", "w"])])
    decoded = ModelDef.decode(original.encode())
    assert decoded.name == "m"
    assert decoded.int_attrs == {"memory_size": 0, "weight_size": 12345, "neg": -2}
    assert decoded.bytes_attrs == {"blob": b"\x00\x01"}
    assert decoded.ops == [OpDef("fc", "Gemm", ["x", "w"])]


def test_model_task_def_uses_ge_field_numbers():
    encoded = ModelTaskDef(memory_size=4096, weight_size=77, stream_num=1).encode()
    assert pb.decode(encoded) == {11: [4096], 12: [1], 14: [77]}
    assert ModelTaskDef.decode(encoded) == ModelTaskDef(4096, 77, 1)
