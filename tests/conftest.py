"""The project's own tests: simulator unit tests (tests/sim) and plugin tests (tests/plugin).

pytester runs inner pytest sessions that load the installed plugin from its entry point.
"""

from __future__ import annotations

import pytest

from pytest_acl.sim import Simulator

pytest_plugins = ["pytester"]


@pytest.fixture
def sim() -> Simulator:
    """A fresh, independent simulator (2 devices, 1 GiB HBM each), not initialised."""
    return Simulator(devices=2, hbm="1GiB")


@pytest.fixture
def sim_acl(sim):
    """The fresh simulator's ``acl`` module, initialised, with device 0 set; finalized after."""
    module = sim.acl
    assert module.init() == 0
    assert module.rt.set_device(0) == 0
    yield module
    module.finalize()


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester without the outer run's PYTEST_ACL_* / PYTEST_ADDOPTS settings leaking in."""
    import os

    for name in list(os.environ):
        if name.startswith("PYTEST_ACL_") or name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
            monkeypatch.delenv(name)
    return pytester


@pytest.fixture(scope="session")
def built_catalog(tmp_path_factory: pytest.TempPathFactory):
    """The whole fixture-model catalog built once for the session: (directory, manifest)."""
    from pytest_acl.models.build import build_catalog

    out = tmp_path_factory.mktemp("models")
    return out, build_catalog(out, log=lambda line: None)
