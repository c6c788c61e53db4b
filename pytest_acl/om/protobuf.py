"""A minimal protobuf wire-format codec: enough to write and read GE's ModelDef/ModelTaskDef.

OM partitions MODEL_DEF and TASK_INFO are protobuf messages (om-format.md §2.1, §3.2); we
write them with GE's field numbers so third-party readers (Netron, GE itself) can parse our
files, and read back only the fields we use. The codec knows the wire format only — varint
(0), 64-bit (1), length-delimited (2) and 32-bit (5) — not the schemas; callers name fields by
number. Unknown fields are skipped, as protobuf readers do.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
Data = bytes | bytearray | memoryview  # what the decoder reads


class DecodeError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 negatives are encoded as 10-byte two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def int_field(field: int, value: int) -> bytes:
    """A varint field (int32/int64/uint32/uint64/bool/enum); proto3 omits zero values."""
    return _key(field, VARINT) + varint(value) if value else b""


def bytes_field(field: int, value: bytes | str) -> bytes:
    """A length-delimited field: string, bytes or an embedded message."""
    data = value.encode() if isinstance(value, str) else value
    return _key(field, LENGTH) + varint(len(data)) + data


def float_field(field: int, value: float) -> bytes:
    return _key(field, FIXED32) + struct.pack("<f", value)


def _read_varint(data: Data, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint longer than 10 bytes")


def fields(data: Data) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` for each field; value is an int or bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise DecodeError("field number 0")
        if wire == VARINT:
            value, pos = _read_varint(data, pos)
            yield field, wire, value
        elif wire == FIXED64:
            if pos + 8 > len(data):
                raise DecodeError("truncated 64-bit field")
            yield field, wire, bytes(data[pos:pos + 8])
            pos += 8
        elif wire == LENGTH:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise DecodeError(f"field {field}: length {size} runs past the message end")
            yield field, wire, bytes(data[pos:pos + size])
            pos += size
        elif wire == FIXED32:
            if pos + 4 > len(data):
                raise DecodeError("truncated 32-bit field")
            yield field, wire, bytes(data[pos:pos + 4])
            pos += 4
        else:
            raise DecodeError(f"field {field}: unsupported wire type {wire}")


def decode(data: Data) -> dict[int, list[int | bytes]]:
    """All fields of a message, by number, values in order (repeated fields keep them all)."""
    result: dict[int, list[int | bytes]] = {}
    for field, _, value in fields(data):
        result.setdefault(field, []).append(value)
    return result
