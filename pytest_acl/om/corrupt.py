"""The corrupt-model corpus: every corruption of om-format.md §7 (and §4, §6) with the code a
CANN loader returns for it, per API.

``corruptions(valid_om)`` turns one valid static OM into each named defect;
``bundle_corruptions(valid_bundle)`` does the same for a bundle. Each case says what the
four loading paths return — ``load_file`` (aclmdlLoadFromFile*), ``load_mem``
(aclmdlLoadFromMem*), ``query_file`` (aclmdlQuerySize), ``query_mem``
(aclmdlQuerySizeFromMem) — or, for bundles, ``bundle_load``. 0 means "accepted". A code
that differs between CANN releases is a :class:`~pytest_acl.versions.ByRelease`
(reference/cann-behaviour.md: the 9.1 router answers short data before any loader).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pytest_acl.constants import AclError
from pytest_acl.om.container import OmModel, Partition, PartitionGroup
from pytest_acl.om.header import HEADER_SIZE, MODELTYPE_BUNDLE, ModelFileHeader
from pytest_acl.om.partitions import PartitionType
from pytest_acl.om.reader import read_model
from pytest_acl.versions import ByRelease

E = AclError
APIS = ("load_file", "load_mem", "query_file", "query_mem")


@dataclass(frozen=True)
class Corruption:
    name: str
    description: str
    data: bytes
    expected: dict[str, int | ByRelease] = field(default_factory=dict)
    source: str = "om-format.md §7"
    note: str = ""


def _router(before: int) -> ByRelease:
    """``before`` until 9.1; from 9.1 the router's 145006 for data under 4 bytes."""
    return ByRelease({"<9.1": int(before),
                      ">=9.1": int(E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID)})


def _same(code: int) -> dict[str, int | ByRelease]:
    return dict.fromkeys(APIS, int(code))


def _set_u32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value) + data[offset + 4:]


def _with_header(model: OmModel, header: ModelFileHeader) -> bytes:
    return OmModel(header, model.groups, model.wide).to_bytes()


def _replace_partition(model: OmModel, kind: int, data: bytes) -> bytes:
    groups = [PartitionGroup([Partition(p.type, data if p.type == kind else p.data)
                              for p in g.partitions]) for g in model.groups]
    return OmModel(model.header, groups, model.wide).to_bytes()


