"""Bundle files (om-format.md §6): layout facts, round trip and the bundle loader's checks."""

from __future__ import annotations

import struct

import pytest

from pytest_acl.constants import AclError as E
from pytest_acl.om.bundle import Bundle, bundle_sizes, is_bundle, read_bundle
from pytest_acl.om.corrupt import bundle_corruptions
from pytest_acl.om.header import ModelFileHeader
from pytest_acl.om.reader import OmError, read_model
from pytest_acl.om.samples import static_model


@pytest.fixture
def subs() -> list[bytes]:
    return [static_model(work=64 * (i + 1), weights=bytes([i]) * (32 * (i + 1))).to_bytes()
            for i in range(3)]


def test_bundle_layout_follows_ge(subs):
    data = Bundle(4096, subs).to_bytes()
    header = ModelFileHeader.unpack(data)
    assert (header.magic, header.headsize, header.version) == (0, 0, 0)
    assert header.modeltype == 5 and header.model_num == 3
    assert header.model_length == len(data)  # the whole file, header included
    count = struct.unpack_from("<I", data, 256)[0]
    assert count == 4
    var_type, _, var_offset, var_size = struct.unpack_from("<IIQQ", data, 264)
    assert (var_type, var_offset, var_size) == (25, 8 + 24 * 4, 8)  # offset from table start
    assert struct.unpack_from("<Q", data, 256 + var_offset)[0] == 4096
    for index in range(3):
        kind, _, offset, size = struct.unpack_from("<IIQQ", data, 264 + 24 * (index + 1))
        assert kind == 24 and data[256 + offset:256 + offset + size] == subs[index]


def test_bundle_reads_back_with_its_graphs_in_index_order(subs):
    bundle = read_bundle(Bundle(512, subs).to_bytes())
    assert bundle.var_size == 512
    assert [bytes(m) for m in bundle.models] == subs
    assert [read_model(m).groups[0].size_of(1) for m in bundle.models] == [32, 64, 96]


def test_is_bundle_tells_bundles_from_models(subs):
    assert is_bundle(Bundle(0, subs).to_bytes())
    assert not is_bundle(subs[0])
    assert not is_bundle(b"short")


def test_each_bundle_corruption_is_refused_with_its_code(subs):
    valid = Bundle(512, subs).to_bytes()
    for case in bundle_corruptions(valid, subs[0]):
        expected = case.expected["bundle_load"]
        try:
            bundle = read_bundle(case.data)
            for sub in bundle.models:
                read_model(sub)
        except OmError as error:
            assert error.code == expected, case.name
        else:
            pytest.fail(f"{case.name} was accepted")


def test_a_short_var_info_entry_is_refused(subs):
    data = bytearray(Bundle(512, subs).to_bytes())
    struct.pack_into("<Q", data, 264 + 16, 4)  # VAR_INFO mem_size 4
    with pytest.raises(OmError) as caught:
        read_bundle(bytes(data))
    assert caught.value.code == E.ACL_ERROR_INVALID_PARAM


def test_bundle_sizes_per_graph_and_zero_for_dynamic_sub_graphs(subs):
    from dataclasses import replace

    from pytest_acl.om.container import OmModel

    static = static_model(work=640, weights=b"w" * 96)
    dynamic = OmModel(replace(static.header, is_unknow_model=1), static.groups).to_bytes()
    bundle = read_bundle(Bundle(256, [subs[0], dynamic, subs[2]]).to_bytes())
    assert bundle_sizes(bundle) == (256, [(64, 32), (0, 0), (192, 96)])
