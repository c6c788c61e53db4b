"""The surface of the real pyACL binding, and the stubs that stand in for what the simulator
does not emulate.

``surface.toml`` (next to this file) lists every function pyACL registers — read from the
open-source binding, hicann/runtime ``python/pyACL`` at the commit the file names: its module,
name, ``PyArg_ParseTuple`` format, return shape, the area it belongs to and its wrapper.
:func:`pytest_acl.sim.module.build_acl_module` gives every entry the simulator does not
implement a :func:`stub`: it parses its arguments with the entry's format, logs once per
simulator and answers ``ACL_ERROR_API_NOT_SUPPORT`` with zero outputs in the entry's return
shape — so a program that imports or probes DVPP, single-operator, profiling … functions keeps
running and learns they are not supported. ``python -m pytest_acl.sim.surface`` prints what is
emulated and what is not, by module and area.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from pytest_acl.constants import error_name
from pytest_acl.sim.pyargs import LETTERS, note_failure, parse_args, parses_own, refuse_keywords

_log = logging.getLogger("pytest_acl.sim")
EMULATED = "emulated"
_INTEGERS = frozenset("bBhHiIlLkK")
# The declaration fields a function carries (pyargs.pyacl and parses_own set them) and the
# attribute each is kept in.
DECLARATION = {"format": "pyacl_format", "parses_args": "parses_args",
               "outputs": "pyacl_outputs", "returns_ret": "pyacl_returns_ret"}


def _zero(letter: str) -> Any:
    """The zero of a Py_BuildValue letter, as an output before ``ret``."""
    if letter in _INTEGERS:
        return 0
    if letter in "fd":
        return 0.0
    return "" if letter == "s" else None


@dataclass(frozen=True)
class Function:
    """One entry of surface.toml: a function of the real binding."""

    module: str
    name: str
    format: str
    outputs: int
    returns_ret: bool
    build: str
    scope: str
    source: str
    parses_args: bool = True
    condition: str = ""
    note: str = ""
    known_difference: Mapping[str, Any] = field(default_factory=dict)

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def emulated(self) -> bool:
        return self.scope == EMULATED

    def declaration(self) -> dict[str, Any]:
        """Format, parses_args, outputs and returns_ret as the binding has them."""
        return {key: getattr(self, key) for key in DECLARATION}

    def expected(self) -> dict[str, Any]:
        """The declaration the simulator's function has: the binding's, but for a recorded
        known difference."""
        expected = self.declaration()
        expected.update({k: v for k, v in self.known_difference.items() if k in DECLARATION})
        return expected

    def not_supported(self, code: int) -> Any:
        """The answer in this function's return shape: ``code`` after zero outputs, or the
        zero of a plain value (None for a string, an object or None)."""
        if self.returns_ret:
            zeros = tuple(_zero(letter) for letter in self.build[:self.outputs])
            return (*zeros, code) if zeros else code
        if self.build in ("s", "O", "None", "bytes"):
            return None
        zeros = tuple(_zero(letter) for letter in self.build)
        return zeros[0] if len(zeros) == 1 else zeros


@dataclass(frozen=True)
class Extra:
    """A function the simulator offers beyond the binding, why, and the format and return
    shape it maps the C prototype to."""

    module: str
    name: str
    reason: str
    format: str
    outputs: int
    returns_ret: bool

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Surface:
    repository: str
    commit: str
    path: str
    tables: Mapping[str, str]
    stub_code: int
    functions: tuple[Function, ...]
    extras: tuple[Extra, ...]

    def modules(self) -> list[str]:
        """``acl`` and its submodules, in the binding's order."""
        return list(dict.fromkeys(f.module for f in self.functions))

    def by_name(self) -> dict[str, Function]:
        return {f.qualname: f for f in self.functions}

    def return_shapes(self) -> dict[str, tuple[bool, int]]:
        """(returns_ret, outputs) of every function and extra, by qualified name: what the
        results recorder reads an aclError from (results/calls.py), on every backend."""
        entries: list[Function | Extra] = [*self.functions, *self.extras]
        return {entry.qualname: (entry.returns_ret, entry.outputs) for entry in entries}