def corruptions(valid: bytes) -> list[Corruption]:
    """Every named corruption of a valid static OM with MODEL_DEF, WEIGHTS_DATA, TASK_INFO."""
    model = read_model(valid)
    if model.is_dynamic or model.groups[0].find(PartitionType.TASK_INFO) is None:
        raise ValueError("the corpus starts from a static model with a TASK_INFO partition")
    table = HEADER_SIZE  # the 64-bit table: u32 count, pad, entries of 24 bytes
    first_size = table + 8 + 16  # mem_size of entry 0
    garbage = b"\xff\xff\xff\xff\x0f"  # a field number 0 / truncated varint: never protobuf
    only_def = OmModel(model.header, [PartitionGroup([model.groups[0].partitions[0]])])
    dynamic_extra = OmModel(replace(model.header, model_num=2, is_unknow_model=1),
                            [model.groups[0], model.groups[0]]).to_bytes() + b"\0" * 16
    cases = [
        Corruption("empty", "a zero-byte model (from memory: NULL, size 0)", b"",
                   {"load_file": _router(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID),
                    "load_mem": E.ACL_ERROR_INVALID_PARAM,
                    "query_file": _router(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID),
                    "query_mem": ByRelease({"<9.1": int(E.ACL_ERROR_GE_PARAM_INVALID),
                                            ">=9.1": int(E.ACL_ERROR_INVALID_PARAM)})},
                   "cann-behaviour.md §1 'empty file', 'NULL pointer or size 0'; §4 "
                   "'QuerySizeFromMem size 0'",
                   note="before 9.1 GetFileLength returns -1 for an empty file (145002)"),
        Corruption("three_bytes", "the first three bytes of the model", valid[:3],
                   {"load_file": E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID,
                    "load_mem": _router(E.ACL_ERROR_INVALID_PARAM),
                    "query_file": _router(E.ACL_ERROR_GE_PARAM_INVALID),
                    "query_mem": _router(E.ACL_ERROR_GE_PARAM_INVALID)},
                   "cann-behaviour.md §1 'file of 1-255 bytes', 'size 1-3'; §4 '1-3 byte "
                   "file or buffer'"),
        Corruption("truncated_header", "cut to 100 bytes, inside the 256-byte header",
                   valid[:100],
                   {"load_file": E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID,
                    "load_mem": E.ACL_ERROR_INVALID_PARAM,
                    "query_file": E.ACL_ERROR_GE_PARAM_INVALID,
                    "query_mem": E.ACL_ERROR_GE_PARAM_INVALID},
                   "om-format.md §4 row 3, §3.2 step 1"),
        Corruption("bad_magic", "magic 'XMOD' instead of 'IMOD'", b"X" + valid[1:],
                   _same(E.ACL_ERROR_GE_PARAM_INVALID)),
        Corruption("truncated_body", "the last byte removed (model_length no longer matches)",
                   valid[:-1], _same(E.ACL_ERROR_GE_PARAM_INVALID)),
        Corruption("padded", "one extra byte at the end", valid + b"\0",
                   _same(E.ACL_ERROR_GE_PARAM_INVALID)),
        Corruption("table_count_zero", "partition table with 0 entries",
                   _set_u32(valid, table, 0), _same(E.ACL_ERROR_GE_PARAM_INVALID)),
        Corruption("table_count_too_large", "partition table claiming 9 entries",
                   _set_u32(valid, table, 9), _same(E.ACL_ERROR_GE_PARAM_INVALID)),
        Corruption("partition_past_eof", "the first partition's size runs past the end",
                   valid[:first_size] + struct.pack("<Q", len(valid)) + valid[first_size + 8:],
                   _same(E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID)),
        Corruption("model_def_garbage", "MODEL_DEF is not a ModelDef protobuf",
                   _replace_partition(model, PartitionType.MODEL_DEF, garbage),
                   {"load_file": E.ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
                    "load_mem": E.ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
                    "query_file": 0, "query_mem": 0},
                   note="QuerySize never decodes MODEL_DEF (om-format.md §3.2)"),
        Corruption("task_info_garbage", "TASK_INFO is not a ModelTaskDef protobuf",
                   _replace_partition(model, PartitionType.TASK_INFO, garbage),
                   _same(E.ACL_ERROR_GE_EXEC_LOAD_TASK_PARTITION_FAILED)),
        Corruption("only_model_def", "a one-partition 'original graph' om (MODEL_DEF only)",
                   only_def.to_bytes(), _same(E.ACL_ERROR_GE_PARAM_INVALID),
                   "om-format.md §2.1, §3.2 step 3",
                   note="the load code is assumed equal to QuerySize's (UNCONFIRMED)"),
        Corruption("encrypted", "is_encrypt = 1 (not a corruption since v8.5.0)",
                   _with_header(model, replace(model.header, is_encrypt=1)), _same(0),
                   "cann-behaviour.md §1 'header is_encrypt = 1'",
                   note="nothing in GE reads is_encrypt since v8.5.0: the model loads"),
        Corruption("checksum_garbage", "non-zero checksum bytes (never checked)",
                   _with_header(model, replace(model.header, checksum=b"\xab" * 64)), _same(0),
                   "om-format.md §4"),
        Corruption("dynamic_groups_short", "dynamic model whose groups end before the file",
                   _set_u32(dynamic_extra, 184, 0)[:184] + struct.pack(
                       "<Q", len(dynamic_extra) - HEADER_SIZE) + dynamic_extra[192:],
                   _same(E.ACL_ERROR_GE_FAILURE), "om-format.md §2.2, §4 row 10"),
        Corruption("bundle_as_model", "a bundle header (modeltype 5) given to a model loader",
                   _with_header(model, replace(model.header, modeltype=MODELTYPE_BUNDLE)),
                   {"load_file": E.ACL_ERROR_GE_FAILURE, "load_mem": E.ACL_ERROR_GE_FAILURE,
                    "query_file": E.ACL_ERROR_GE_PARAM_INVALID,
                    "query_mem": E.ACL_ERROR_GE_PARAM_INVALID},
                   "cann-behaviour.md §1 'a bundle file' (LoadRootModel's GE_ASSERT, 500002), "
                   "§4 'bundle file' (GetModelMemAndWeightSize, 145000)"),
    ]
    return cases


def bundle_corruptions(valid_bundle: bytes, valid_model: bytes) -> list[Corruption]:
    """Named bundle defects with what aclmdlBundleLoadFrom*/InitFrom* return (§6, §7)."""
    from pytest_acl.om.bundle import Bundle, read_bundle

    bundle = read_bundle(valid_bundle)
    first_sub = [bytes(m) for m in bundle.models]
    table = HEADER_SIZE
    entry1_size = table + 8 + 24 + 16
    return [
        Corruption("model_as_bundle", "a normal OM given to the bundle loader", valid_model,
                   {"bundle_load": E.ACL_ERROR_INVALID_PARAM}),
        Corruption("bundle_too_short", "a bundle cut to 260 bytes", valid_bundle[:260],
                   {"bundle_load": E.ACL_ERROR_INVALID_PARAM}),
        Corruption("bundle_entry_past_eof", "the first sub-model entry runs past the end",
                   valid_bundle[:entry1_size] + struct.pack("<Q", len(valid_bundle))
                   + valid_bundle[entry1_size + 8:],
                   {"bundle_load": E.ACL_ERROR_INVALID_PARAM}),
        Corruption("bundle_sub_model_bad_magic", "sub-model 0 has a bad magic",
                   Bundle(bundle.var_size, [b"X" + first_sub[0][1:], *first_sub[1:]]).to_bytes(),
                   {"bundle_load": E.ACL_ERROR_GE_PARAM_INVALID},
                   note="each sub-model goes through the normal loader"),
    ]


Mutator = Callable[[bytes], bytes]
