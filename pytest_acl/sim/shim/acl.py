"""Stand-in for CANN's ``acl`` module: ``import acl`` gives the pytest-acl simulator.

``pytest-acl run-sim`` puts this directory first on PYTHONPATH. Importing replaces this
module with the process-wide simulator's module object (configured by PYTEST_ACL_SIM_*) and
registers its submodules, so ``import acl.rt`` and ``from acl import rt`` work too.
"""

import sys

from pytest_acl.sim import default_simulator

_acl = default_simulator().acl
for _name in ("rt", "mdl", "util"):
    sys.modules[f"acl.{_name}"] = getattr(_acl, _name)
sys.modules[__name__] = _acl
