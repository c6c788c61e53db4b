"""Gears of a model built with ATC's ``--dynamic_batch_size`` / ``--dynamic_image_size`` /
``--dynamic_dims``, and the MODEL_INOUT_INFO partition (type 8) that records them.

ATC compiles such a model as a *static* model holding one subgraph per gear behind a Case
node, and adds an input ``ascend_mbatch_shape_data`` through which the gear is chosen at run
time (hicann/ge docs/en/design/features/dynamic_gear.md §3.3). GE saves what a desc needs in
MODEL_INOUT_INFO as TLV blocks ``{u32 type, u32 length, value}`` (om-format.md §2.1; hicann/ge
base/common/model/model_introduction.cc ``SaveTlvBlock``; parsed by runtime/v1/graph/load/
graph_loader.cc ``GetModelDescInfoFromMem``):

- 2 dynamic batch: ``u32 count`` then ``count`` × u64 (tlv/vec_int_value.cc);
- 3 dynamic HW and 4 dynamic dims: ``u32 count``, ``count`` × u32 part sizes, then the
  values, i64 each (tlv/vec_int_int_value.cc);
- 5 dynamic output shape and 6 data-name order: ``u32 count``, ``count`` × u32 lengths, then
  the strings without terminators (tlv/vec_str_value.cc). An output-shape string is
  ``"gear,output index,d0,d1,..."`` (compiler/graph/preprocess/multi_batch_copy_graph.cc
  ``GetDynamicShapeByGraph``); the order lists every input named in ``--input_shape``
  (multi_batch_clone_pass.cc: ``ATTR_USER_DESIGNEATE_SHAPE_ORDER`` from user_input_dims).

A block is written only when it is not empty (``NeedSave``). Types 0 and 1 (the tensor
descs) are not written by the simulator's compiler: its desc comes from the graph it carries
(UNCONFIRMED how a real GetDescFromMem answers a file without them). All integers are
little-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

BATCH, IMAGE_SIZE, DIMS = "batch", "image_size", "dims"
KINDS = (BATCH, IMAGE_SIZE, DIMS)
# ATC's options (hicann/ge docs/zh/user_guides/atc_tools/CLI_options/--dynamic_batch_size.md,
# --dynamic_image_size.md): gears separated by ",", or ";" between H,W pairs / dims groups.
ATC_OPTIONS = {BATCH: "--dynamic_batch_size", IMAGE_SIZE: "--dynamic_image_size",
               DIMS: "--dynamic_dims"}
# The extra input's name (hicann/ge inc/external/acl/acl_mdl.h ACL_DYNAMIC_TENSOR_NAME).
DYNAMIC_TENSOR_NAME = "ascend_mbatch_shape_data"
# ATC takes 2..100 gears on A2/A3/310P/910 (the option pages above; 950: 256);
# multi_batch_options.cc CheckDynamicParams refuses fewer than 2, negatives and duplicates.
MIN_GEARS, MAX_GEARS = 2, 100

TLV_INPUT_DESC, TLV_OUTPUT_DESC = 0, 1
TLV_DYNAMIC_BATCH, TLV_DYNAMIC_HW, TLV_DYNAMIC_DIMS = 2, 3, 4
TLV_DYNAMIC_OUTPUT_SHAPE, TLV_DATA_NAME_ORDER = 5, 6
_TLV_OF_KIND = {BATCH: TLV_DYNAMIC_BATCH, IMAGE_SIZE: TLV_DYNAMIC_HW, DIMS: TLV_DYNAMIC_DIMS}
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class Gears:
    """The gears a model was built with: ``values[i]`` fills the ``-1`` dimensions of the
    inputs (in input order) for gear ``i`` — one batch size for every input's first
    dimension (batch), one ``(H, W)`` for every input's H and W (image size), or each ``-1``
    in turn (dims), as ATC's multi_batch_options.cc ``ParserDataToDynamicInfo`` splits them."""

    kind: str
    values: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"gear kind {self.kind!r} is not one of {', '.join(KINDS)}")
        width = {BATCH: 1, IMAGE_SIZE: 2}.get(self.kind)
        if not MIN_GEARS <= len(self.values) <= MAX_GEARS:
            raise ValueError(f"{len(self.values)} gears; ATC takes {MIN_GEARS} to {MAX_GEARS}")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"duplicate gears in {self.values}")
        sizes = {len(v) for v in self.values}
        if len(sizes) != 1 or (width is not None and sizes != {width}) or 0 in sizes:
            raise ValueError(f"{self.kind} gears {self.values} do not all have "
                             f"{width or 'the same number of'} values")
        if any(d <= 0 for v in self.values for d in v):
            raise ValueError(f"gear values must be positive: {self.values}")

    def atc_option(self) -> str:
        """``--dynamic_batch_size=1,2,4`` / ``--dynamic_image_size=8,8;16,16`` / ...."""
        if self.kind == BATCH:
            text = ",".join(str(v[0]) for v in self.values)
        else:
            text = ";".join(",".join(map(str, v)) for v in self.values)
        return f"{ATC_OPTIONS[self.kind]}={text}"

    def largest(self) -> int:
        """The gear with the largest product of its values (the first of equals): ATC sizes
        each input for its largest gear (multi_batch_clone_pass.cc, the max_shape_index
        loop) and, without a set_dynamic_* call, the model runs at the largest batch or
        image size (the two ATC option pages, 接口约束)."""
        products = [_product(v) for v in self.values]
        return products.index(max(products))


