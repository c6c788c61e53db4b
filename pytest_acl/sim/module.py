"""Assemble the pyACL-shaped module object: ``acl`` and every submodule pyACL registers.

pyACL is a module of functions only, no constants (reference/acl-api.md §4.1); so is this one.
Each emulated function is a bound method of an API class that holds a reference to one
simulator (``acl``, ``acl.rt``, ``acl.mdl``, ``acl.util``); every other function of the real
binding (surface.toml: ``acl.media``, ``acl.op``, ``acl.prof`` … and the rest of the four) is
a stub that answers ACL_ERROR_API_NOT_SUPPORT (surface.py).
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_acl.sim import Simulator
    from pytest_acl.sim.releases import Release


class AclModule(types.ModuleType):
    """A module object that says it is the simulator when printed."""

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (pytest-acl simulator)>"


def _public_functions(api: Any) -> dict[str, Any]:
    return {name: getattr(api, name) for name in dir(type(api))
            if not name.startswith("_") and callable(getattr(api, name))}


def _submodule(name: str, doc: str, release: Release, *apis: Any) -> AclModule:
    """A module holding the functions of ``apis`` whose pyACL name places them in ``name`` —
    those the CANN ``release`` has (an API class's ``BEHAVIOURS`` names the behaviour a
    function needs).

    A function without a ``pyacl_name`` (one that parses its own arguments) belongs to the
    submodule its API class declares in ``MODULE``, or to ``name``."""
    module = AclModule(name, doc)
    for api in apis:
        needs = getattr(api, "BEHAVIOURS", {})
        for attr, function in _public_functions(api).items():
            if attr in needs and not release.has(needs[attr]):
                continue
            home = getattr(function, "pyacl_name", None)
            home = home.rsplit(".", 1)[0] if home else getattr(api, "MODULES", {}).get(
                attr, getattr(api, "HOME", name))
            if home == name:
                setattr(module, attr, function)
    return module


def build_acl_module(simulator: Simulator) -> AclModule:
    """A fresh ``acl`` module bound to ``simulator``."""
    from pytest_acl.sim.acl_bundle import BundleApi
    from pytest_acl.sim.acl_config import ConfigApi
    from pytest_acl.sim.acl_data import DataApi
    from pytest_acl.sim.acl_mdl import ModelApi
    from pytest_acl.sim.acl_rt import RtApi
    from pytest_acl.sim.acl_tensor import TensorDescApi
    from pytest_acl.sim.acl_top import TopApi
    from pytest_acl.sim.acl_util import UtilApi
    from pytest_acl.sim.dynamic import DynamicApi

    runtime = simulator.runtime
    data = DataApi(runtime.handles)
    tensors = TensorDescApi(runtime.handles, data)
    models = ModelApi(runtime, simulator.models, data, tensors)
    top = TopApi(runtime)
    release = runtime.release
    acl = _submodule("acl", "AscendCL (pytest-acl simulator)", release, top, data, tensors)
    # The submodules and __simulator__ are module attributes set at run time, as pyACL's are;
    # the checker cannot know them (declaring them on AclModule would shadow the module's own
    # __annotations__), hence the targeted ignores.
    acl.rt = _submodule(  # type: ignore[attr-defined]
        "acl.rt", "Runtime: devices, contexts, streams, memory", release, RtApi(runtime))
    config = ConfigApi(runtime.handles, simulator.models)
    bundles = BundleApi(runtime.handles, simulator.bundles)
    acl.mdl = _submodule(  # type: ignore[attr-defined]
        "acl.mdl", "Model management", release, data, tensors, models, config, bundles,
        DynamicApi(runtime, simulator.models, data))
    acl.util = _submodule(  # type: ignore[attr-defined]
        "acl.util", "Host pointer and thread utilities", release, UtilApi(runtime.threads))
    _add_stubs(acl)
    acl.__simulator__ = simulator  # type: ignore[attr-defined]
    return acl


# The submodules whose functions are all stubs, as PyInit_acl registers them (surface.toml).
_STUB_MODULE_DOCS = {
    "acl.media": "DVPP image and video processing (not emulated)",
    "acl.op": "Single-operator execution (not emulated)",
    "acl.blas": "CBLAS matrix operators (not emulated)",
    "acl.prof": "Profiling (not emulated)",
    "acl.himpi": "HiMPI media processing (not emulated)",
    "acl.fv": "Feature-vector retrieval (not emulated)",
}


def _add_stubs(acl: AclModule) -> None:
    """Give every function of the real binding that the simulator does not implement (for
    this release) a stub, creating the submodules the simulator has no API class for."""
    from pytest_acl.sim import surface

    table = surface.load()
    log = surface.StubLog()
    for function in table.functions:
        module: Any = acl
        if function.module != "acl":
            short = function.module.split(".", 1)[1]
            module = vars(acl).get(short)
            if module is None:
                module = AclModule(function.module, _STUB_MODULE_DOCS.get(function.module, ""))
                setattr(acl, short, module)
        if function.name not in vars(module):
            setattr(module, function.name, surface.stub(function, table.stub_code, log))
