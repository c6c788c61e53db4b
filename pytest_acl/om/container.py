"""The OM container as data: header + one partition group per (sub-)model, and its writer.

A static model has one group; a dynamic-shape root model has ``model_num`` groups written one
after another, each with its own table (om-format.md §2.2). Partitions are kept in file order,
unknown types included, so reading and writing an ATC-built file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pytest_acl.om.header import HEADER_SIZE, ModelFileHeader
from pytest_acl.om.partitions import PartitionType, layout, pack_table, table_size

Chunk = bytes | bytearray | memoryview


@dataclass
class Partition:
    """One partition. A writer may give its data as a tuple of chunks (e.g. one per weight),
    so a large partition is never assembled in memory before it is written."""

    type: int
    data: Chunk | tuple[Chunk, ...]

    @property
    def size(self) -> int:
        return sum(map(len, self.data)) if isinstance(self.data, tuple) else len(self.data)

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return self.data if isinstance(self.data, tuple) else (self.data,)

    def contiguous(self) -> Chunk:
        """The data as one buffer: itself (no copy), or its chunks joined."""
        return b"".join(self.data) if isinstance(self.data, tuple) else self.data

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks)


@dataclass
class PartitionGroup:
    """One model's partition table and partitions."""

    partitions: list[Partition] = field(default_factory=list)

    def find(self, kind: int) -> Partition | None:
        """The first partition of ``kind`` (duplicates are allowed; lookup takes the first)."""
        return next((p for p in self.partitions if p.type == kind), None)

    def size_of(self, kind: int) -> int:
        found = self.find(kind)
        return found.size if found is not None else 0

    def encoded_size(self, wide: bool) -> int:
        return table_size(len(self.partitions), wide) + sum(p.size for p in self.partitions)

    def encode(self, wide: bool) -> list[Chunk]:
        table = pack_table(layout([(p.type, p.size) for p in self.partitions]), wide)
        return [table, *(chunk for p in self.partitions for chunk in p.chunks)]


@dataclass
class OmModel:
    """A static (one group) or dynamic (several groups) OM file."""

    header: ModelFileHeader
    groups: list[PartitionGroup]
    wide: bool = True  # 64-bit partition table (current GE) or the legacy tiny one

    @property
    def is_dynamic(self) -> bool:
        return self.header.is_dynamic

    def payload_size(self) -> int:
        return sum(g.encoded_size(self.wide) for g in self.groups)

    def chunks(self) -> list[Chunk]:
        """The file as a list of chunks (no copy of big partitions); header fields that
        depend on the content (``model_length``/``length``, ``model_num``) are filled in."""
        payload = self.payload_size()
        header = replace(self.header, model_length=payload if self.wide else 0,
                         length=0 if self.wide else payload,
                         model_num=max(self.header.model_num, len(self.groups))
                         if len(self.groups) > 1 else self.header.model_num)
        out: list[Chunk] = [header.pack()]
        for group in self.groups:
            out.extend(group.encode(self.wide))
        return out

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())

    def weights_size(self) -> int:
        """Σ WEIGHTS_DATA over the sub-models — what QuerySize reports (om-format.md §3.2)."""
        return sum(g.size_of(PartitionType.WEIGHTS_DATA) for g in self.groups)


def file_size(model: OmModel) -> int:
    return HEADER_SIZE + model.payload_size()
