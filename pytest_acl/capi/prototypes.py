"""The C API as our headers declare it: functions, parameters and their roles, a cffi ``cdef``,
and each C function's pyACL name.

One source of truth: ``pytest_acl/capi/include/acl/*.h`` (written from reference/acl-api.md and
the seed pages). The simulator's C library (simlib/) exports what is declared there; a binding
of a ``libascendcl.so`` (backends/capi.py) calls it. The headers are written in a disciplined
style — one declaration per statement, no macros inside declarations except
``ACL_FUNC_VISIBILITY`` and array sizes, a function-like macro on one line — so a small parser
reads them exactly; anything it cannot read is a :class:`HeaderError` naming the header and
the statement.

A variadic function (``aclAppLog``, a printf format and ``...``) is read into
:attr:`Api.variadic`, not :attr:`Api.functions`: those are the functions with a pyACL form the
library implements in Python and a binding maps, and a variadic one has neither (cffi's
``extern "Python"`` cannot take ``...``; the library defines it in plain C, simlib/build.py).
Function-like macros (``ACL_APP_LOG``) are kept in :attr:`Api.function_macros` by name.

A parameter's role is derived by rule, as the C API's conventions make it (acl-api.md §1,
"where a function takes ``uint32_t *modelId`` ... that id is an output"):

- ``out``: a non-const pointer to a scalar, an enum, a pointer-like handle or a struct of
  results (``uint32_t *modelId``, ``size_t *workSize``, ``void **devPtr``,
  ``aclrtContext *context``, ``aclmdlIODims *dims``) — the callee writes it;
- ``buffer``: a non-const ``void *`` — memory passed by address (``dst``, ``workPtr``);
- ``in``: everything else — values, enums, strings, const pointers and opaque handles
  (``aclmdlDesc *``).

pyACL takes the ``in`` and ``buffer`` parameters in C order and returns the ``out`` ones
first, then ``ret`` (acl-api.md §4.1). Where it does otherwise, :data:`PYACL_DIFFERS` says how.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

INCLUDE_DIR = Path(__file__).resolve().parent / "include"
TOP_HEADER = "acl/acl.h"

IN, OUT, BUFFER = "in", "out", "buffer"

# Scalar C types and the PyArg_ParseTuple letter pyACL parses each with (acl-api.md §4.1:
# "I" for ids, "i" for device ids, policies and kinds, "k" for sizes and pointers, "K" for
# uint64). An enum is an "i".
SCALAR_LETTERS = {"uint32_t": "I", "int32_t": "i", "int": "i", "int64_t": "L",
                  "uint64_t": "K", "size_t": "k", "uint16_t": "H", "uint8_t": "B",
                  "int8_t": "b", "float": "f", "double": "d"}

# The pyACL module each C prefix maps to; the longest prefix wins.
_PREFIXES = (("aclmdl", "acl.mdl"), ("aclrt", "acl.rt"), ("acl", "acl"))

# C functions whose pyACL name does not follow the prefix + snake_case rule (pyACL's method
# tables, pytest_acl/sim/surface.toml [source.tables]).
RENAMED = {
    "aclrtGetVersion": "acl.get_version",
    "aclrtGetSocName": "acl.get_soc_name",
    "aclrtSetCurrentContext": "acl.rt.set_context",
    "aclrtGetCurrentContext": "acl.rt.get_context",
    "aclrtUnSubscribeReport": "acl.rt.unsubscribe_report",
}


@dataclass(frozen=True)
class Difference:
    """How pyACL's form of a C function differs from the rule: its ``arguments`` (what a
    caller passes) or its ``outputs`` (what it returns), and why."""

    kind: str
    why: str


# Where pyACL's calling convention is not the rule (reference/acl-api.md §4.2–4.3,
# cann-behaviour.md §9; pytest_acl/sim/surface.toml notes). A binding maps these by hand.
PYACL_DIFFERS: dict[str, Difference] = {
    "aclmdlSetConfigOpt": Difference(
        "arguments", "(handle, attr, value): the value's Python type follows the attribute "
        "(int32 for PRIORITY, str for PATH_PTR, an address for *_ADDR_PTR and WEIGHT_PATH_PTR, "
        "uint64 otherwise) and pyACL passes its address and size (acl-api.md §4.3)"),
    "aclmdlSetExecConfigOpt": Difference(
        "arguments", "(handle, attr, value): the value is a uint32 passed by address with "
        "size 4 (mdl_wrap.cpp WrapAclMdlSetExecConfigOpt)"),
    "aclCreateTensorDesc": Difference(
        "arguments", "(data_type, dims, format): numDims and dims come from one list of int "
        "(cann-behaviour.md §9)"),
    "aclrtLaunchCallback": Difference(
        "arguments", "(fn, user_data, block_type, stream): fn is a Python callable called "
        "with user_data, any object"),
    "aclmdlSetInputDynamicDims": Difference(
        "arguments", "dims is a dict {name, dimCount, dims} (surface.toml note)"),
    "aclmdlGetInputDims": Difference("outputs", "a dict {name, dimCount, dims}; {} on failure"),
    "aclmdlGetInputDimsV2": Difference("outputs", "a dict {name, dimCount, dims}; {} on failure"),
    "aclmdlGetOutputDims": Difference("outputs", "a dict {name, dimCount, dims}; {} on failure"),
    "aclmdlGetCurOutputDims": Difference("outputs",
                                         "a dict {name, dimCount, dims}; {} on failure"),
    "aclmdlGetInputDimsRange": Difference("outputs", "a dict {rangeCount, range}"),
    "aclmdlGetDynamicBatch": Difference("outputs", "a dict {batchCount, batch}; {} on failure"),
    "aclmdlGetDynamicHW": Difference("outputs", "a dict {hwCount, hw}; {} on failure"),
    "aclmdlGetInputDynamicDims": Difference(
        "outputs", "a list of gearCount dicts {name, dimCount, dims}; dims is an array"),
    "aclmdlAddDatasetBuffer": Difference(
        "outputs", "(dataset, ret): the dataset argument echoed, also on failure"),
    "aclmdlSetDatasetTensorDesc": Difference(
        "outputs", "(dataset, ret): the dataset argument echoed, also on failure"),
}

# pyACL functions the simulator emulates that have no C counterpart in the headers, and why.
NO_C_COUNTERPART = {
    "acl.app_log": "pyACL's (level, message) is not C's aclAppLog(level, func, file, line, "
                   "fmt, ...): the headers declare aclAppLog and ACL_APP_LOG (Api.variadic) "
                   "and the library exports aclAppLog in plain C, ignoring its arguments as "
                   "the simulator's acl.app_log does; the capi binding offers no acl.app_log",
    "acl.util.numpy_to_ptr": "pyACL's own helper over host memory",
    "acl.util.numpy_contiguous_to_ptr": "pyACL's own helper over host memory",
    "acl.util.ptr_to_numpy": "pyACL's own helper over host memory",
    "acl.util.bytes_to_ptr": "pyACL's own helper over host memory",
    "acl.util.ptr_to_bytes": "pyACL's own helper over host memory",
    "acl.util.start_thread": "pyACL's own thread helper (a C program uses pthreads)",
    "acl.util.stop_thread": "pyACL's own thread helper (a C program uses pthreads)",
}


class HeaderError(ValueError):
    """A header statement the parser cannot read."""


@dataclass(frozen=True)
class Param:
    """One parameter: its name, its C type (normalised: ``const char *``, ``void **``), its
    role (``in``, ``out``, ``buffer``) and its kind (``int``, ``enum``, ``string``,
    ``handle``, ``pointer``, ``struct``, ``callback``)."""

    name: str
    ctype: str
    role: str
    kind: str

    @property
    def pointee(self) -> str:
        """The type an ``out`` parameter points to (``uint32_t`` for ``uint32_t *``)."""
        return self.ctype[:-1].rstrip() if self.ctype.endswith("*") else self.ctype

    @property
    def letter(self) -> str:
        """The PyArg_ParseTuple letter pyACL parses this input with."""
        if self.kind == "string":
            return "s"
        if self.kind == "callback":
            return "O"
        if self.kind == "enum":
            return "i"
        if self.kind == "int":
            return SCALAR_LETTERS[self.ctype]
        return "k"  # handles and pointers: unsigned long (acl-api.md §4.1)


@dataclass(frozen=True)
class Function:
    """One declared C function and its pyACL form."""

    name: str
    returns: str
    params: tuple[Param, ...]
    header: str
    variadic: bool = False  # ``...`` after the named parameters (a printf format)

    @property
    def returns_error(self) -> bool:
        return self.returns == "aclError"

    @property
    def inputs(self) -> tuple[Param, ...]:
        """The parameters pyACL takes, in C order."""
        return tuple(p for p in self.params if p.role != OUT)

    @property
    def outputs(self) -> tuple[Param, ...]:
        """The out-parameters pyACL returns before ``ret``, in C order."""
        return tuple(p for p in self.params if p.role == OUT)

    @property
    def pyacl_name(self) -> str:
        return pyacl_name(self.name)

    @property
    def pyacl_format(self) -> str:
        """The format pyACL's rule gives this function (``""`` for no inputs)."""
        return "".join(p.letter for p in self.inputs)

    @property
    def differs(self) -> Difference | None:
        return PYACL_DIFFERS.get(self.name)

    def declaration(self) -> str:
        """The C declaration without ``ACL_FUNC_VISIBILITY`` (for a cdef)."""
        params = ", ".join(f"{p.ctype}{'' if p.ctype.endswith('*') else ' '}{p.name}"
                           for p in self.params) or "void"
        if self.variadic:
            params += ", ..."
        sep = "" if self.returns.endswith("*") else " "
        return f"{self.returns}{sep}{self.name}({params});"


