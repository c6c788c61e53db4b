"""Binding parity (issue 16, item 4): ``--acl-backend sim,capi`` runs every test that talks
to a backend once through each binding, on the same device.

Such a test is parametrized — last, so its id ends in the binding: ``test_x[mlp-sim]`` and
``test_x[mlp-capi]``, ``test_y[sim]`` — by the session fixture ``_acl_binding`` that
``acl_backend`` (and so every ACL fixture) stands on. Being session-scoped, the parameter
groups each binding's tests together, and each binding gets its own runtime session
(init, device, models) torn down before the next binding's starts. A single-backend run is
not parametrized: its ids are as ever. How the results of the bindings are compared is
``results/parity.py``.
"""

from __future__ import annotations

import pytest

BINDING_FIXTURE = "_acl_binding"


def parametrize(metafunc: pytest.Metafunc, names: tuple[str, ...]) -> None:
    """Run a test that uses an ACL fixture once per binding (a parity run only)."""
    if len(names) > 1 and BINDING_FIXTURE in metafunc.fixturenames:
        metafunc.parametrize(BINDING_FIXTURE, names, indirect=True, ids=names,
                             scope="session")


def binding_of(item: pytest.Item) -> str | None:
    """The binding a test runs through (None: the run's one backend)."""
    callspec = getattr(item, "callspec", None)
    binding = callspec.params.get(BINDING_FIXTURE) if callspec is not None else None
    return binding if isinstance(binding, str) else None
