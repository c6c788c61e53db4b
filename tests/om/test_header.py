"""ModelFileHeader: layout facts of om-format.md §1 and lossless round trips."""

from __future__ import annotations

import struct
from dataclasses import fields

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.om.header import HEADER_SIZE, MAGIC, MODEL_VERSION, ModelFileHeader

_BYTE_FIELDS = {"checksum": 64, "name": 32, "userdefineinfo": 32, "platform_version": 20,
                "padd": 3, "reserved": 62}
_WIDTHS = {"model_length": 64, "is_encrypt": 8, "is_checksum": 8, "modeltype": 8,
           "genmode": 8, "platform_type": 8, "need_check_os_cpu_info": 8, "is_unknow_model": 8}


def _field_strategy(name: str) -> st.SearchStrategy:
    if name in _BYTE_FIELDS:
        return st.binary(min_size=_BYTE_FIELDS[name], max_size=_BYTE_FIELDS[name])
    return st.integers(0, 2 ** _WIDTHS.get(name, 32) - 1)


headers = st.builds(ModelFileHeader, **{f.name: _field_strategy(f.name)
                                        for f in fields(ModelFileHeader)})


@settings(max_examples=100, deadline=None)
@given(headers)
def test_every_header_round_trips_byte_for_byte(header):
    packed = header.pack()
    assert len(packed) == HEADER_SIZE
    assert ModelFileHeader.unpack(packed) == header
    assert ModelFileHeader.unpack(packed).pack() == packed


def test_default_header_starts_with_imod_and_version_2():
    packed = ModelFileHeader().pack()
    assert packed[:4] == b"IMOD"
    assert struct.unpack_from("<III", packed) == (MAGIC, 256, MODEL_VERSION)


def test_fields_sit_at_the_documented_offsets():
    packed = ModelFileHeader(length=0x11223344, modeltype=5, model_num=7,
                             model_length=0x0102030405060708, is_unknow_model=1,
                             need_check_os_cpu_info=1).with_name("abc").pack()
    assert struct.unpack_from("<I", packed, 76)[0] == 0x11223344
    assert packed[82] == 5
    assert packed[84:88] == b"abc\0"
    assert struct.unpack_from("<I", packed, 156)[0] == 7
    assert struct.unpack_from("<Q", packed, 184)[0] == 0x0102030405060708
    assert (packed[192], packed[193]) == (1, 1)


def test_dynamic_needs_a_version_2_header_and_several_models_or_unknown_shape():
    assert not ModelFileHeader().is_dynamic
    assert ModelFileHeader(model_num=2).is_dynamic
    assert ModelFileHeader(is_unknow_model=1).is_dynamic
    assert not ModelFileHeader(version=0x10000000, model_num=2).is_dynamic


def test_table_encoding_and_payload_length_follow_the_header():
    assert ModelFileHeader(model_length=10).uses_64bit_table
    assert not ModelFileHeader(length=10).uses_64bit_table
    assert ModelFileHeader(modeltype=3).uses_64bit_table  # flow models
    assert ModelFileHeader(length=5, model_length=9).payload_length == 9
    assert ModelFileHeader(length=5).payload_length == 5


def test_long_names_are_cut_to_31_characters_and_nul_terminated():
    header = ModelFileHeader().with_name("n" * 40)
    assert header.model_name == "n" * 31
    assert header.name[31] == 0