@dataclass
class Api:
    """Everything the headers declare, in declaration order."""

    functions: dict[str, Function] = field(default_factory=dict)
    variadic: dict[str, Function] = field(default_factory=dict)  # ``...``: C-only (aclAppLog)
    function_macros: dict[str, str] = field(default_factory=dict)  # name -> its definition
    types: list[str] = field(default_factory=list)        # typedef statements, cdef-ready
    constants: dict[str, int] = field(default_factory=dict)  # static consts and int macros
    strings: dict[str, str] = field(default_factory=dict)    # string macros
    enums: dict[str, dict[str, int]] = field(default_factory=dict)
    structs: set[str] = field(default_factory=set)     # struct typedefs with a body
    opaque: set[str] = field(default_factory=set)      # opaque struct typedefs (handles)
    pointers: set[str] = field(default_factory=set)    # void * typedefs (aclrtStream ...)
    callbacks: set[str] = field(default_factory=set)   # function-pointer typedefs
    scalars: set[str] = field(default_factory=set)     # other typedefs of scalars (aclError)
    macros: list[str] = field(default_factory=list)    # integer macro names, in order
    statics: list[str] = field(default_factory=list)   # static const names, in order
    _pyacl: dict[str, Function] = field(default_factory=dict, repr=False)

    def by_pyacl(self, name: str) -> Function | None:
        """The C function whose pyACL name is ``name`` (``acl.mdl.load_from_file``)."""
        if len(self._pyacl) != len(self.functions):
            self._pyacl = {f.pyacl_name: f for f in self.functions.values()}
        return self._pyacl.get(name)

    def cdef_types(self) -> str:
        """Typedefs, enums, structs and constants as a cffi ``cdef`` (macros replaced by
        their values inside declarations)."""
        lines = [f"#define {name} {self.constants[name]}" for name in self.macros]
        lines += [_expand(text, self.constants) for text in self.types]
        lines += [f"static const int {name} = {self.constants[name]};" for name in self.statics]
        return "\n".join(lines) + "\n"

    def cdef_functions(self) -> str:
        """Every function declaration, the variadic ones last, for a ``cdef`` (cffi calls a
        variadic function with cdata arguments of the types C promotes to)."""
        return "\n".join(f.declaration() for f in [*self.functions.values(),
                                                    *self.variadic.values()]) + "\n"

    def cdef(self) -> str:
        return self.cdef_types() + self.cdef_functions()


