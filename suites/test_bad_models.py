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


def attempt(acl, api: str, data: bytes, path) -> int:
    """The API's return code; a model that loads is unloaded again."""
    path.write_bytes(data)
    ptr = acl.util.bytes_to_ptr(data) if data else 0
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
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("name", NAMES)
def test_corruption(acl, acl_device, corpus, acl_expect, tmp_path, name, api):
    case = corpus[name]
    before = device_used(acl)
    ret = attempt(acl, api, case.data, tmp_path / "model.om")
    if case.expected[api] != 0:
        assert ret != 0, f"{name} was accepted by {api}"
    acl_expect.code(ret, case.expected[api], "bad_model.documented_codes")
    assert device_used(acl) == before


@pytest.mark.acl_clause("bad_model.refused_by_every_api")
@given(data=om_mutations(SAMPLE))
def test_random_mutations_never_crash_or_leak(acl, acl_device, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("mutation") / "model.om"
    before = device_used(acl)
    for api in APIS:
        assert isinstance(attempt(acl, api, data, path), int)
    assert device_used(acl) == before