def _product(values: tuple[int, ...]) -> int:
    result = 1
    for value in values:
        result *= value
    return result


def gear_shapes(kind: str, values: tuple[int, ...], shapes: list[list[int]]) -> list[list[int]]:
    """The input shapes of one gear: ``shapes`` (``-1`` for a dimension set by the gear)
    with the gear's values put in (CalcShape in multi_batch_options.cc)."""
    result, cursor = [], 0
    for shape in shapes:
        filled = []
        unknown = [i for i, d in enumerate(shape) if d < 0]
        if kind == BATCH:
            filled = [values[0] if d < 0 else d for d in shape]
        elif kind == IMAGE_SIZE:
            taken = dict(zip(unknown, values, strict=False))
            filled = [taken.get(i, d) for i, d in enumerate(shape)]
        else:
            for d in shape:
                if d < 0:
                    filled.append(values[cursor])
                    cursor += 1
                else:
                    filled.append(d)
        result.append(filled)
    return result


@dataclass
class InOutInfo:
    """The dynamic part of MODEL_INOUT_INFO (types 2-6; 0 and 1 are kept as raw bytes)."""

    dynamic_batch: list[int] = field(default_factory=list)
    dynamic_hw: list[list[int]] = field(default_factory=list)
    dynamic_dims: list[list[int]] = field(default_factory=list)
    dynamic_output_shape: list[str] = field(default_factory=list)
    data_name_order: list[str] = field(default_factory=list)
    other: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, gears: Gears, order: list[str], output_shapes: list[list[list[int]]]
           ) -> InOutInfo:
        """What GE records for ``gears`` (model_introduction.cc ConstructDynamicInfo):
        ``output_shapes[gear][output]``."""
        info = cls(data_name_order=list(order),
                   dynamic_output_shape=[",".join(map(str, [g, o, *shape]))
                                         for g, outputs in enumerate(output_shapes)
                                         for o, shape in enumerate(outputs)])
        rows = [list(v) for v in gears.values]
        if gears.kind == BATCH:
            info.dynamic_batch = [v[0] for v in rows]
        elif gears.kind == IMAGE_SIZE:
            info.dynamic_hw = rows
        else:
            info.dynamic_dims = rows
        return info

    def gears(self) -> Gears | None:
        """The gears these blocks describe, or None (a model built without gears)."""
        if self.dynamic_batch:
            return Gears(BATCH, tuple((b,) for b in self.dynamic_batch))
        if self.dynamic_hw:
            return Gears(IMAGE_SIZE, tuple(tuple(v) for v in self.dynamic_hw))
        if self.dynamic_dims:
            return Gears(DIMS, tuple(tuple(v) for v in self.dynamic_dims))
        return None

    def encode(self) -> bytes:
        blocks = [(t, v) for t, v in sorted(self.other.items()) if t < TLV_DYNAMIC_BATCH]
        if self.dynamic_batch:
            blocks.append((TLV_DYNAMIC_BATCH, _U32.pack(len(self.dynamic_batch)) + b"".join(
                struct.pack("<Q", v) for v in self.dynamic_batch)))
        for kind, rows in ((TLV_DYNAMIC_HW, self.dynamic_hw), (TLV_DYNAMIC_DIMS,
                                                               self.dynamic_dims)):
            if rows:
                blocks.append((kind, _U32.pack(len(rows))
                               + b"".join(_U32.pack(len(r)) for r in rows)
                               + b"".join(struct.pack("<q", v) for r in rows for v in r)))
        for kind, strings in ((TLV_DYNAMIC_OUTPUT_SHAPE, self.dynamic_output_shape),
                              (TLV_DATA_NAME_ORDER, self.data_name_order)):
            if strings:
                raw = [s.encode() for s in strings]
                blocks.append((kind, _U32.pack(len(raw)) + b"".join(_U32.pack(len(r))
                                                                     for r in raw)
                               + b"".join(raw)))
        return b"".join(_U32.pack(t) + _U32.pack(len(v)) + v for t, v in blocks)

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> InOutInfo:
        """Raises ValueError for blocks that run past the partition or an unknown type
        (GetModelDescInfoFromMem fails on both)."""
        data = bytes(data)
        info, offset = cls(), 0
        while offset < len(data):
            if offset + 8 > len(data):
                raise ValueError(f"a TLV header at byte {offset} runs past the partition")
            kind, length = struct.unpack_from("<II", data, offset)
            value = data[offset + 8:offset + 8 + length]
            if len(value) != length:
                raise ValueError(f"TLV type {kind} of {length} bytes runs past the partition")
            offset += 8 + length
            if kind in (TLV_INPUT_DESC, TLV_OUTPUT_DESC):
                info.other[kind] = value
            elif kind == TLV_DYNAMIC_BATCH:
                count = _count(value, 8)
                info.dynamic_batch = list(struct.unpack_from(f"<{count}Q", value, 4))
            elif kind in (TLV_DYNAMIC_HW, TLV_DYNAMIC_DIMS):
                rows = _rows(value)
                if kind == TLV_DYNAMIC_HW:
                    info.dynamic_hw = rows
                else:
                    info.dynamic_dims = rows
            elif kind in (TLV_DYNAMIC_OUTPUT_SHAPE, TLV_DATA_NAME_ORDER):
                strings = _strings(value)
                if kind == TLV_DATA_NAME_ORDER:
                    info.data_name_order = strings
                else:
                    info.dynamic_output_shape = strings
            else:
                raise ValueError(f"unknown MODEL_INOUT_INFO block type {kind}")
        return info


def _count(value: bytes, item: int) -> int:
    if len(value) < 4:
        raise ValueError("a TLV value without its count")
    count = _U32.unpack_from(value)[0]
    if 4 + count * item > len(value):
        raise ValueError(f"{count} items of {item} bytes do not fit in {len(value)} bytes")
    return count


def _rows(value: bytes) -> list[list[int]]:
    count = _count(value, 4)
    parts = struct.unpack_from(f"<{count}I", value, 4)
    offset = 4 + 4 * count
    if offset + 8 * sum(parts) > len(value):
        raise ValueError("the values run past the TLV block")
    rows = []
    for part in parts:
        rows.append(list(struct.unpack_from(f"<{part}q", value, offset)))
        offset += 8 * part
    return rows


def _strings(value: bytes) -> list[str]:
    count = _count(value, 4)
    lengths = struct.unpack_from(f"<{count}I", value, 4)
    offset = 4 + 4 * count
    if offset + sum(lengths) > len(value):
        raise ValueError("the strings run past the TLV block")
    strings = []
    for length in lengths:
        strings.append(value[offset:offset + length].decode("utf-8", "replace"))
        offset += length
    return strings
