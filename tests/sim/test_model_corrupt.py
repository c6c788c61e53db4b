"""Corrupt models through every loading and query API: the documented code, no exception,
no leak (the corpus of pytest_acl.om.corrupt, plus random mutations)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from pytest_acl.om.corrupt import APIS, corruptions
from pytest_acl.om.mutations import om_mutations
from pytest_acl.om.samples import static_model
from pytest_acl.sim import Simulator
from pytest_acl.sim.releases import RELEASES
from pytest_acl.versions import ByRelease, for_release

VALID = static_model().to_bytes()
# Every release where the code differs between releases, the default one elsewhere.
CASES = [(case.name, api, cann) for case in corruptions(VALID) for api in APIS
         for cann in (RELEASES if isinstance(case.expected[api], ByRelease)
                      else RELEASES[-1:])]


def outcome(acl, api: str, data: bytes, tmp_path) -> int:
    path = tmp_path / "model.om"
    path.write_bytes(data)
    ptr = acl.util.bytes_to_ptr(data) if data else 0
    if api == "load_file":
        model_id, ret = acl.mdl.load_from_file(str(path))
    elif api == "load_mem":
        model_id, ret = acl.mdl.load_from_mem(ptr, len(data))
    elif api == "query_file":
        return acl.mdl.query_size(str(path))[-1]
    else:
        return acl.mdl.query_size_from_mem(ptr, len(data))[-1]
    if ret == 0:
        acl.mdl.unload(model_id)
    return ret


@pytest.mark.parametrize(("name", "api", "cann"), CASES,
                         ids=[f"{n}-{a}-{c}" for n, a, c in CASES])
def test_corruption_gets_its_code_and_leaks_nothing(tmp_path, name, api, cann):
    """Each release's code (cann-behaviour.md §1, §4: the 9.1 router answers short data)."""
    case = next(c for c in corruptions(VALID) if c.name == name)
    sim = Simulator(devices=1, hbm="256MiB", cann=cann)
    acl = sim.acl
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    before = sim.live_counts()
    assert outcome(acl, api, case.data, tmp_path) == for_release(case.expected[api], cann)
    assert sim.live_counts() == before
    acl.finalize()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=om_mutations(VALID))
def test_random_mutations_never_raise_or_leak(sim, sim_acl, tmp_path, data):
    before = sim.live_counts()
    for api in APIS:
        assert isinstance(outcome(sim_acl, api, data, tmp_path), int)
    assert sim.live_counts() == before
