"""Choosing the CANN release the simulator follows, and the table of what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_acl.sim import SimConfig, SimConfigError, Simulator
from pytest_acl.sim.releases import (
    BEHAVIOURS,
    DEFAULT_RELEASE,
    RELEASES,
    Release,
    UnknownRelease,
    release,
)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(("text", "version"), [
    ("8.5", "8.5.0"), ("9.0.0", "9.0.0"), ("v9.1.0", "9.1.0"), (None, "9.1.0"), ("", "9.1.0")])
def test_a_release_is_named_short_long_or_not_at_all(text, version):
    assert release(text).version == version
    assert DEFAULT_RELEASE == RELEASES[-1] == "9.1.0"


def test_an_unknown_release_names_the_choices():
    with pytest.raises(UnknownRelease, match=r"'7\.0' .* use one of 8\.5, 9\.0, 9\.1"):
        release("7.0")
    with pytest.raises(SimConfigError, match="PYTEST_ACL_SIM_CANN"):
        SimConfig.from_env({"PYTEST_ACL_SIM_CANN": "10"})
    with pytest.raises(SimConfigError, match="not a CANN release"):
        Simulator(cann="8")


def test_the_environment_and_the_constructor_choose_it():
    assert SimConfig.from_env({"PYTEST_ACL_SIM_CANN": "8.5"}).cann == "8.5.0"
    assert Simulator(cann="9.0").runtime.release == Release("9.0.0")
    assert Simulator().config.cann == DEFAULT_RELEASE


def test_a_misspelt_behaviour_is_an_error():
    with pytest.raises(KeyError, match="no CANN behaviour named 'model_routr'"):
        Release("9.1.0").has("model_routr")


def test_each_behaviour_has_its_releases_and_a_source():
    has = {b.name: [v for v in RELEASES if Release(v).has(b.name)] for b in BEHAVIOURS}
    assert has == {"model_router": ["9.1.0"],
                   "bundle_query_and_init": ["9.0.0", "9.1.0"]}
    assert all(b.source and b.text for b in BEHAVIOURS)


def test_the_9_0_bundle_family_is_absent_before_9_0():
    old, new = Simulator(cann="8.5").acl, Simulator(cann="9.0").acl
    assert not hasattr(old.mdl, "bundle_init_from_file")
    assert hasattr(new.mdl, "bundle_init_from_file")
    assert hasattr(old.mdl, "bundle_load_from_file")  # the CANN 8 family stays


def test_the_readme_lists_every_release_and_behaviour():
    text = README.read_text()
    assert "PYTEST_ACL_SIM_CANN=8.5|9.0|9.1" in text
    for behaviour in BEHAVIOURS:
        assert f"| `{behaviour.name}` |" in text, behaviour.name
