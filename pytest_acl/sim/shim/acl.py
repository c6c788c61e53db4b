"""Stand-in for CANN's ``acl`` module: ``import acl`` gives the pytest-acl simulator.

``pytest-acl run-sim`` puts this directory first on PYTHONPATH. Importing replaces this
module with the process-wide simulator's module object (configured by PYTEST_ACL_SIM_*) and
registers its submodules, so ``import acl.rt`` and ``from acl import rt`` work too.
"""

import sys
import types

from pytest_acl.sim import default_simulator

_acl = default_simulator().acl
for _name, _submodule in vars(_acl).items():
    if isinstance(_submodule, types.ModuleType):
        sys.modules[f"acl.{_name}"] = _submodule
sys.modules[__name__] = _acl