def _snake(camel: str) -> str:
    """``LoadFromFileWithMem`` → ``load_from_file_with_mem``; acronyms stay one word
    (``GetDynamicHW`` → ``get_dynamic_hw``, ``ExecuteV2`` → ``execute_v2``)."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", camel)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return text.lower()


def pyacl_name(c_name: str) -> str:
    """The pyACL name of a C function: ``aclmdlLoadFromFile`` → ``acl.mdl.load_from_file``."""
    if c_name in RENAMED:
        return RENAMED[c_name]
    for prefix, module in _PREFIXES:
        if c_name.startswith(prefix) and c_name[len(prefix):][:1].isupper():
            return f"{module}.{_snake(c_name[len(prefix):])}"
    raise ValueError(f"{c_name!r} is not an AscendCL name (acl, aclrt or aclmdl + CamelCase)")


# -- reading the headers --------------------------------------------------------------------

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_CPLUSPLUS = re.compile(r"#ifdef __cplusplus\n.*?#endif\n", re.S)
_INCLUDE = re.compile(r'#include\s+"([^"]+)"')
_DEFINE_INT = re.compile(r"#define\s+(\w+)\s+(-?(?:0x[0-9A-Fa-f]+|\d+))[uUlL]*\s*$")
_DEFINE_STR = re.compile(r'#define\s+(\w+)\s+"([^"]*)"\s*$')
_DEFINE_FUNCTION = re.compile(r"#define\s+(\w+)\(([^()]*)\)\s+(\S.*?)\s*$")
_STATIC_CONST = re.compile(r"static\s+const\s+(?:int|int32_t|uint32_t)\s+(\w+)\s*=\s*"
                           r"(-?(?:0x[0-9A-Fa-f]+|\d+))[uUlL]*")
_FUNCTION = re.compile(r"ACL_FUNC_VISIBILITY\s+(?P<ret>[\w\s]+?\**)\s*(?P<name>acl\w+)\s*"
                       r"\((?P<params>[^()]*)\)")
_PARAM = re.compile(r"^(?P<type>[\w\s]+?\**)\s*(?P<name>\w+)$")
_ENUM = re.compile(r"typedef\s+enum\s*\w*\s*\{(?P<body>[^}]*)\}\s*(?P<name>\w+)$")
_STRUCT = re.compile(r"typedef\s+struct\s*\w*\s*\{(?P<body>[^}]*)\}\s*(?P<name>\w+)$")
_OPAQUE = re.compile(r"typedef\s+struct\s+(\w+)\s+(\w+)$")
_POINTER = re.compile(r"typedef\s+void\s*\*\s*(\w+)$")
_CALLBACK = re.compile(r"typedef\s+[\w\s*]+\(\s*\*\s*(\w+)\s*\)\s*\([^)]*\)$")
_SCALAR = re.compile(r"typedef\s+([\w\s]+?)\s+(\w+)$")


def _normalise(ctype: str) -> str:
    base = " ".join(ctype.replace("*", " ").split())
    stars = ctype.count("*")
    return f"{base} {'*' * stars}" if stars else base


def _expand(text: str, constants: dict[str, int]) -> str:
    """Replace macro names in array sizes by their values (cffi cannot see macros)."""
    return re.sub(r"\[(\w+)\]", lambda m: f"[{constants.get(m.group(1), m.group(1))}]", text)


def _int(text: str) -> int:
    return int(text, 0)


def _statements(text: str) -> Iterator[str]:
    """The header's statements up to each ``;`` at brace depth 0, whitespace collapsed."""
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == ";" and depth == 0:
            statement = " ".join(text[start:index].split())
            if statement:
                yield statement
            start = index + 1
    rest = " ".join(text[start:].split())
    if rest:
        raise HeaderError(f"text after the last statement: {rest[:80]!r}")


