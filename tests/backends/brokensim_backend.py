"""A test-only backend: the simulator behind a binding with one defect — ``acl.rt.
get_device_count`` answers 100000 (ACL_ERROR_INVALID_PARAM) — so a parity run with ``sim``
must report a binding defect for what calls it, and nothing else (tests/plugin/test_parity.py,
tests/results/test_parity_suite.py install it in the entry-point group)."""

import types

from pytest_acl.backends import Backend
from pytest_acl.backends.sim import load as load_sim


class _Rt(types.ModuleType):
    def __init__(self, rt):
        super().__init__("acl.rt")
        self._rt = rt

    def __getattr__(self, name):
        return getattr(self._rt, name)

    def get_device_count(self):
        return 0, 100000


class _Acl(types.ModuleType):
    def __init__(self, acl):
        super().__init__("acl")
        self._acl = acl
        self.rt = _Rt(acl.rt)

    def __getattr__(self, name):
        return getattr(self._acl, name)


def load():
    sim = load_sim()
    return Backend(name="brokensim", open_module=lambda: _Acl(sim.open_module()),
                   version="the simulator with a broken get_device_count",
                   static_soc=sim.static_soc, cann_version=sim.cann_version, simulated=True)
