"""pyACL's calling convention, applied to the simulator's functions.

Real pyACL parses arguments with ``PyArg_ParseTuple`` and returns outputs first, then ``ret``;
out-parameters are written only on success, so a failure gives ``(0, ..., ret)``
(reference/acl-api.md §4.1). A wrong arity or type raises ``TypeError("<name> args parse
failed")``, with a "!" in most of ``acl.mdl`` (:data:`MDL_PARSE_FAILED_WITHOUT_BANG`); a few
wrappers never parse their arguments (``pyacl(..., parses_args=False)``). Implementations
here raise :class:`AclFail` for an error code and return their outputs on success;
:func:`pyacl` turns both into pyACL's shapes.

Format letters (as PyArg_ParseTuple, reference §4.1):
``k``/``K`` unsigned long (long): an ``int``, masked to 64 bits, no overflow check;
``I`` uint32: anything with ``__index__``, masked; ``i`` C int: anything with ``__index__``,
in the int32 range; ``s`` a ``str`` without NUL that encodes to UTF-8; ``O`` any object.
The rest of the binding (surface.toml) also uses ``B``/``H`` unsigned char/short, masked to
8/16 bits like ``I``; ``b`` unsigned char in [0, 255], ``h`` short, ``l`` long and ``L`` long
long, range-checked like ``i``; ``d`` double and ``f`` float: a float, or anything with
``__float__`` or ``__index__`` (never a str), ``f`` rounded to single precision.
A ``|`` starts the optional arguments. (CPython ``Python/getargs.c`` ``convertsimple``;
``I``, ``B``, ``H`` have no ``PyLong_Check``, unlike ``k``/``K``, so a NumPy integer passes
them and the range-checked letters but not ``k``.)
"""

from __future__ import annotations

import collections
import ctypes
import functools
import logging
import operator
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from pytest_acl.constants import AclError

_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1


class AclFail(Exception):
    """An aclError to hand back to the caller as ``ret``; never escapes a pyACL function."""

    def __init__(self, code: int, why: str = "") -> None:
        super().__init__(code, why)
        self.code = int(code)
        self.why = why


class _ParseFailed(Exception):
    pass


def raised_by_pyacl(exc: Exception) -> Exception:
    """Mark an exception that real pyACL raises too (an argument it cannot parse, a callback
    that failed): it passes :func:`pyacl`'s guard. Any other exception escaping a simulated
    function is a simulator bug, turned into an aclError there."""
    exc.pyacl_raises = True  # type: ignore[attr-defined]
    return exc


class InternalErrors:
    """Internal failures the guard turned into ACL_ERROR_INTERNAL_ERROR: how many, and the
    latest lines. The fuzzer and the project's own tests look here, so a simulator bug is
    never silent."""

    def __init__(self) -> None:
        self.count = 0
        self.recent: collections.deque[str] = collections.deque(maxlen=100)

    def add(self, line: str) -> None:
        self.count += 1
        self.recent.append(line)


INTERNAL_ERRORS = InternalErrors()
_log = logging.getLogger("pytest_acl.sim")


_recent = threading.local()


def note_failure(name: str, code: int, why: str) -> None:
    """Remember why the calling thread's call failed, for acl.get_recent_err_msg."""
    _recent.message = f"{name} failed with aclError {code}" + (f": {why}" if why else "")


def take_recent_error() -> str | None:
    message = getattr(_recent, "message", None)
    _recent.message = None
    return message


