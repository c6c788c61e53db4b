"""Top-level ``acl`` functions: init, finalize, versions, the SoC name and ``app_log``.

Reference-count semantics follow reference/acl-api.md §5.13: a repeated ``init`` returns
100002 and counts; one ``finalize`` zeroes the count; ``finalize_reference`` decrements it;
finalizing an uninitialised runtime returns 100037.
"""

from __future__ import annotations

import os

from pytest_acl.constants import AclError, DataType
from pytest_acl.sim.pyargs import (
    AclFail,
    parses_own,
    pyacl,
    raised_by_pyacl,
    take_recent_error,
)
from pytest_acl.sim.runtime import Runtime

E = AclError
# aclrtGetVersion reports the interface version; RT-HDR acl_rt.h says "Current version is
# 1.17.0" (reference/acl-api.md §0, RT-HDR).
ACL_INTERFACE_VERSION = (1, 17, 0)


# aclDataTypeSize by aclDataType (acl_base.h): ACL_STRING and undefined types have none.
DATA_TYPE_SIZES: dict[int, int] = {
    DataType.ACL_FLOAT: 4, DataType.ACL_FLOAT16: 2, DataType.ACL_INT8: 1,
    DataType.ACL_INT32: 4, DataType.ACL_UINT8: 1, DataType.ACL_INT16: 2,
    DataType.ACL_UINT16: 2, DataType.ACL_UINT32: 4, DataType.ACL_INT64: 8,
    DataType.ACL_UINT64: 8, DataType.ACL_DOUBLE: 8, DataType.ACL_BOOL: 1,
    DataType.ACL_COMPLEX64: 8, DataType.ACL_COMPLEX128: 16, DataType.ACL_BF16: 2}


class TopApi:
    """The functions at the top of the ``acl`` module that concern the whole runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    @pyacl("acl.init", "|s")
    def init(self, config_path: str = "") -> int:
        """An optional JSON config path; a path that is not a readable file is refused."""
        if config_path and not os.path.isfile(config_path):
            raise AclFail(E.ACL_ERROR_INVALID_FILE, f"config file {config_path!r} not found")
        return self._rt.init()

    @pyacl("acl.finalize", "", parses_args=False)
    def finalize(self) -> None:
        self._rt.finalize()

    @pyacl("acl.finalize_reference", "", outputs=1, parses_args=False)
    def finalize_reference(self) -> int:
        return self._rt.finalize_reference()

    @pyacl("acl.get_version", "", outputs=3, parses_args=False)
    def get_version(self) -> tuple[int, int, int]:
        return ACL_INTERFACE_VERSION

    @pyacl("acl.data_type_size", "i", returns_ret=False)
    def data_type_size(self, data_type: int) -> int:
        """aclDataTypeSize: bytes per element; 0 for a type without a fixed size (string,
        undefined) or unknown (PYACL ``WrapAclDataTypeSize``, "i" → "k")."""
        return DATA_TYPE_SIZES.get(data_type, 0)

    @pyacl("acl.get_recent_err_msg", "", returns_ret=False, parses_args=False)
    def get_recent_err_msg(self) -> str | None:
        """aclGetRecentErrMsg: why the calling thread's last failed call failed, or None
        when there is nothing to report; reading it clears it (UNCONFIRMED)."""
        return take_recent_error()

    @pyacl("acl.app_log", "is", returns_ret=False)
    def app_log(self, level: int, message: str) -> None:
        """pyACL hands the message to CANN's application log and returns None
        (cann-behaviour.md §9; py_init_acl.cpp ``WrapAclAppLog``). The simulator keeps no
        such log, so the message goes nowhere."""

    @parses_own("acl.get_soc_name", "", returns_ret=False)
    def get_soc_name(self, *args: object) -> str:
        """The SoC name (aclrtGetSocName); pyACL returns a str, or None before init."""
        if args:
            raise raised_by_pyacl(TypeError("acl.get_soc_name args parse failed"))
        return self._rt.config.soc_name if self._rt.init_count else None  # type: ignore[return-value]
