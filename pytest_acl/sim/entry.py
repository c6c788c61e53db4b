"""How a model's bytes reach the loader: a file read, or the caller's host buffer — and, in
releases with the ``model_router`` behaviour (9.1 on), the router's probe in front of every
load, size query and bundle entry (reference/cann-behaviour.md preamble, §1, §4, §8).

What happens to the bytes next (the 256-byte header, magic, length, partitions) is the OM
reader's (pytest_acl.om.reader), the same in every release.
"""

from __future__ import annotations

from pathlib import Path

from pytest_acl.constants import AclError
from pytest_acl.sim import hostmem
from pytest_acl.sim.devmem import is_device_address
from pytest_acl.sim.pyargs import AclFail
from pytest_acl.sim.releases import Release

E = AclError
# gert::IsOm2Model reads a 4-byte magic: anything shorter is refused before any loader runs
# (runtime/om2/om2_model_executor.cc 1698-1745).
ROUTER_MINIMUM = 4


def model_file(path: str, release: Release) -> bytes:
    """The file's bytes. A missing file → 145002 (every release); an empty one → 145002
    before 9.1 (``GetFileLength`` returns -1), 145006 from the router; 1-3 bytes → 145006
    from the router (shorter than the header: the loaders' own codes before it)."""
    try:
        data = Path(path).read_bytes() if path else None
    except OSError as exc:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID,
                      f"cannot read model file {path!r}: {exc.strerror}") from None
    if data is None:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID, "the model path is empty")
    if release.has("model_router") and len(data) < ROUTER_MINIMUM:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID,
                      f"model file {path!r} has {len(data)} bytes, too few for an om")
    if not data:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID, f"model file {path!r} is empty")
    return data


def model_buffer(ptr: int, size: int, release: Release, *, query: bool = False) -> memoryview:
    """The caller's model buffer (no copy). NULL or size 0 → 100000 — except that before 9.1
    QuerySizeFromMem of size 0 reaches the parser, 145000; 1-3 bytes → 145006 from the router.
    Memory that is not mapped host memory → 100000 (the simulator's check: on EP products
    the model buffer is host memory, reference/acl-api.md §5.11; UNCONFIRMED code)."""
    router = release.has("model_router")
    if size == 0 and query and not router:
        raise AclFail(E.ACL_ERROR_GE_PARAM_INVALID, "model size is 0")
    if ptr == 0 or size == 0:
        raise AclFail(E.ACL_ERROR_INVALID_PARAM, "model pointer is NULL or model size is 0")
    if router and size < ROUTER_MINIMUM:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID,
                      f"model data of {size} bytes is too short for an om")
    if is_device_address(ptr) or not hostmem.is_mapped(ptr, size):
        raise AclFail(E.ACL_ERROR_INVALID_PARAM,
                      f"model data {ptr:#x}+{size} is not mapped host memory (on EP products "
                      "the model buffer is host memory)")
    return hostmem.view(ptr, size)