def _function(entry: Mapping[str, Any]) -> Function:
    function = Function(**entry)
    bad = set(function.format) - LETTERS - {"|"}
    if bad:
        raise ValueError(f"surface.toml: {function.qualname} has format letters pyargs lacks: "
                         f"{''.join(sorted(bad))}")
    return function


@functools.cache
def load() -> Surface:
    """surface.toml, parsed once per process."""
    text = resources.files("pytest_acl.sim").joinpath("surface.toml").read_text("utf-8")
    data = tomllib.loads(text)
    source = data["source"]
    return Surface(
        repository=source["repository"], commit=source["commit"], path=source["path"],
        tables=source["tables"], stub_code=data["stub"]["code"],
        functions=tuple(_function(entry) for entry in data["function"]),
        extras=tuple(Extra(**entry) for entry in data.get("extra", ())))


class StubLog:
    """The stubs one simulator has logged: each logs its first call only."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def first(self, name: str) -> bool:
        with self._lock:
            if name in self._seen:
                return False
            self._seen.add(name)
            return True


_PARTS: dict[tuple[str, int], tuple[Any, dict[str, Any]]] = {}


def _parts(function: Function, code: int) -> tuple[Any, dict[str, Any]]:
    """A stub's answer and attributes, made once per function (a simulator is built often)."""
    key = (function.qualname, code)
    parts = _PARTS.get(key)
    if parts is None:
        answer = function.not_supported(code)

        def template() -> None: ...

        parses_own(function.qualname, function.format, function.outputs,
                   function.returns_ret, function.parses_args)(template)
        attributes = dict(vars(template), pyacl_stub=True, __name__=function.name,
                          __qualname__=function.qualname, __doc__=(
                              f"{function.qualname} — not emulated by the pytest-acl simulator "
                              f"({function.scope}): answers {answer!r}. pyACL: "
                              f"{function.source}."))
        parts = _PARTS[key] = (answer, attributes)
    return parts


def stub(function: Function, code: int, log: StubLog) -> Callable[..., Any]:
    """The simulator's stand-in for ``function``: parses as pyACL does, logs its first call
    (warning, logger "pytest_acl.sim"), answers ``code`` with zero outputs."""
    name, scope = function.qualname, function.scope
    answer, attributes = _parts(function, code)

    def call(*args: Any, **kwargs: Any) -> Any:
        if function.parses_args:
            parse_args(name, function.format, args, kwargs)
        else:
            refuse_keywords(name, kwargs)
        if log.first(name):
            _log.warning("%s is not emulated by the pytest-acl simulator (%s): it answers "
                         "%s (%d)", name, scope, error_name(code), code)
        note_failure(name, code, f"not emulated by the simulator ({scope})")
        return answer

    for key in ("__name__", "__qualname__", "__doc__"):
        setattr(call, key, attributes[key])
    call.__dict__.update(attributes)
    return call


def main() -> None:
    """Print, per module, what a simulator emulates and, by area, what it answers with "not
    supported" (a function implemented since surface.toml was written counts as emulated)."""
    from pytest_acl.sim import Simulator

    surface = load()
    acl = Simulator().acl
    print(f"pyACL surface: {surface.repository} {surface.commit[:8]} {surface.path}")
    for module in surface.modules():
        target = acl if module == "acl" else getattr(acl, module.split(".", 1)[1])
        functions = [f for f in surface.functions if f.module == module]
        stubbed = collections.Counter(f.scope for f in functions
                                      if getattr(getattr(target, f.name), "pyacl_stub", False))
        areas = ", ".join(f"{area} {n}" for area, n in sorted(stubbed.items()))
        print(f"{module:10} {len(functions):4} functions, "
              f"{len(functions) - sum(stubbed.values()):3} emulated"
              + (f"; not supported: {areas}" if areas else ""))


if __name__ == "__main__":
    main()
