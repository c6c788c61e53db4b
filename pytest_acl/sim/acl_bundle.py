"""Bundle functions of ``acl.mdl`` — the CANN 8 family (``bundle_load_from_*``,
``bundle_get_model_*``, ``bundle_unload``) and the CANN 9 family that real pyACL does not
expose yet (query info, ``bundle_init_from_*``, ``bundle_load_model*``,
``bundle_unload_model``). The latter follow pyACL's mapping of a C prototype: in-arguments in
C order, out-parameters returned first, then ``ret`` (reference/acl-api.md §1.5, §4.1).
The rules are in bundles.py.
"""

from __future__ import annotations

from pytest_acl.constants import AclError, MdlConfigAttr
from pytest_acl.sim.bundles import BundleManager, QueryInfo
from pytest_acl.sim.entry import model_buffer, model_file
from pytest_acl.sim.handles import HandleTable, Kind
from pytest_acl.sim.pyargs import AclFail, pyacl

E = AclError
A = MdlConfigAttr


class BundleApi:
    HOME = "acl.mdl"
    # The CANN 9.0 family exists only in releases with that behaviour (releases.py).
    BEHAVIOURS = dict.fromkeys((
        "bundle_create_query_info", "bundle_destroy_query_info", "bundle_query_info_from_file",
        "bundle_query_info_from_mem", "bundle_get_query_model_num", "bundle_get_var_weight_size",
        "bundle_get_size", "bundle_init_from_file", "bundle_init_from_mem", "bundle_load_model",
        "bundle_load_model_with_mem", "bundle_load_model_with_config", "bundle_unload_model"),
        "bundle_query_and_init")

    def __init__(self, handles: HandleTable, bundles: BundleManager) -> None:
        self._handles = handles
        self._bundles = bundles

    def _file(self, path: str) -> bytes:
        return model_file(path, self._bundles.cann, self._bundles.file_limit)

    def _buffer(self, ptr: int, size: int) -> memoryview:
        return model_buffer(ptr, size, self._bundles.cann)

    # -- CANN 8: load every graph at once ----------------------------------------------------
    @pyacl("acl.mdl.bundle_load_from_file", "s", outputs=1)
    def bundle_load_from_file(self, path: str) -> int:
        return self._bundles.create(self._file(path), init_mode=False).bundle_id

    @pyacl("acl.mdl.bundle_load_from_mem", "kk", outputs=1)
    def bundle_load_from_mem(self, model: int, size: int) -> int:
        return self._bundles.create(self._buffer(model, size), init_mode=False).bundle_id

    @pyacl("acl.mdl.bundle_unload", "I")
    def bundle_unload(self, bundle_id: int) -> None:
        self._bundles.unload(bundle_id)

    @pyacl("acl.mdl.bundle_get_model_num", "I", outputs=1)
    def bundle_get_model_num(self, bundle_id: int) -> int:
        return len(self._bundles.get(bundle_id).bundle.models)

    @pyacl("acl.mdl.bundle_get_model_id", "Ik", outputs=1)
    def bundle_get_model_id(self, bundle_id: int, index: int) -> int:
        return self._bundles.model_id(bundle_id, index)

    # -- CANN 9: query, init, load graphs on demand ------------------------------------------
    @pyacl("acl.mdl.bundle_create_query_info", "", returns_ret=False)
    def bundle_create_query_info(self) -> int:
        return self._handles.new(Kind.BUNDLE_QUERY_INFO, lambda _: QueryInfo())

    @pyacl("acl.mdl.bundle_destroy_query_info", "k")
    def bundle_destroy_query_info(self, query_info: int) -> None:
        if self._handles.remove(Kind.BUNDLE_QUERY_INFO, query_info) is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{query_info:#x} is not a query info")

    def _query_info(self, handle: int) -> QueryInfo:
        found = self._handles.get(Kind.BUNDLE_QUERY_INFO, handle)
        if found is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not a query info")
        return found

    def _fill(self, handle: int, data: bytes | memoryview) -> None:
        self._query_info(handle).fill(data, self._bundles.faults)

    @pyacl("acl.mdl.bundle_query_info_from_file", "sk")
    def bundle_query_info_from_file(self, path: str, query_info: int) -> None:
        self._fill(query_info, self._file(path))

    @pyacl("acl.mdl.bundle_query_info_from_mem", "kkk")
    def bundle_query_info_from_mem(self, model: int, size: int, query_info: int) -> None:
        self._fill(query_info, self._buffer(model, size))

    @pyacl("acl.mdl.bundle_get_query_model_num", "k", outputs=1)
    def bundle_get_query_model_num(self, query_info: int) -> int:
        return len(self._query_info(query_info).sizes)

    @pyacl("acl.mdl.bundle_get_var_weight_size", "k", outputs=1)
    def bundle_get_var_weight_size(self, query_info: int) -> int:
        return self._query_info(query_info).var_size

    @pyacl("acl.mdl.bundle_get_size", "kk", outputs=2)
    def bundle_get_size(self, query_info: int, index: int) -> tuple[int, int]:
        return self._query_info(query_info).size(index, self._bundles.faults)

    @pyacl("acl.mdl.bundle_init_from_file", "skk", outputs=1)
    def bundle_init_from_file(self, path: str, var_ptr: int, var_size: int) -> int:
        return self._bundles.create(self._file(path), True, var_ptr, var_size).bundle_id

    @pyacl("acl.mdl.bundle_init_from_mem", "kkkk", outputs=1)
    def bundle_init_from_mem(self, model: int, size: int, var_ptr: int, var_size: int) -> int:
        return self._bundles.create(self._buffer(model, size), True, var_ptr,
                                    var_size).bundle_id

    @pyacl("acl.mdl.bundle_load_model", "Ik", outputs=1)
    def bundle_load_model(self, bundle_id: int, index: int) -> int:
        return self._bundles.load_model(bundle_id, index).model_id

    @pyacl("acl.mdl.bundle_load_model_with_mem", "Ikkkkk", outputs=1)
    def bundle_load_model_with_mem(self, bundle_id: int, index: int, work_ptr: int,
                                   work_size: int, weight_ptr: int, weight_size: int) -> int:
        return self._bundles.load_model(bundle_id, index, work_ptr, work_size, weight_ptr,
                                        weight_size).model_id

    @pyacl("acl.mdl.bundle_load_model_with_config", "Ikk", outputs=1)
    def bundle_load_model_with_config(self, bundle_id: int, index: int, handle: int) -> int:
        """The handle's WORKSPACE/WEIGHT attributes say where the graph's memory is."""
        config = self._handles.get(Kind.CONFIG_HANDLE, handle)
        if config is None:
            raise AclFail(E.ACL_ERROR_INVALID_PARAM, f"{handle:#x} is not a config handle")
        values = config.values
        return self._bundles.load_model(
            bundle_id, index, values.get(A.ACL_MDL_WORKSPACE_ADDR_PTR, 0),
            values.get(A.ACL_MDL_WORKSPACE_SIZET, 0), values.get(A.ACL_MDL_WEIGHT_ADDR_PTR, 0),
            values.get(A.ACL_MDL_WEIGHT_SIZET, 0)).model_id

    @pyacl("acl.mdl.bundle_unload_model", "II")
    def bundle_unload_model(self, bundle_id: int, model_id: int) -> None:
        self._bundles.unload_model(bundle_id, model_id)
