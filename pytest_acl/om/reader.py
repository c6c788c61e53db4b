"""Read and validate an OM file in the order CANN's loader checks it (om-format.md §4).

``read_model`` returns the parsed model or raises :class:`OmError` carrying the aclError a
CANN loader returns for the first defect found, so the simulator and the suite share one
source of truth. Only the container is interpreted — header, tables, partition bounds, and
that MODEL_DEF / TASK_INFO are protobuf — so real ATC-built files read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_acl.constants import AclError
from pytest_acl.om import protobuf as pb
from pytest_acl.om.container import OmModel, Partition, PartitionGroup
from pytest_acl.om.header import (
    HEADER_SIZE,
    MAGIC,
    MODELTYPE_BUNDLE,
    MODELTYPE_FLOW,
    ModelFileHeader,
)
from pytest_acl.om.modeldef import ModelDef, ModelTaskDef
from pytest_acl.om.partitions import PartitionType, read_count, read_entries, table_size

E = AclError
MAX_PARTITIONS = 8  # CheckPartitionTableNum in current GE: 1–8 (§2.1)
MAX_FLOW_PARTITIONS = 4096


class OmError(Exception):
    """A defect a CANN loader rejects, with the code it returns and a plain explanation."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} (aclError {self.code} {E(self.code).name})"


@dataclass(frozen=True)
class ReadOptions:
    """How the caller reached the loader, which changes a few answers."""

    # < 256 bytes: 145006 from a file, 100000 from memory with RT2 (§4 row 3), 145000 for
    # QuerySize, which remaps every ParseModelContent failure (§3.2 step 1).
    short_code: int = E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID
    # Loading decodes MODEL_DEF and checks the model type; QuerySize does neither (§3.2).
    for_query: bool = False


LOAD_FILE = ReadOptions()
LOAD_MEM = ReadOptions(short_code=E.ACL_ERROR_INVALID_PARAM)
QUERY = ReadOptions(short_code=E.ACL_ERROR_GE_PARAM_INVALID, for_query=True)


def _group(data: memoryview, pos: int, end: int, wide: bool, flow: bool,
           index: int) -> tuple[PartitionGroup, int]:
    head = table_size(0, wide)
    if end - pos <= head:
        raise OmError(E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID,
                      f"model {index}: {end - pos} bytes left, too few for a partition table")
    count = read_count(data, pos, wide)
    limit = MAX_FLOW_PARTITIONS if flow else MAX_PARTITIONS
    if not 1 <= count <= limit:
        raise OmError(E.ACL_ERROR_GE_PARAM_INVALID,
                      f"model {index}: partition count {count} is not in 1..{limit}")
    table_end = pos + table_size(count, wide)
    if table_end >= end:
        raise OmError(E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID,
                      f"model {index}: the file ends inside or right after the partition table")
    group, cursor = PartitionGroup(), table_end
    for entry in read_entries(data, pos, count, wide):
        if cursor + entry.mem_size > end:
            raise OmError(E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID,
                          f"model {index}: partition type {entry.type} of {entry.mem_size} "
                          f"bytes runs {cursor + entry.mem_size - end} bytes past the end")
        group.partitions.append(Partition(entry.type, data[cursor:cursor + entry.mem_size]))
        cursor += entry.mem_size
    return group, cursor


def _check_protobufs(group: PartitionGroup, index: int, model_def_too: bool) -> None:
    model_def = group.find(PartitionType.MODEL_DEF)
    if not model_def_too:
        pass
    elif model_def is None:
        raise OmError(E.ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
                      f"model {index}: no MODEL_DEF partition")
    else:
        try:
            ModelDef.decode(model_def.contiguous())
        except pb.DecodeError as exc:
            raise OmError(E.ACL_ERROR_GE_EXEC_LOAD_MODEL_PARTITION_FAILED,
                          f"model {index}: MODEL_DEF is not a ModelDef protobuf ({exc})") \
                from None
    task = group.find(PartitionType.TASK_INFO)
    if task is not None:
        try:
            ModelTaskDef.decode(task.contiguous())
        except pb.DecodeError as exc:
            raise OmError(E.ACL_ERROR_GE_EXEC_LOAD_TASK_PARTITION_FAILED,
                          f"model {index}: TASK_INFO is not a ModelTaskDef protobuf ({exc})") \
                from None


def read_model(data: bytes | memoryview, options: ReadOptions = LOAD_FILE) -> OmModel:
    """Parse and validate a (non-bundle) OM file; partitions are views into ``data``."""
    view = memoryview(data).cast("B")
    if len(view) < HEADER_SIZE:
        raise OmError(options.short_code,
                      f"{len(view)} bytes is shorter than the 256-byte model header")
    header = ModelFileHeader.unpack(view)
    if header.modeltype == MODELTYPE_BUNDLE:  # cann-behaviour.md §1, §4 'bundle file'
        raise OmError(E.ACL_ERROR_GE_PARAM_INVALID if options.for_query else
                      E.ACL_ERROR_GE_FAILURE,
                      "this is a bundle (modeltype 5); load it with the bundle APIs")
    if header.magic != MAGIC:
        raise OmError(E.ACL_ERROR_GE_PARAM_INVALID,
                      f"bad magic {header.magic:#010x}, expected {MAGIC:#010x} ('IMOD')")
    if header.payload_length != len(view) - HEADER_SIZE:
        raise OmError(E.ACL_ERROR_GE_PARAM_INVALID,
                      f"header says {header.payload_length} payload bytes, the data has "
                      f"{len(view) - HEADER_SIZE}")
    # header.is_encrypt is not checked: nothing in GE reads it since v8.5.0
    # (cann-behaviour.md §1, "header is_encrypt = 1").
    wide = header.uses_64bit_table
    flow = header.modeltype == MODELTYPE_FLOW
    count = header.model_num if header.is_dynamic else 1
    groups, pos = [], HEADER_SIZE
    for index in range(count):
        group, pos = _group(view, pos, len(view), wide, flow, index)
        groups.append(group)
    if header.is_dynamic and pos != len(view):
        raise OmError(E.ACL_ERROR_GE_FAILURE,
                      f"the {count} model groups end at byte {pos}, the file at {len(view)}")
    if not header.is_dynamic and len(groups[0].partitions) == 1:
        # QuerySize: PARAM_INVALID (§3.2 step 3); loading refuses it too ("please use
        # executable om model", §2.1) — with the same code, an assumption (UNCONFIRMED).
        raise OmError(E.ACL_ERROR_GE_PARAM_INVALID,
                      "only one partition: an original-graph om, not an executable one")
    for index, group in enumerate(groups):
        _check_protobufs(group, index, model_def_too=not options.for_query)
    return OmModel(header, groups, wide)


def expected_sizes(model: OmModel) -> tuple[int, int]:
    """``(work, weight)`` as CANN's QuerySize computes them from the file (om-format.md §3.2):
    weight = Σ WEIGHTS_DATA sizes; work = 0 for a dynamic model, else TASK_INFO.memory_size
    of model 0 (0 without TASK_INFO)."""
    weight = model.weights_size()
    if model.is_dynamic:
        return 0, weight
    task = model.groups[0].find(PartitionType.TASK_INFO)
    return (ModelTaskDef.decode(task.contiguous()).memory_size if task is not None else 0), weight