def _role_and_kind(ctype: str, api: Api, where: str) -> tuple[str, str]:
    const = ctype.startswith("const ")
    base = ctype.removeprefix("const ").rstrip(" *")
    stars = ctype.count("*")
    if stars == 0:
        kind = ("int" if base in SCALAR_LETTERS or base in api.scalars else
                "enum" if base in api.enums else "handle" if base in api.pointers else
                "callback" if base in api.callbacks else None)
    elif base == "char" and stars == 1 and const:
        kind = "string"
    elif const:  # read by the callee: an opaque handle, a struct or memory
        kind = ("handle" if base in api.opaque else "struct" if base in api.structs
                else "pointer")
    elif stars >= 2 or base in api.pointers:  # void **devPtr, aclrtContext *context
        return OUT, "handle" if base in api.pointers else "pointer"
    elif base in SCALAR_LETTERS or base in api.scalars:  # uint32_t *modelId
        return OUT, "int"
    elif base in api.enums:  # aclrtRunMode *runMode
        return OUT, "enum"
    elif base in api.structs:  # aclmdlIODims *dims
        return OUT, "struct"
    elif base == "void":  # memory by address: dst, workPtr
        return BUFFER, "pointer"
    else:
        kind = "handle" if base in api.opaque else None
    if kind is None:
        raise HeaderError(f"{where}: parameter type {ctype!r} is not a known type")
    return IN, kind


