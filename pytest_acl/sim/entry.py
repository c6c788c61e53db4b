"""How a model's bytes reach the loader: a file read, or the caller's host buffer — and, in
releases with the ``model_router`` behaviour (9.1 on), the router's probe in front of every
load, size query and bundle entry (reference/cann-behaviour.md preamble, §1, §4, §8).

What happens to the bytes next (the 256-byte header, magic, length, partitions) is the OM
reader's (pytest_acl.om.reader), the same in every release.
"""

from __future__ import annotations

from pytest_acl.constants import AclError
from pytest_acl.om.files import MODEL_FILE_LIMIT, REASON_TOO_LARGE, ModelFileError, read_model_file
from pytest_acl.sim import hostmem
from pytest_acl.sim.devmem import is_device_address
from pytest_acl.sim.pyargs import AclFail
from pytest_acl.sim.releases import Release

E = AclError
# gert::IsOm2Model reads a 4-byte magic: anything shorter is refused before any loader runs
# (runtime/om2/om2_model_executor.cc 1698-1745).
ROUTER_MINIMUM = 4


def model_file(path: str, release: Release, limit: int = MODEL_FILE_LIMIT) -> bytes:
    """The file's bytes. A missing file → 145002 (every release); an empty one → 145002
    before 9.1 (``GetFileLength`` returns -1), 145006 from the router; 1-3 bytes → 145006
    from the router (shorter than the header: the loaders' own codes before it).

    Only a regular file is read (om/files.py): a directory, FIFO or device → 145002 at once,
    without blocking (GE's ``GetFileLength`` gives -1 for what has no length; UNCONFIRMED
    for a FIFO). A file larger than ``limit`` — the device memory a model could take — is
    refused unread with 145006 (UNCONFIRMED: a card fails such a load later, on memory)."""
    if not path:
        raise AclFail(E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID, "the model path is empty")
    try:
        data = read_model_file(path, limit)
    except ModelFileError as error:
        code = (E.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID if error.reason == REASON_TOO_LARGE
                else E.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID)
        raise AclFail(code, str(error)) from None
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
