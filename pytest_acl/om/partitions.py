"""Partition tables: the 64-bit and the legacy ("tiny") encoding (om-format.md §2.1).

A table lists ``(type, mem_offset, mem_size)`` entries; partitions follow the table back to
back. GE's loader walks sizes in order and ignores ``mem_offset``; Netron trusts
``mem_offset``. Our writer makes the two views agree.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass


class PartitionType(enum.IntEnum):
    MODEL_DEF = 0
    WEIGHTS_DATA = 1
    TASK_INFO = 2
    TBE_KERNELS = 3
    CUST_AICPU_KERNELS = 4
    SO_BINS = 5
    FLOW_MODEL = 6
    FLOW_SUBMODEL = 7
    MODEL_INOUT_INFO = 8
    STATIC_TASK_DESC = 9
    DYNAMIC_TASK_DESC = 10
    TASK_PARAM = 11
    TILING_DATA = 12
    PRE_MODEL_DESC = 20
    PRE_MODEL_SQE = 21
    PRE_KERNEL_ARGS = 22
    PRE_MODEL_DESC_EXTEND = 23
    BUNDLE_MODEL_INFO = 24
    BUNDLE_MODEL_VAR_INFO = 25
    CUSTOM_OPS = 26


def type_name(value: int) -> str:
    """``"WEIGHTS_DATA"`` — or ``"UNKNOWN_<n>"``: unknown types are kept, never rejected."""
    try:
        return PartitionType(value).name
    except ValueError:
        return f"UNKNOWN_{value}"


@dataclass(frozen=True)
class TableEntry:
    type: int
    mem_offset: int
    mem_size: int


_HEAD64 = struct.Struct("<I4x")
_ENTRY64 = struct.Struct("<IIQQ")
_HEAD_TINY = struct.Struct("<I")
_ENTRY_TINY = struct.Struct("<III")


def table_size(count: int, wide: bool) -> int:
    return (_HEAD64.size + _ENTRY64.size * count) if wide else \
        (_HEAD_TINY.size + _ENTRY_TINY.size * count)


def pack_table(entries: list[TableEntry], wide: bool = True) -> bytes:
    if wide:
        return _HEAD64.pack(len(entries)) + b"".join(
            _ENTRY64.pack(e.type, 0, e.mem_offset, e.mem_size) for e in entries)
    return _HEAD_TINY.pack(len(entries)) + b"".join(
        _ENTRY_TINY.pack(e.type, e.mem_offset, e.mem_size) for e in entries)


def read_count(data: bytes | memoryview, offset: int, wide: bool) -> int:
    return (_HEAD64 if wide else _HEAD_TINY).unpack_from(data, offset)[0]


def read_entries(data: bytes | memoryview, offset: int, count: int,
                 wide: bool) -> list[TableEntry]:
    """The ``count`` entries of the table at ``offset``; the caller checked they fit."""
    head, entry = (_HEAD64, _ENTRY64) if wide else (_HEAD_TINY, _ENTRY_TINY)
    start = offset + head.size
    result = []
    for index in range(count):
        values = entry.unpack_from(data, start + index * entry.size)
        kind, mem_offset, mem_size = (values[0], values[2], values[3]) if wide else values
        result.append(TableEntry(kind, mem_offset, mem_size))
    return result


def layout(types_and_sizes: list[tuple[int, int]]) -> list[TableEntry]:
    """Entries for partitions packed back to back, offsets from the end of the table."""
    entries, offset = [], 0
    for kind, size in types_and_sizes:
        entries.append(TableEntry(kind, offset, size))
        offset += size
    return entries