def internal_error(name: str, exc: Exception) -> int:
    """Log a simulator failure inside ``name`` and give the aclError that reports it."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    line = (f"{name}: internal simulator error {type(exc).__name__}: {exc}"
            + (f" at {where.filename}:{where.lineno}" if where else ""))
    INTERNAL_ERRORS.add(line)
    note_failure(name, AclError.ACL_ERROR_INTERNAL_ERROR.value, line)
    _log.error("%s", line, exc_info=exc)
    return AclError.ACL_ERROR_INTERNAL_ERROR.value


# Range-checked letters (getargs.c: PyLong_AsLong or PyLong_AsLongLong, then the C type's
# limits; "b" is an unsigned char that refuses negative values) and masked ones
# (PyLong_AsUnsignedLongMask, then a cast to the C type).
_RANGES = {"b": (0, 0xFF), "h": (-(2**15), 2**15 - 1), "i": (-(2**31), 2**31 - 1),
           "l": (-(2**63), 2**63 - 1), "L": (-(2**63), 2**63 - 1)}
_MASKS = {"B": 0xFF, "H": 0xFFFF, "I": _MASK32}
LETTERS = frozenset("kK" + "".join(_RANGES) + "".join(_MASKS) + "fdsO")


def _index(value: Any) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise _ParseFailed from None


def _double(value: Any) -> float:
    """PyFloat_AsDouble: a float, else the type's ``__float__``, else its ``__index__``; a
    str is not converted, an int too large for a double is an OverflowError."""
    if isinstance(value, float):
        return value
    try:
        if hasattr(type(value), "__float__"):
            result = type(value).__float__(value)
            if not isinstance(result, float):
                raise _ParseFailed
            return result
        return float(operator.index(value))
    except (TypeError, OverflowError, ValueError):
        raise _ParseFailed from None


def _convert(letter: str, value: Any) -> Any:
    if letter in "kK":  # getargs.c checks PyLong_Check first: no __index__ objects
        if not isinstance(value, int):
            raise _ParseFailed
        return value & _MASK64
    if letter in _MASKS:  # PyLong_AsUnsignedLongMask, which takes any __index__
        return _index(value) & _MASKS[letter]
    if letter in _RANGES:
        number = _index(value)
        low, high = _RANGES[letter]
        if not low <= number <= high:
            raise _ParseFailed
        return number
    if letter == "d":
        return _double(value)
    if letter == "f":  # the double cast to a C float: rounded, inf beyond its range
        return ctypes.c_float(_double(value)).value
    if letter == "s":  # a str that encodes to a C string: UTF-8, no embedded NUL
        if not isinstance(value, str) or "\0" in value:
            raise _ParseFailed
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _ParseFailed from None
        return value
    if letter == "O":
        return value
    raise AssertionError(f"unknown format letter {letter!r}")


# The acl.mdl wrappers whose parse error has no "!" (every other acl.mdl wrapper ends it with
# one). cann-behaviour.md §9, row "TypeError text"; PYACL hicann/runtime
# python/pyACL/mdl/mdl_wrap.cpp. The row's whole list, including functions the simulator does
# not have. set_config_opt: only its outer "kiO" parse; the parse of its value has the "!".
# The two create_* handles never parse (row "create_desc, create_dataset,
# create_config_handle called with an argument"), so they never raise it.
MDL_PARSE_FAILED_WITHOUT_BANG = frozenset({
    "acl.mdl.load_with_config",
    "acl.mdl.create_config_handle",
    "acl.mdl.destroy_config_handle",
    "acl.mdl.set_config_opt",
    "acl.mdl.set_dataset_tensor_desc",
    "acl.mdl.get_dataset_tensor_desc",
    "acl.mdl.get_tensor_real_name",
    "acl.mdl.get_op_attr",
    "acl.mdl.get_aipp_data_size",
    "acl.mdl.create_exec_config_handle",
    "acl.mdl.destroy_exec_config_handle",
})


def parse_failed(name: str, bang: bool | None = None) -> TypeError:
    """The TypeError pyACL raises when ``name``'s arguments do not parse.

    ``bang`` overrides the rule by name, for a wrapper whose parses differ (set_config_opt)."""
    if bang is None:
        bang = name.startswith("acl.mdl.") and name not in MDL_PARSE_FAILED_WITHOUT_BANG
    error = TypeError(f"{name} args parse failed{'!' if bang else ''}")
    raised_by_pyacl(error)
    return error


def parse_args(name: str, fmt: str, args: tuple[Any, ...], kwargs: dict[str, Any],
               bang: bool | None = None) -> list[Any]:
    """Check and convert positional ``args`` against ``fmt``; pyACL takes no keywords."""
    required, _, optional = fmt.partition("|")
    if kwargs or not len(required) <= len(args) <= len(required) + len(optional):
        raise parse_failed(name, bang)
    try:  # trailing optional arguments may be omitted: fewer args than letters
        return [_convert(letter, value) for letter, value in zip(required + optional, args,
                                                                 strict=False)]
    except _ParseFailed:
        raise parse_failed(name, bang) from None


def refuse_keywords(name: str, kwargs: dict[str, Any]) -> None:
    """CPython refuses keywords to a METH_VARARGS function before pyACL's code runs
    (Objects/methodobject.c ``cfunction_call``), naming it by its short name."""
    if kwargs:
        raise raised_by_pyacl(
            TypeError(f"{name.rsplit('.', 1)[-1]}() takes no keyword arguments"))


def pyacl(name: str, fmt: str, outputs: int = 0, returns_ret: bool = True,
          parses_args: bool = True) -> Callable[..., Any]:
    """Give an implementation (a method of an API class) pyACL's parsing and return shape.

    ``outputs`` is the number of values before ``ret``. ``returns_ret=False`` is for the
    functions that return a plain value (a handle, a size, an address) and 0 on failure.
    ``parses_args=False`` is for the wrappers that never look at their arguments: any
    positional arguments are ignored (``fmt`` must be empty). The wrapper keeps the
    declaration as ``pyacl_name``, ``pyacl_format``, ``parses_args``, ``pyacl_outputs`` and
    ``pyacl_returns_ret`` (tests/sim/test_surface.py compares them with surface.toml).
    """
    if not parses_args and fmt:
        raise AssertionError(f"{name}: a function that parses nothing has no format")

    def decorate(impl: Callable[..., Any]) -> Callable[..., Any]:
        def failed(code: int) -> Any:
            if not returns_ret:
                return 0
            return code if outputs == 0 else (*([0] * outputs), code)

        @functools.wraps(impl)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if parses_args:
                values = parse_args(name, fmt, args, kwargs)
            else:
                refuse_keywords(name, kwargs)
                values = []
            try:
                result = impl(self, *values)
            except AclFail as fail:
                note_failure(name, fail.code, fail.why)
                return failed(fail.code)
            except Exception as exc:  # noqa: BLE001 - a bug is an aclError, not a crash
                if getattr(exc, "pyacl_raises", False) or isinstance(exc, Warning):
                    raise  # pyACL's own, or a warning the caller's filter made an error
                return failed(internal_error(name, exc))
            if not returns_ret:
                return result
            if outputs == 0:
                return AclError.ACL_SUCCESS.value if result is None else int(result)
            if outputs == 1:
                return result, AclError.ACL_SUCCESS.value
            return (*result, AclError.ACL_SUCCESS.value)

        call.__qualname__ = name
        _declare(call, name, fmt, outputs, returns_ret, parses_args)
        return call

    return decorate


def _declare(function: Callable[..., Any], name: str, fmt: str, outputs: int,
             returns_ret: bool, parses_args: bool) -> None:
    function.pyacl_name = name  # type: ignore[attr-defined]
    function.parses_args = parses_args  # type: ignore[attr-defined]
    function.pyacl_format = fmt  # type: ignore[attr-defined]
    function.pyacl_outputs = outputs  # type: ignore[attr-defined]
    function.pyacl_returns_ret = returns_ret  # type: ignore[attr-defined]


_F = TypeVar("_F", bound=Callable[..., Any])


def parses_own(name: str, fmt: str, outputs: int = 0, returns_ret: bool = True,
               parses_args: bool = True) -> Callable[[_F], _F]:
    """Declare on a function that parses its own arguments (without :func:`pyacl`) the pyACL
    name, format and return shape it implements — the attributes :func:`pyacl` sets — so the
    surface test checks it against the binding like the others (surface.toml)."""

    def decorate(function: _F) -> _F:
        _declare(function, name, fmt, outputs, returns_ret, parses_args)
        function.pyacl_parses_own = True  # type: ignore[attr-defined]
        return function

    return decorate