def _function(statement: str, header: str, api: Api) -> Function:
    match = _FUNCTION.fullmatch(statement)
    if match is None:
        raise HeaderError(f"{header}: cannot read the declaration {statement!r}")
    name = match["name"]
    params: list[Param] = []
    text = match["params"].strip()
    variadic = text.endswith("...")
    if variadic:
        text = text.removesuffix("...").rstrip().removesuffix(",")
        if not text or text.endswith(","):
            raise HeaderError(f"{header}: {name}: '...' needs a named parameter before it")
    if text and text != "void":
        for part in text.split(","):
            found = _PARAM.match(part.strip())
            if found is None:
                raise HeaderError(f"{header}: {name}: cannot read the parameter {part!r}")
            ctype = _normalise(found["type"])
            role, kind = _role_and_kind(ctype, api, f"{header}: {name}")
            params.append(Param(found["name"], ctype, role, kind))
    return Function(name, _normalise(match["ret"]), tuple(params), header, variadic)


def _typedef(statement: str, header: str, api: Api) -> None:
    if found := _ENUM.fullmatch(statement):
        values, last = {}, -1
        for item in filter(None, (part.strip() for part in found["body"].split(","))):
            key, _, value = (s.strip() for s in item.partition("="))
            last = _int(value) if value else last + 1
            values[key] = last
        api.enums[found["name"]] = values
        api.constants.update(values)
    elif found := _STRUCT.fullmatch(statement):
        api.structs.add(found["name"])
    elif found := _OPAQUE.fullmatch(statement):
        api.opaque.add(found[2])
    elif found := _POINTER.fullmatch(statement):
        api.pointers.add(found[1])
    elif found := _CALLBACK.fullmatch(statement):
        api.callbacks.add(found[1])
    elif found := _SCALAR.fullmatch(statement):
        api.scalars.add(found[2])
    else:
        raise HeaderError(f"{header}: cannot read the typedef {statement!r}")
    api.types.append(statement + ";")


def _read(header: str, include_dir: Path, api: Api, seen: set[str]) -> None:
    if header in seen:
        return
    seen.add(header)
    path = include_dir / header
    text = _CPLUSPLUS.sub("", _COMMENTS.sub("", path.read_text(encoding="utf-8")))
    body: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            body.append(line)
            continue
        if include := _INCLUDE.match(stripped):
            _read(str(Path(header).parent / include[1]), include_dir, api, seen)
        elif define := _DEFINE_INT.match(stripped):
            api.constants[define[1]] = _int(define[2])
            api.macros.append(define[1])
        elif define := _DEFINE_STR.match(stripped):
            api.strings[define[1]] = define[2]
        elif define := _DEFINE_FUNCTION.match(stripped):
            api.function_macros[define[1]] = stripped
        if stripped.endswith("\\"):
            raise HeaderError(f"{header}: a preprocessor line continues with '\\' (keep it "
                              f"on one line): {stripped[:80]!r}")
    for statement in _statements("\n".join(body)):
        if statement.startswith("typedef"):
            _typedef(statement, header, api)
        elif constant := _STATIC_CONST.fullmatch(statement):
            api.constants[constant[1]] = _int(constant[2])
            api.statics.append(constant[1])
        elif statement.startswith("ACL_FUNC_VISIBILITY"):
            function = _function(statement, header, api)
            if function.name in api.functions or function.name in api.variadic:
                raise HeaderError(f"{header}: {function.name} is declared twice")
            (api.variadic if function.variadic else api.functions)[function.name] = function
        else:
            raise HeaderError(f"{header}: cannot read the statement {statement!r}")


def read_headers(include_dir: Path = INCLUDE_DIR, top: str = TOP_HEADER) -> Api:
    """Parse ``top`` and the headers it includes (``#include "..."``), in order."""
    api = Api()
    _read(top, include_dir, api, set())
    return api


@functools.cache
def load() -> Api:
    """The shipped headers' API, read once per process."""
    return read_headers()


def header_files(include_dir: Path = INCLUDE_DIR) -> list[Path]:
    """The header files that make up the API (for copying and hashing)."""
    return sorted((include_dir / "acl").glob("*.h"))
