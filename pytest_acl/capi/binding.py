"""A cffi (ABI mode) binding of ``libascendcl.so`` in pyACL's shape (DESIGN.md, "One API
shape: pyACL"; issue 16, item 1).

:func:`open_library` gives a module tree ``acl``, ``acl.rt``, ``acl.mdl``, ``acl.util`` whose
functions take and return what pyACL's do (reference/acl-api.md §4): pointers and handles are
ints, outputs come first and ``ret`` last, a wrong argument is pyACL's TypeError "<name> args
parse failed" — parsed by the simulator's own :mod:`pytest_acl.sim.pyargs` with each
function's format from ``sim/surface.toml``, so every backend fails a bad call alike. Most
functions are forwarded generically from their C prototype (inputs in order, each
out-parameter allocated and read back); those whose pyACL wrapper does more are in
:mod:`pytest_acl.capi.shapes`. ``acl.util`` works on host memory only and never calls the
library, as pyACL's own ``util`` does not.

``acl.capi`` holds every declared C function the library exports under its C name, taking
*all* its parameters: an out-parameter may be ``None`` (NULL) or :data:`OUT` (allocated, its
value returned before the function's result), which pyACL cannot express.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cffi

from pytest_acl.capi import interrupts
from pytest_acl.sim.pyargs import parse_args, refuse_keywords


class _Out:
    """The sentinel for "allocate this out-parameter and return its value"."""

    def __repr__(self) -> str:
        return "acl.capi.OUT"


OUT = _Out()
SUBMODULES = ("rt", "mdl", "util")


@dataclass(frozen=True)
class Param:
    name: str
    ctype: str
    output: bool  # written by the function (an out-parameter), not read


@dataclass(frozen=True)
class Declaration:
    """One C function: its name, result type, parameters and the pyACL function it backs
    (``acl.mdl.query_size``), if any."""

    name: str
    result: str
    params: tuple[Param, ...]
    pyacl: str | None = None


@dataclass(frozen=True)
class Shape:
    """A pyACL function's parse format and return shape (sim/surface.toml)."""

    qualname: str
    format: str
    outputs: int
    returns_ret: bool
    parses_args: bool = True


class BindingModule(types.ModuleType):
    """A module of the binding that says what it is bound to when printed."""

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (pytest-acl capi binding of {self.__file__})>"


class Converter:
    """Python values to C arguments and C results back to pyACL's values, for one ffi."""

    def __init__(self, ffi: cffi.FFI) -> None:
        self.ffi = ffi

    def argument(self, ctype: Any, value: Any, keep: list[Any]) -> Any:
        """``value`` as an argument of C type ``ctype``; what must outlive the call goes into
        ``keep``: an int is an address or handle, a str a NUL-terminated copy, bytes their
        own buffer, None is NULL (or 0)."""
        ffi = self.ffi
        if ctype.kind != "pointer":
            return 0 if value is None else value
        if value is None:
            return ffi.NULL
        if isinstance(value, str):
            text = ffi.new("char[]", value.encode("utf-8"))
            keep.append(text)
            return ffi.cast(ctype, text)
        if isinstance(value, (bytes, bytearray, memoryview)):
            buffer = ffi.from_buffer(value)
            keep.append(buffer)
            return ffi.cast(ctype, buffer)
        if isinstance(value, ffi.CData):
            return value
        return ffi.cast(ctype, int(value))

    def value(self, ctype: Any, result: Any) -> Any:
        """A C value as pyACL gives it: an address or handle as an int (0 for NULL), a C
        string as str (None for NULL), a number as itself, void as None."""
        ffi = self.ffi
        if ctype.kind == "void":
            return None
        if ctype.kind == "pointer":
            if ctype.item.kind == "primitive" and ctype.item.cname == "char":
                return ffi.string(result).decode("utf-8", "replace") if result else None
            return int(ffi.cast("uintptr_t", result))
        if ctype.kind == "struct":
            return result
        return result if ctype.kind == "primitive" and ctype.cname in ("float", "double") \
            else int(result)

    def output(self, ctype: Any) -> Any:
        """A fresh zeroed out-parameter for a parameter of type ``ctype`` (a pointer)."""
        return self.ffi.new(ctype)


class CFunction:
    """One C function of the library with its declaration and cffi type."""

    def __init__(self, declaration: Declaration, function: Any, ctype: Any) -> None:
        self.declaration = declaration
        self.function = function
        self.ctype = ctype

    @property
    def name(self) -> str:
        return self.declaration.name

    def inputs(self) -> list[tuple[Param, Any]]:
        return [(p, t) for p, t in zip(self.declaration.params, self.ctype.args, strict=True)
                if not p.output]


