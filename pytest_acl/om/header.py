"""The 256-byte ``ModelFileHeader`` of an OM file (om-format.md §1), little-endian.

Every field is kept, including the ones no loader reads, so a header read from an ATC-built
file and written back is byte-identical.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields, replace

MAGIC = 0x444F4D49  # bytes "IMOD" on disk
HEADER_SIZE = 256
MODEL_VERSION = 0x20000000  # "2.0"; models older than this cannot be dynamic

# ModelHeaderType (om-format.md §1, offset 82)
MODELTYPE_IR = 0
MODELTYPE_STANDARD = 1
MODELTYPE_TINY = 2
MODELTYPE_FLOW = 3
MODELTYPE_LITE = 4
MODELTYPE_BUNDLE = 5

_LAYOUT = struct.Struct("<III64sIBBBB32sI32sII20sB3sQBB62s")
assert _LAYOUT.size == HEADER_SIZE


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


@dataclass(frozen=True)
class ModelFileHeader:
    magic: int = MAGIC
    headsize: int = HEADER_SIZE
    version: int = MODEL_VERSION
    checksum: bytes = bytes(64)
    length: int = 0
    is_encrypt: int = 0
    is_checksum: int = 0
    modeltype: int = MODELTYPE_IR
    genmode: int = 0
    name: bytes = bytes(32)
    ops: int = 0
    userdefineinfo: bytes = bytes(32)
    om_ir_version: int = 0
    model_num: int = 1
    platform_version: bytes = bytes(20)
    platform_type: int = 0
    padd: bytes = bytes(3)
    model_length: int = 0
    need_check_os_cpu_info: int = 0
    is_unknow_model: int = 0
    reserved: bytes = bytes(62)

    @classmethod
    def unpack(cls, data: bytes | memoryview) -> ModelFileHeader:
        """Read the first 256 bytes of ``data`` (the caller checks there are that many)."""
        return cls(*_LAYOUT.unpack_from(data, 0))

    def pack(self) -> bytes:
        return _LAYOUT.pack(*(getattr(self, f.name) for f in fields(self)))

    def with_name(self, name: str) -> ModelFileHeader:
        return replace(self, name=name.encode()[:31].ljust(32, b"\0"))

    @property
    def model_name(self) -> str:
        return _text(self.name)

    @property
    def platform(self) -> str:
        return _text(self.platform_version)

    @property
    def payload_length(self) -> int:
        """What the loader compares with file size − 256: ``model_length`` if set, else
        ``length`` (om-format.md §4 row 5)."""
        return self.model_length or self.length

    @property
    def uses_64bit_table(self) -> bool:
        """64-bit partition table when ``model_length != 0`` or flow model (§2.1)."""
        return self.model_length != 0 or self.modeltype == MODELTYPE_FLOW

    @property
    def is_dynamic(self) -> bool:
        """GE's ``IsDynamicModel``: v2 header and (several models or unknown shape) (§2.2)."""
        return self.version >= MODEL_VERSION and (self.model_num > 1 or self.is_unknow_model == 1)
