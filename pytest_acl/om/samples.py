"""Small, valid OM files built in code — for tests of the container and the corpus, where
compiling an ONNX model would add nothing but time."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_acl.om.container import OmModel, Partition, PartitionGroup
from pytest_acl.om.header import ModelFileHeader
from pytest_acl.om.modeldef import ModelDef, ModelTaskDef
from pytest_acl.om.partitions import PartitionType


def static_model(work: int = 2048, weights: bytes = bytes(range(256)) * 4, wide: bool = True,
                 extra: Sequence[Partition] = (), name: str = "m") -> OmModel:
    """MODEL_DEF + WEIGHTS_DATA + TASK_INFO (+ ``extra``), the layout GE writes (§7)."""
    group = PartitionGroup([
        Partition(PartitionType.MODEL_DEF, ModelDef(name, {"memory_size": work,
                                                           "weight_size": len(weights)}).encode()),
        Partition(PartitionType.WEIGHTS_DATA, weights),
        Partition(PartitionType.TASK_INFO, ModelTaskDef(work, len(weights)).encode()),
        *extra])
    return OmModel(ModelFileHeader().with_name(name), [group], wide)
