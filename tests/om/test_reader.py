"""Reading OM files: static, dynamic and legacy layouts, expected sizes, and every named
corruption classified with the code each loading path returns (om-format.md §3, §4, §7)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytest_acl.constants import AclError as E
from pytest_acl.om.container import OmModel, Partition, PartitionGroup
from pytest_acl.om.corrupt import APIS, corruptions
from pytest_acl.om.modeldef import ModelDef, ModelTaskDef
from pytest_acl.om.partitions import PartitionType as T
from pytest_acl.om.reader import LOAD_FILE, LOAD_MEM, QUERY, OmError, expected_sizes, read_model
from pytest_acl.om.samples import static_model
from pytest_acl.versions import for_release

OPTIONS = {"load_file": LOAD_FILE, "load_mem": LOAD_MEM, "query_file": QUERY,
           "query_mem": QUERY}


def test_static_model_reads_back_with_its_partitions_and_sizes(valid_om):
    model = read_model(valid_om)
    assert [p.type for p in model.groups[0].partitions] == [T.MODEL_DEF, T.WEIGHTS_DATA,
                                                            T.TASK_INFO]
    assert bytes(model.groups[0].find(T.WEIGHTS_DATA).data) == bytes(range(256)) * 4
    assert expected_sizes(model) == (2048, 1024)
    assert model.to_bytes() == valid_om


def test_legacy_32bit_table_files_read_the_same():
    legacy = static_model(wide=False).to_bytes()
    model = read_model(legacy)
    assert not model.wide and model.header.model_length == 0
    assert model.header.length == len(legacy) - 256
    assert expected_sizes(model) == (2048, 1024)


def test_unknown_partition_types_are_kept():
    data = static_model(extra=[Partition(42, b"opaque")]).to_bytes()
    model = read_model(data)
    assert bytes(model.groups[0].find(42).data) == b"opaque"
    assert model.to_bytes() == data


def test_missing_task_info_means_work_zero():
    group = PartitionGroup([Partition(T.MODEL_DEF, ModelDef("m").encode()),
                            Partition(T.WEIGHTS_DATA, b"w" * 64)])
    model = read_model(OmModel(static_model().header, [group]).to_bytes())
    assert expected_sizes(model) == (0, 64)


def test_dynamic_model_reports_work_zero_and_sums_weights_over_groups():
    first, second = static_model(work=999, weights=b"a" * 100), static_model(weights=b"b" * 60)
    dynamic = OmModel(replace(first.header, model_num=2, is_unknow_model=1),
                      [first.groups[0], second.groups[0]])
    model = read_model(dynamic.to_bytes())
    assert model.is_dynamic and len(model.groups) == 2
    assert expected_sizes(model) == (0, 160)


def test_is_unknow_model_alone_makes_a_one_group_model_dynamic():
    model = static_model()
    dynamic = OmModel(replace(model.header, is_unknow_model=1), model.groups)
    assert expected_sizes(read_model(dynamic.to_bytes())) == (0, 1024)


def _outcome(data: bytes, api: str) -> int:
    try:
        read_model(data, OPTIONS[api])
    except OmError as error:
        return error.code
    return 0


CASES = [(case.name, api) for case in corruptions(static_model().to_bytes())
         for api in APIS if case.name != "empty"]  # empty data never reaches the reader


@pytest.mark.parametrize(("name", "api"), CASES, ids=[f"{n}-{a}" for n, a in CASES])
def test_each_corruption_gets_the_documented_code(valid_om, name, api):
    case = next(c for c in corruptions(valid_om) if c.name == name)
    # The reader answers what reaches it; before 9.1 nothing stands in front of it.
    assert _outcome(case.data, api) == for_release(case.expected[api], "9.0.0")


def test_the_corpus_covers_every_row_of_the_reference_table(valid_om):
    names = {case.name for case in corruptions(valid_om)}
    assert {"empty", "truncated_header", "bad_magic", "truncated_body", "table_count_zero",
            "table_count_too_large", "partition_past_eof", "model_def_garbage",
            "task_info_garbage", "encrypted", "checksum_garbage", "dynamic_groups_short",
            "bundle_as_model"} <= names


def test_errors_name_the_defect_and_the_code():
    with pytest.raises(OmError) as caught:
        read_model(b"X" * 300)
    assert caught.value.code == E.ACL_ERROR_GE_PARAM_INVALID
    assert "magic" in str(caught.value) and "ACL_ERROR_GE_PARAM_INVALID" in str(caught.value)


def test_task_info_with_a_wrong_memory_size_is_what_query_reports():
    """QuerySize reads TASK_INFO.memory_size, not the ModelDef attribute (§3.2)."""
    model = static_model(work=100)
    model.groups[0].partitions[2] = Partition(T.TASK_INFO, ModelTaskDef(777, 0).encode())
    assert expected_sizes(read_model(model.to_bytes())) == (777, 1024)
