"""Backends: each yields one pyACL-shaped module object (DESIGN.md, "One API shape: pyACL").

``load_backend(name)`` imports lazily — nothing here runs at plugin import time — and turns
"not available" into :class:`BackendUnavailable` with a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import Any


class BackendUnavailable(Exception):
    """The backend cannot be used here; the message tells the user how to fix that."""


@dataclass
class Backend:
    """A loaded backend: its module and what the plugin asks of it."""

    name: str
    # Makes the module on first use of ``module``: a process that only reports on the run
    # (xdist's controller) never pays for it, and starts its workers sooner.
    open_module: Callable[[], ModuleType] = field(repr=False)
    version: str
    # SoC name known without initialising anything (None: ask the runtime after init).
    static_soc: str | None
    # Live resources by kind, compared by the leak check; must work after init.
    snapshot: Callable[[], dict[str, int]] = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def module(self) -> ModuleType:
        return self.open_module()

    @property
    def opened_module(self) -> ModuleType | None:
        """The module if a test has made it already (reporting must not make one)."""
        return self.__dict__.get("module")

    def soc_name(self) -> str | None:
        """The SoC, from configuration or — after ``acl.init`` — from the runtime."""
        if self.static_soc:
            return self.static_soc
        getter = getattr(self.module, "get_soc_name", None)
        return getter() if getter is not None else None


def load_backend(name: str) -> Backend:
    if name == "sim":
        from pytest_acl.backends.sim import load
    elif name == "pyacl":
        from pytest_acl.backends.pyacl import load
    elif name == "capi":
        from pytest_acl.backends.capi import load
    else:
        raise BackendUnavailable(f"unknown backend {name!r}; valid choices are sim, pyacl, capi")
    return load()
