"""Corrupt models: every corruption of the corpus, and random mutations, through every load
and query API — refused (or, for random mutations, at worst loaded and unloadable), with the
reference code, and without leaking device memory."""

from __future__ import annotations

import pytest
from hypothesis import given

from pytest_acl.om.corrupt import APIS, corruptions
from pytest_acl.om.mutations import om_mutations
from pytest_acl.om.samples import static_model
from pytest_acl.oracles import device_used

# The corpus is derived from the catalog's mlp at run time; the names are static, so every
# xdist worker collects the same tests.
SAMPLE = static_model().to_bytes()
NAMES = sorted(c.name for c in corruptions(SAMPLE))


# Config loading of the same bytes answers as the matching load (cann-behaviour.md §7).
CONFIG_APIS = {"config_file": "load_file", "config_mem": "load_mem"}


def load_with_config(acl, api: str, path, ptr: int, size: int) -> tuple[int, int]:
    from pytest_acl.constants import MdlConfigAttr as A
    from pytest_acl.constants import MdlLoadType as T

    handle = acl.mdl.create_config_handle()
    try:
        if api == "config_file":
            options = [(A.ACL_MDL_LOAD_TYPE_SIZET, T.ACL_MDL_LOAD_FROM_FILE),
                       (A.ACL_MDL_PATH_PTR, str(path))]
        else:
            options = [(A.ACL_MDL_LOAD_TYPE_SIZET, T.ACL_MDL_LOAD_FROM_MEM),
                       (A.ACL_MDL_MEM_ADDR_PTR, ptr), (A.ACL_MDL_MEM_SIZET, size)]
        for attr, value in options:
            acl.mdl.set_config_opt(handle, int(attr), value)  # a NULL address is refused here
        return acl.mdl.load_with_config(handle)
    finally:
        acl.mdl.destroy_config_handle(handle)


def attempt(acl, api: str, data: bytes, path) -> int:
    """The API's return code; a model that loads is unloaded again."""
    path.write_bytes(data)
    ptr = acl.util.bytes_to_ptr(data) if data else 0
    if api in CONFIG_APIS:
        model_id, ret = load_with_config(acl, api, path, ptr, len(data))
        if ret == 0:
            assert acl.mdl.unload(model_id) == 0
        return ret
    if api == "query_file":
        return acl.mdl.query_size(str(path))[-1]
    if api == "query_mem":
        return acl.mdl.query_size_from_mem(ptr, len(data))[-1]
    model_id, ret = (acl.mdl.load_from_file(str(path)) if api == "load_file"
                     else acl.mdl.load_from_mem(ptr, len(data)))
    if ret == 0:
        assert acl.mdl.unload(model_id) == 0
    return ret


@pytest.fixture(scope="module")
def corpus(acl_models):
    return {c.name: c for c in corruptions(acl_models["mlp"].path.read_bytes())}


@pytest.mark.acl_clause("bad_model.refused_by_every_api", "bad_model.documented_codes")
@pytest.mark.parametrize("api", [*APIS, *[pytest.param(api, marks=pytest.mark.acl_requires(
    "mdl.set_config_opt", "mdl.load_with_config")) for api in CONFIG_APIS]])
@pytest.mark.parametrize("name", NAMES)
def test_corruption(acl, acl_device, corpus, acl_expect, tmp_path, name, api):
    case = corpus[name]
    expected = case.expected[CONFIG_APIS.get(api, api)]
    before = device_used(acl)
    ret = attempt(acl, api, case.data, tmp_path / "model.om")
    if expected != 0:
        assert ret != 0, f"{name} was accepted by {api}"
    acl_expect.code(ret, expected, "bad_model.documented_codes")
    assert device_used(acl) == before


@pytest.mark.acl_clause("bad_model.refused_by_every_api")
@given(data=om_mutations(SAMPLE))
def test_random_mutations_never_crash_or_leak(acl, acl_device, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("mutation") / "model.om"
    before = device_used(acl)
    for api in APIS:
        assert isinstance(attempt(acl, api, data, path), int)
    assert device_used(acl) == before


# The bundle container's defects, refused by every bundle entry point before any graph is
# loaded (the one whose sub-model is corrupt is the model loader's: the graph loads say so).
BUNDLE_CASES = ("model_as_bundle", "bundle_too_short", "bundle_entry_past_eof")
BUNDLE_ENTRIES = {
    "bundle_load_from_file": ("mdl.bundle_load_from_file",),
    "bundle_load_from_mem": ("mdl.bundle_load_from_mem",),
    "bundle_init_from_file": ("mdl.bundle_init_from_file",),
    "bundle_init_from_mem": ("mdl.bundle_init_from_mem",),
    "bundle_query_info_from_file": ("mdl.bundle_create_query_info",
                                    "mdl.bundle_query_info_from_file"),
    "bundle_query_info_from_mem": ("mdl.bundle_create_query_info",
                                   "mdl.bundle_query_info_from_mem"),
}


def bundle_attempt(acl, entry: str, data: bytes, path) -> int:
    """The entry point's return code; a bundle that opens is closed again."""
    path.write_bytes(data)
    ptr = acl.util.bytes_to_ptr(data)
    if entry.startswith("bundle_query_info"):
        info = acl.mdl.bundle_create_query_info()
        try:
            return (acl.mdl.bundle_query_info_from_file(str(path), info)
                    if entry.endswith("file") else
                    acl.mdl.bundle_query_info_from_mem(ptr, len(data), info))
        finally:
            acl.mdl.bundle_destroy_query_info(info)
    call = getattr(acl.mdl, entry)
    extra = (0, 0) if "init" in entry else ()
    bundle_id, ret = (call(str(path), *extra) if entry.endswith("file")
                      else call(ptr, len(data), *extra))
    if ret == 0:
        assert acl.mdl.bundle_unload(bundle_id) == 0
    return ret


@pytest.mark.acl_clause("bad_model.refused_by_every_api", "bad_model.documented_codes")
@pytest.mark.parametrize("entry", [pytest.param(name, marks=pytest.mark.acl_requires(*apis))
                                   for name, apis in BUNDLE_ENTRIES.items()])
@pytest.mark.parametrize("name", BUNDLE_CASES)
def test_bundle_corruption(acl, acl_device, acl_models, acl_expect, tmp_path, name, entry):
    from pytest_acl.om.corrupt import bundle_corruptions

    case = next(c for c in bundle_corruptions(acl_models["bundle3"].path.read_bytes(),
                                              acl_models["mlp"].path.read_bytes())
                if c.name == name)
    before = device_used(acl)
    ret = bundle_attempt(acl, entry, case.data, tmp_path / "bundle.om")
    assert ret != 0, f"{name} was accepted by {entry}"
    acl_expect.code(ret, case.expected["bundle_load"], "bad_model.documented_codes")
    assert device_used(acl) == before
