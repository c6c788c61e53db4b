"""A readable report of any .om file — ours or ATC's — and, for a bad one, the loader's verdict.

Used by ``pytest-acl models inspect``: header fields, partition table(s), the sizes QuerySize
would report, and for a corrupt file what is wrong and the aclError a CANN loader returns.
A file is read only if it is a regular file within ``MODEL_FILE_LIMIT`` (:mod:`.files`).
"""

from __future__ import annotations

from dataclasses import fields

from pytest_acl.constants import describe
from pytest_acl.om.bundle import read_bundle
from pytest_acl.om.container import OmModel
from pytest_acl.om.files import MODEL_FILE_LIMIT, PathLike, read_model_file
from pytest_acl.om.header import HEADER_SIZE, MODELTYPE_BUNDLE, ModelFileHeader
from pytest_acl.om.inout import InOutInfo
from pytest_acl.om.partitions import PartitionType, read_count, read_entries, table_size, type_name
from pytest_acl.om.reader import OmError, ReadOptions, expected_sizes, read_model


def _header_lines(header: ModelFileHeader) -> list[str]:
    lines = ["header:"]
    for f in fields(header):
        value = getattr(header, f.name)
        if isinstance(value, bytes):
            text = value.split(b"\0", 1)[0]
            shown = repr(text.decode("utf-8", "replace")) if text and all(
                32 <= b < 127 for b in text) else ("zeros" if not any(value) else value.hex())
        elif f.name in ("magic", "version"):
            shown = f"{value:#010x}"
        else:
            shown = str(value)
        lines.append(f"  {f.name:24} {shown}")
    return lines


def _tables(data: memoryview, header: ModelFileHeader) -> list[str]:
    """Best-effort listing of the partition tables, for files the loader may refuse."""
    wide = header.uses_64bit_table
    groups = header.model_num if header.is_dynamic else 1
    lines, pos = [], HEADER_SIZE
    for group in range(groups):
        if pos + table_size(0, wide) > len(data):
            lines.append(f"model {group}: no room for a partition table at byte {pos}")
            break
        count = read_count(data, pos, wide)
        if pos + table_size(count, wide) > len(data) or count > 4096:
            lines.append(f"model {group}: table of {count} entries does not fit in the file")
            break
        encoding = "64-bit" if wide else "legacy 32-bit"
        lines.append(f"model {group}: {encoding} partition table, {count} entries")
        cursor = pos + table_size(count, wide)
        for entry in read_entries(data, pos, count, wide):
            lines.append(f"  {type_name(entry.type):22} type {entry.type:<3} offset "
                         f"{entry.mem_offset:<10} size {entry.mem_size}")
            cursor += entry.mem_size
        pos = cursor
    return lines


def inspect_bytes(data: bytes | memoryview, name: str = "model") -> tuple[list[str], int]:
    """Report lines and the aclError a loader returns for it (0 when it loads)."""
    view = memoryview(data).cast("B")
    lines = [f"{name}: {len(view)} bytes"]
    if len(view) < HEADER_SIZE:
        error = OmError(ReadOptions().short_code, "shorter than the 256-byte header")
        return lines + [f"INVALID: {error}"], error.code
    header = ModelFileHeader.unpack(view)
    lines += _header_lines(header)
    if header.modeltype == MODELTYPE_BUNDLE:
        try:
            bundle = read_bundle(view)
        except OmError as error:
            return lines + [f"INVALID bundle: {error}"], error.code
        lines.append(f"bundle: {len(bundle.models)} graphs, variable memory {bundle.var_size} "
                     "bytes")
        worst = 0
        for index, sub in enumerate(bundle.models):
            sub_lines, code = inspect_bytes(sub, f"graph {index}")
            lines += ["  " + line for line in sub_lines]
            worst = worst or code
        return lines, worst
    lines += _tables(view, header)
    kind = "dynamic" if header.is_dynamic else "static"
    try:
        model = read_model(view)
    except OmError as error:
        return lines + [f"INVALID: {error}"], error.code
    work, weight = expected_sizes(model)
    lines.append(f"{kind} model; QuerySize: work {work} bytes, weight {weight} bytes")
    return lines + _gear_lines(model), 0


def _gear_lines(model: OmModel) -> list[str]:
    """The gears MODEL_INOUT_INFO records (ATC --dynamic_batch_size / _image_size / _dims)."""
    partition = model.groups[0].find(PartitionType.MODEL_INOUT_INFO)
    if partition is None:
        return []
    try:
        info = InOutInfo.decode(partition.contiguous())
        gears = info.gears()
    except ValueError as exc:
        return [f"MODEL_INOUT_INFO: not decoded ({exc})"]
    if gears is None:
        return []
    shown = "; ".join(",".join(map(str, v)) for v in gears.values)
    return [f"gears: {gears.kind} {shown} (inputs in order: {', '.join(info.data_name_order)})"]


def inspect_file(path: PathLike, limit: int = MODEL_FILE_LIMIT) -> tuple[list[str], int]:
    """:func:`inspect_bytes` of the file ``path``; a
    :class:`~pytest_acl.om.files.ModelFileError` (nothing read) for a directory, FIFO,
    device or a file larger than ``limit``."""
    return inspect_bytes(read_model_file(path, limit), str(path))


def verdict(code: int) -> str:
    return "loads" if code == 0 else f"a loader returns {describe(code)}"
