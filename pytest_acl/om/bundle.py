"""Bundle files (modeltype 5): N complete OMs sharing one variable memory (om-format.md §6).

Layout: an outer 256-byte header that GE never constructs (zeros except ``modeltype = 5``,
``model_num = N`` and ``model_length`` = whole file size), a 64-bit table of N+1 entries —
``BUNDLE_MODEL_VAR_INFO`` (8 bytes: the variable size) then N ``BUNDLE_MODEL_INFO`` — with
offsets counted from the start of the table, then the u64 variable size and the sub-OMs.

Reading follows ACL's ``GetBundleNumAndOffset``: size ≥ 256 + 8 and modeltype 5, else
100000; entries walked in order by size (offsets ignored), a running end past the data is
100000. Magic, version and ``model_length`` are not checked. Each sub-OM is then a normal OM.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_acl.constants import AclError
from pytest_acl.om.header import HEADER_SIZE, MODELTYPE_BUNDLE, ModelFileHeader
from pytest_acl.om.partitions import (
    PartitionType,
    TableEntry,
    pack_table,
    read_count,
    read_entries,
    table_size,
)
from pytest_acl.om.reader import OmError

E = AclError
_VAR = struct.Struct("<Q")


@dataclass
class Bundle:
    var_size: int
    models: Sequence[bytes | memoryview]  # complete OM files, in index order

    def chunks(self) -> list[bytes | memoryview]:
        count = len(self.models)
        table_bytes = table_size(count + 1, wide=True)
        entries, offset = [TableEntry(PartitionType.BUNDLE_MODEL_VAR_INFO, table_bytes,
                                      _VAR.size)], table_bytes + _VAR.size
        for model in self.models:
            entries.append(TableEntry(PartitionType.BUNDLE_MODEL_INFO, offset, len(model)))
            offset += len(model)
        total = HEADER_SIZE + offset
        header = ModelFileHeader(magic=0, headsize=0, version=0, modeltype=MODELTYPE_BUNDLE,
                                 model_num=count, model_length=total)
        return [header.pack(), pack_table(entries, wide=True), _VAR.pack(self.var_size),
                *self.models]

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())


def bundle_sizes(bundle: Bundle) -> tuple[int, list[tuple[int, int]]]:
    """What the bundle query reports: the variable size and, per graph index, QuerySize's
    ``(work, const weight)`` — ``(0, 0)`` for a dynamic sub-graph, which cannot be sized
    (acl-api.md §5.9, om-format.md §6). Raises OmError for a corrupt sub-model."""
    from pytest_acl.om.reader import QUERY, expected_sizes, read_model

    sizes = []
    for sub in bundle.models:
        model = read_model(sub, QUERY)
        sizes.append((0, 0) if model.is_dynamic else expected_sizes(model))
    return bundle.var_size, sizes


def is_bundle(data: bytes | memoryview) -> bool:
    view = memoryview(data).cast("B")
    return len(view) >= HEADER_SIZE and ModelFileHeader.unpack(view).modeltype == MODELTYPE_BUNDLE


def read_bundle(data: bytes | memoryview) -> Bundle:
    """The bundle's variable size and sub-OM views, or OmError(100000, why)."""
    view = memoryview(data).cast("B")
    if len(view) < HEADER_SIZE + 8:
        raise OmError(E.ACL_ERROR_INVALID_PARAM,
                      f"{len(view)} bytes is too short for a bundle header and table")
    header = ModelFileHeader.unpack(view)
    if header.modeltype != MODELTYPE_BUNDLE:
        raise OmError(E.ACL_ERROR_INVALID_PARAM,
                      f"modeltype {header.modeltype} is not a bundle (5)")
    count = read_count(view, HEADER_SIZE, wide=True)
    cursor = HEADER_SIZE + table_size(count, wide=True)
    if cursor > len(view):
        raise OmError(E.ACL_ERROR_INVALID_PARAM,
                      f"the bundle table of {count} entries runs past the end of the data")
    var_size, models = None, []
    for entry in read_entries(view, HEADER_SIZE, count, wide=True):
        if cursor + entry.mem_size > len(view):
            raise OmError(E.ACL_ERROR_INVALID_PARAM,
                          f"bundle entry of type {entry.type} ({entry.mem_size} bytes) runs past "
                          "the end of the data")
        if entry.type == PartitionType.BUNDLE_MODEL_VAR_INFO:
            if entry.mem_size < _VAR.size:  # GE does not check this; a strict reader must
                raise OmError(E.ACL_ERROR_INVALID_PARAM,
                              f"VAR_INFO entry is {entry.mem_size} bytes, needs 8")
            var_size = _VAR.unpack_from(view, cursor)[0]
        elif entry.type == PartitionType.BUNDLE_MODEL_INFO:
            models.append(view[cursor:cursor + entry.mem_size])
        cursor += entry.mem_size
    if not models:
        raise OmError(E.ACL_ERROR_INVALID_PARAM, "the bundle holds no model")
    return Bundle(var_size or 0, models)
