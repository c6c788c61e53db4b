"""Config-based loading: ``create_config_handle``, ``set_config_opt``, ``load_with_config``.

``set_config_opt`` follows pyACL's marshalling (reference/acl-api.md §4.3) into the C checker
of §2: attribute 0 is passed as an int32 (size 4), ``ACL_MDL_PATH_PTR`` as a string, the
``*_ADDR_PTR`` and ``WEIGHT_PATH_PTR`` attributes as addresses (size 8) and every other
attribute as a uint64 (size 8) — so ``ACL_MDL_WITHOUT_GRAPH_INT32``, whose checker wants
size 4, is refused through pyACL. ``load_with_config`` checks the recorded attributes as §2.1
says, then loads like the matching ``load_*`` call — the rules are configs.py's.
"""

from __future__ import annotations

from typing import Any

from pytest_acl.constants import AclError, MdlConfigAttr
from pytest_acl.sim.configs import ConfigHandle, check, load
from pytest_acl.sim.handles import HandleTable, Kind
from pytest_acl.sim.models import ModelManager
from pytest_acl.sim.pyargs import AclFail, parse_args, parses_own, pyacl

E = AclError
A = MdlConfigAttr


class ConfigApi:
    """``acl.mdl`` config-handle functions, bound to one simulator."""

    HOME = "acl.mdl"

    def __init__(self, handles: HandleTable, models: ModelManager) -> None:
        self._handles = handles
        self._models = models

    @pyacl("acl.mdl.create_config_handle", "", returns_ret=False, parses_args=False)
    def create_config_handle(self) -> int:
        """pyACL never parses this one's arguments (cann-behaviour.md §9; mdl_wrap.cpp
        ``WrapAclMdlCreateConfigHandle``)."""
        return self._handles.new(Kind.CONFIG_HANDLE, lambda _: ConfigHandle())

    @pyacl("acl.mdl.destroy_config_handle", "k")
    def destroy_config_handle(self, handle: int) -> None:
        if self._handles.remove(Kind.CONFIG_HANDLE, handle) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not a config handle")

    def _handle(self, handle: int) -> ConfigHandle:
        found = self._handles.get(Kind.CONFIG_HANDLE, handle)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not a config handle")
        return found

    @parses_own("acl.mdl.set_config_opt", "kiO")
    def set_config_opt(self, *args: Any) -> int:
        """``ret``; the value's Python type follows pyACL's marshalling (§4.3).

        The outer parse fails with "... args parse failed", the value's with "...failed!"
        (cann-behaviour.md §9, row "TypeError text"; mdl_wrap.cpp ``WrapAclMdlSetConfigOpt``)."""
        handle, attr, value = parse_args("acl.mdl.set_config_opt", "kiO", args, {})
        letter = {A.ACL_MDL_PATH_PTR: "s", A.ACL_MDL_PRIORITY_INT32: "i"}.get(attr, "K")
        (value,) = parse_args("acl.mdl.set_config_opt", letter, (value,), {}, bang=True)
        try:
            found = self._handle(handle)
            check(attr, value)
        except AclFail as fail:
            return fail.code
        found.values[attr] = value
        return E.ACL_SUCCESS.value

    @pyacl("acl.mdl.load_with_config", "k", outputs=1)
    def load_with_config(self, handle: int) -> int:
        return load(self._handle(handle).values, self._models).model_id