def c_only(fn: CFunction, convert: Converter) -> Callable[..., Any]:
    """``fn`` under its C name with every parameter: ``None`` → NULL, :data:`OUT` → allocated
    and returned (before the result, in parameter order), anything else converted as an
    input. The result alone when no OUT was given, else ``(*outs, result)``."""
    params = fn.declaration.params

    def call(*args: Any) -> Any:
        if len(args) != len(params):
            signature = ", ".join(p.name for p in params)
            raise TypeError(f"acl.capi.{fn.name}({signature}) takes {len(params)} arguments "
                            f"({len(args)} given)")
        keep: list[Any] = []
        outs: list[tuple[Any, Any]] = []
        cargs = []
        for value, ctype in zip(args, fn.ctype.args, strict=True):
            if value is OUT:
                if ctype.kind != "pointer":
                    raise TypeError(f"acl.capi.{fn.name}: OUT given for a parameter of type "
                                    f"{ctype.cname}, which is not a pointer")
                box = convert.output(ctype)
                outs.append((ctype.item, box))
                cargs.append(box)
            else:
                cargs.append(convert.argument(ctype, value, keep))
        result = convert.value(fn.ctype.result, fn.function(*cargs))
        if not outs:
            return result
        return (*(convert.value(item, box[0]) for item, box in outs), result)

    call.__name__ = call.__qualname__ = fn.name
    call.__doc__ = f"{fn.name}({', '.join(p.name for p in params)}) — the C function itself."
    return call


def forward(fn: CFunction, shape: Shape, convert: Converter,
            readers: dict[str, Callable[[Any], Any]] | None = None) -> Callable[..., Any]:
    """The pyACL function ``shape`` describes, forwarded to ``fn``: arguments parsed with the
    shape's format (pyACL's TypeError), then passed in order to the C inputs — a missing
    optional one as NULL — each out-parameter allocated and read back (a struct through
    ``readers`` by its C name). Returns ``ret`` or ``(*outputs, ret)`` when the C function
    returns a status, else its value."""
    inputs = fn.inputs()
    letters = shape.format.replace("|", "")
    if shape.parses_args and len(letters) != len(inputs):
        raise ValueError(f"{shape.qualname}: format {shape.format!r} has {len(letters)} "
                         f"arguments, {fn.name} has {len(inputs)} inputs")
    readers = readers or {}
    params = list(zip(fn.declaration.params, fn.ctype.args, strict=True))

    def read(item: Any, box: Any) -> Any:
        reader = readers.get(item.cname)
        return reader(box) if reader is not None else convert.value(item, box[0])

    def call(*args: Any, **kwargs: Any) -> Any:
        if shape.parses_args:
            values = parse_args(shape.qualname, shape.format, args, kwargs)
        else:
            refuse_keywords(shape.qualname, kwargs)
            values = []
        values += [None] * (len(inputs) - len(values))
        keep: list[Any] = []
        supplied = iter(values)
        outs: list[tuple[Any, Any]] = []
        cargs = []
        for param, ctype in params:
            if param.output:
                box = convert.output(ctype)
                outs.append((ctype.item, box))
                cargs.append(box)
            else:
                cargs.append(convert.argument(ctype, next(supplied), keep))
        result = fn.function(*cargs)
        if not shape.returns_ret:
            return convert.value(fn.ctype.result, result)
        ret = int(result)
        read_back = [read(item, box) for item, box in outs][:shape.outputs]
        return (*read_back, ret) if shape.outputs else ret

    call.__name__ = shape.qualname.rsplit(".", 1)[-1]
    call.__qualname__ = shape.qualname
    call.__doc__ = f"{shape.qualname} → {fn.name} (pytest-acl capi binding)"
    return call


# Every library opened, kept for the life of the process: cffi dlcloses a library when its
# ``lib`` object goes, and nothing may unmap libascendcl.so while what it made lives on — the
# simulator's library leaves its embedded module in sys.modules (a later getattr on it read
# unmapped memory and crashed the process), a real runtime its threads and callbacks.
_KEPT_OPEN: list[Any] = []


def _handing_back(function: Any) -> Callable[..., Any]:
    """``function``, raising a Ctrl-C that arrived while the simulator's library ran it
    (capi/interrupts.py; a real library never defers one)."""
    def call(*args: Any) -> Any:
        result = function(*args)
        interrupts.raise_deferred()
        return result

    return call


