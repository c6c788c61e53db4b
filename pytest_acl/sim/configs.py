"""Config handles' rules: the attribute checker behind ``aclmdlSetConfigOpt`` and what
``aclmdlLoadWithConfig`` does with the attributes (reference/acl-api.md §2, §2.1;
cann-behaviour.md §7). acl_config.py parses pyACL's arguments and calls these.

The queue load types (5, 6) pass the attribute checks and then answer
ACL_ERROR_API_NOT_SUPPORT, as a build without queue support (UNCONFIRMED code; pyACL compiles
the queue loaders only with USE_MDL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_acl.constants import AclError, MdlConfigAttr, MdlLoadType
from pytest_acl.om.reader import LOAD_FILE, LOAD_MEM
from pytest_acl.sim.acl_rt import STREAM_PRIORITY_GREATEST, STREAM_PRIORITY_LEAST
from pytest_acl.sim.entry import model_buffer, model_file
from pytest_acl.sim.models import LoadedModel, ModelManager
from pytest_acl.sim.pyargs import AclFail

E = AclError
A = MdlConfigAttr
T = MdlLoadType
_NOT_NULL = {A.ACL_MDL_MEM_ADDR_PTR, A.ACL_MDL_WEIGHT_PATH_PTR, A.ACL_MDL_INPUTQ_ADDR_PTR,
             A.ACL_MDL_OUTPUTQ_ADDR_PTR}
# Attributes the full ACL's checker knows (g_setMdlConfigMap); 15–27 and 29 are not in it.
_KNOWN = set(range(0, 15)) | {int(A.ACL_MDL_WITHOUT_GRAPH_INT32)}
_QUEUES = (A.ACL_MDL_INPUTQ_NUM_SIZET, A.ACL_MDL_INPUTQ_ADDR_PTR, A.ACL_MDL_OUTPUTQ_NUM_SIZET,
           A.ACL_MDL_OUTPUTQ_ADDR_PTR)
_QUEUE_COUNTS = (A.ACL_MDL_INPUTQ_NUM_SIZET, A.ACL_MDL_OUTPUTQ_NUM_SIZET)
# The device's stream priority range (aclrtDeviceGetStreamPriorityRange; cann-behaviour.md §7).
PRIORITY_RANGE = range(STREAM_PRIORITY_GREATEST, STREAM_PRIORITY_LEAST + 1)


@dataclass
class ConfigHandle:
    values: dict[int, Any] = field(default_factory=dict)


def check(attr: int, value: Any) -> None:
    """The C checker of §2 for what pyACL passes; raises AclFail(100000)."""
    if attr not in _KNOWN:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"config attribute {attr} is not supported")
    if attr == A.ACL_MDL_WITHOUT_GRAPH_INT32:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                      "ACL_MDL_WITHOUT_GRAPH_INT32 wants a 4-byte value; pyACL passes 8")
    if attr == A.ACL_MDL_PRIORITY_INT32 and value not in PRIORITY_RANGE:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                      f"priority {value} is outside the device's stream priority range "
                      f"[{PRIORITY_RANGE.start}, {PRIORITY_RANGE.stop - 1}]")
    if attr == A.ACL_MDL_LOAD_TYPE_SIZET and value not in range(1, 7):
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"load type {value} is outside [1, 6]")
    if attr == A.ACL_MDL_WORKSPACE_MEM_OPTIMIZE and value not in (0, 1):
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"workspace optimize {value} is not 0 or 1")
    if attr in _NOT_NULL and not value:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"attribute {A(attr).name} must not be NULL")



def load(values: dict[int, Any], models: ModelManager) -> LoadedModel:
    """Load what a config handle's attributes describe, checking them as CANN does (the
    9.1 router probes PATH first)."""
    release = models.cann
    values = models.faults.config_attributes(values)
    if release.has("model_router"):  # it probes PATH before anything else is checked
        path = values.get(A.ACL_MDL_PATH_PTR)
        if path == "" and not values.get(A.ACL_MDL_MEM_ADDR_PTR):
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, "ACL_MDL_PATH_PTR is empty and no "
                          "ACL_MDL_MEM_ADDR_PTR is set")
        if path:
            model_file(path, release, models.file_limit)
    load_type = values.get(A.ACL_MDL_LOAD_TYPE_SIZET)
    if load_type is None:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, "ACL_MDL_LOAD_TYPE_SIZET is not set")
    from_file = load_type in (T.ACL_MDL_LOAD_FROM_FILE, T.ACL_MDL_LOAD_FROM_FILE_WITH_MEM,
                              T.ACL_MDL_LOAD_FROM_FILE_WITH_Q)
    needed = [A.ACL_MDL_PATH_PTR] if from_file else [A.ACL_MDL_MEM_ADDR_PTR,
                                                     A.ACL_MDL_MEM_SIZET]
    if load_type in (T.ACL_MDL_LOAD_FROM_FILE_WITH_Q, T.ACL_MDL_LOAD_FROM_MEM_WITH_Q):
        needed += list(_QUEUES)
    missing = [A(attr).name for attr in needed if attr not in values]
    if missing:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                      f"load type {load_type} needs {', '.join(missing)}")
    if from_file and A.ACL_MDL_WEIGHT_PATH_PTR in values:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                      "ACL_MDL_WEIGHT_PATH_PTR is only for the memory load types")
    if needed[-1] in _QUEUES and not all(values[count] for count in _QUEUE_COUNTS):
        # aclmdlCheckQueueParam (cann-behaviour.md §7; model.cpp 59)
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, "a queue load with a queue count of 0")
    if needed[-1] in _QUEUES:
        raise AclFail(E.ACL_ERROR_API_NOT_SUPPORT,
                      "queue loading is not supported by this build")
    with_mem = load_type in (T.ACL_MDL_LOAD_FROM_FILE_WITH_MEM,
                             T.ACL_MDL_LOAD_FROM_MEM_WITH_MEM)
    memory = [values.get(A.ACL_MDL_WORKSPACE_ADDR_PTR, 0),
              values.get(A.ACL_MDL_WORKSPACE_SIZET, 0),
              values.get(A.ACL_MDL_WEIGHT_ADDR_PTR, 0),
              values.get(A.ACL_MDL_WEIGHT_SIZET, 0)] if with_mem else [0, 0, 0, 0]
    faults = models.faults
    if from_file:
        data = faults.config_model_bytes(
            model_file(values[A.ACL_MDL_PATH_PTR], release, models.file_limit))
        return models.load(data, LOAD_FILE, *memory)
    data = model_buffer(values[A.ACL_MDL_MEM_ADDR_PTR], values[A.ACL_MDL_MEM_SIZET], release)
    return models.load(faults.config_model_bytes(data), LOAD_MEM, *memory)