class Library:
    """``libascendcl.so`` opened with cffi against the declarations' ``cdef``: the C functions
    it exports (a declared function the library lacks is simply absent)."""

    def __init__(self, path: Path, cdef: str, declarations: Iterable[Declaration]) -> None:
        self.path = path
        self.ffi = cffi.FFI()
        self.ffi.cdef(cdef)
        self.lib = self.ffi.dlopen(str(path))
        _KEPT_OPEN.append((self.ffi, self.lib))
        self.functions: dict[str, CFunction] = {}
        self.missing: list[str] = []
        for declaration in declarations:
            try:
                function = getattr(self.lib, declaration.name)
            except AttributeError:
                self.missing.append(declaration.name)
                continue
            ctype = self.ffi.typeof(function)
            self.functions[declaration.name] = CFunction(declaration, _handing_back(function),
                                                         ctype)


def declarations(api: Any) -> list[Declaration]:
    """The functions of a :mod:`pytest_acl.capi.prototypes` ``Api`` as the binding needs them:
    an out-parameter is one the callee writes (role ``out``)."""
    found = []
    for function in api.functions.values():
        try:
            pyacl = function.pyacl_name
        except ValueError:
            pyacl = None
        params = tuple(Param(p.name, p.ctype, p.role == "out") for p in function.params)
        found.append(Declaration(function.name, function.returns, params, pyacl))
    return found


def shapes() -> dict[str, Shape]:
    """Every pyACL function's parse format and return shape as the simulator declares it
    (the binding's, or its recorded known difference) and the simulator's extras: so a
    wrong call raises the same TypeError on every backend (sim/surface.toml)."""
    from pytest_acl.sim.surface import load

    surface = load()
    found = {}
    for function in surface.functions:
        declared = function.expected()
        found[function.qualname] = Shape(function.qualname, declared["format"],
                                         declared["outputs"], declared["returns_ret"],
                                         declared["parses_args"])
    for extra in surface.extras:
        found[extra.qualname] = Shape(extra.qualname, extra.format, extra.outputs,
                                      extra.returns_ret)
    return found


def _util(module: types.ModuleType) -> None:
    """``acl.util``: pyACL's own host-pointer and thread helpers, which never call the
    library — the simulator's, which work on real host addresses (sim/acl_util.py)."""
    from pytest_acl.sim.acl_util import UtilApi
    from pytest_acl.sim.callbacks import UtilThreads

    util = UtilApi(UtilThreads())
    for name in dir(UtilApi):
        if not name.startswith("_") and callable(getattr(util, name)):
            setattr(module, name, getattr(util, name))


def open_library(path: Path, api: Any = None) -> types.ModuleType:
    """``libascendcl.so`` at ``path`` as a pyACL-shaped module (see the module docstring).
    ``api``: the declarations to bind (default: the project's headers, capi/prototypes.py)."""
    from pytest_acl.capi import prototypes
    from pytest_acl.capi.shapes import HANDLERS

    api = prototypes.load() if api is None else api
    library = Library(Path(path), api.cdef(), declarations(api))
    convert = Converter(library.ffi)
    modules = {"acl": BindingModule("acl", f"AscendCL: {path} (pytest-acl capi binding)")}
    for name in SUBMODULES:
        modules[f"acl.{name}"] = BindingModule(f"acl.{name}")
        setattr(modules["acl"], name, modules[f"acl.{name}"])
    capi = BindingModule("acl.capi", "Every C function the library exports, by its C name, "
                                     "with all its parameters (None: NULL, OUT: allocated)")
    modules["acl"].capi = capi  # type: ignore[attr-defined]
    for module in [*modules.values(), capi]:
        module.__file__ = str(path)
    capi.OUT = OUT  # type: ignore[attr-defined]
    capi.library = library  # type: ignore[attr-defined]
    capi.unbound = {}  # type: ignore[attr-defined]  # pyACL name -> why it is absent
    by_pyacl = {}
    for fn in library.functions.values():
        setattr(capi, fn.name, c_only(fn, convert))
        if fn.declaration.pyacl:
            by_pyacl[fn.declaration.pyacl] = fn
    for qualname, shape in shapes().items():
        bound = by_pyacl.get(qualname)
        home, _, name = qualname.rpartition(".")
        if bound is None or home not in modules:
            continue
        handler = HANDLERS.get(qualname)
        differs = api.functions[bound.name].differs
        if handler is None and differs is not None:
            capi.unbound[qualname] = f"pyACL's form differs ({differs.why}); not bound yet"
            continue
        try:
            function = (handler or forward)(bound, shape, convert)
        except ValueError as exc:
            capi.unbound[qualname] = str(exc)
            continue
        setattr(modules[home], name, function)
    _util(modules["acl.util"])
    return modules["acl"]
