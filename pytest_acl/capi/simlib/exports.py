"""The simulator's C library: the implementation of every function our headers declare, as a
cffi ``def_extern`` that runs the simulator (the exported C function checks that Python
started and this install succeeded, then calls it; build.py).

Each export turns its C arguments into the simulator's pyACL-shaped call on
``pytest_acl.sim.default_simulator().acl`` — so a process that already runs Python and loads
the library (through ctypes or cffi) drives the very simulator it sees in Python — then writes
the outputs into the caller's out-pointers and returns the aclError. The forward mapping is
prototypes.py's (roles by rule); the functions whose pyACL form differs
(``prototypes.PYACL_DIFFERS``) are converted here by hand.

C-only behaviour, where pyACL cannot express the call:

- a NULL out-parameter is refused with ACL_ERROR_INVALID_PARAM before anything runs
  (reference/acl-api.md §3.1, row "Any required pointer argument NULL (modelPath, modelId,
  model, workSize/weightSize out-ptrs, handle, bundleId, queryInfo …) → 100000"; the row
  "aclrtMalloc size 0 or NULL devPtr → 100000");
- a NULL string is refused the same way, except aclInit's configPath, which may be NULL
  (acl_rt.h);
- aclmdlSetConfigOpt takes ``(attrValue, valueSize)`` as C does and checks the size per
  attribute (acl-api.md §2, "valueSize accepted by the SetConfigOpt checker"), so
  ACL_MDL_WITHOUT_GRAPH_INT32 with 4 bytes is accepted here, which pyACL cannot do (§4.3).

No Python exception ever reaches C: an argument pyACL itself would refuse is
ACL_ERROR_INVALID_PARAM, anything else a simulator bug reported as ACL_ERROR_INTERNAL_ERROR
by pyargs' guard (:func:`pytest_acl.sim.pyargs.internal_error`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pytest_acl.capi import interrupts, prototypes
from pytest_acl.capi.prototypes import OUT, Function, Param
from pytest_acl.constants import AclError, MdlConfigAttr
from pytest_acl.sim.pyargs import internal_error, note_failure

E = AclError
A = MdlConfigAttr
_log = logging.getLogger("pytest_acl.sim")
_MASK64 = (1 << 64) - 1

# valueSize the SetConfigOpt checker accepts per attribute (acl-api.md §2): int32 for the
# priority and WITHOUT_GRAPH, a pointer for *_PTR, size_t for the rest of 0–14.
_INT32_ATTRS = {A.ACL_MDL_PRIORITY_INT32, A.ACL_MDL_WITHOUT_GRAPH_INT32}
_POINTER_ATTRS = {A.ACL_MDL_PATH_PTR, A.ACL_MDL_MEM_ADDR_PTR, A.ACL_MDL_WEIGHT_ADDR_PTR,
                  A.ACL_MDL_WORKSPACE_ADDR_PTR, A.ACL_MDL_INPUTQ_ADDR_PTR,
                  A.ACL_MDL_OUTPUTQ_ADDR_PTR, A.ACL_MDL_WEIGHT_PATH_PTR}
_SIZE_ATTRS = set(range(0, 15)) - _INT32_ATTRS - _POINTER_ATTRS


class Refused(Exception):
    """An aclError an export returns before (or instead of) calling the simulator."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(code, why)
        self.code, self.why = int(code), why


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


class Exports:
    """The exports of one cffi module, bound to one pyACL-shaped ``acl`` module."""

    def __init__(self, ffi: Any, acl: Any) -> None:
        self.ffi = ffi
        self.acl = acl
        self._strings: dict[str, Any] = {}  # const char * results, kept alive (interned)
        self._local = threading.local()     # aclGetRecentErrMsg's text, per thread
        self._lock = threading.Lock()

    # -- C values to Python and back -------------------------------------------------------
    def address(self, value: Any) -> int:
        return int(self.ffi.cast("uintptr_t", value))

    def text(self, value: Any, name: str) -> str:
        if value == self.ffi.NULL:
            raise Refused(E.ACL_ERROR_INVALID_PARAM, f"{name} is NULL")
        return self.ffi.string(value).decode("utf-8", "surrogateescape")

    def c_string(self, text: str | None) -> Any:
        """A ``const char *`` that stays valid (one per distinct text), NULL for None."""
        if text is None:
            return self.ffi.NULL
        with self._lock:
            found = self._strings.get(text)
            if found is None:
                found = self._strings[text] = self.ffi.new("char[]", text.encode())
        return found

    def argument(self, param: Param, value: Any) -> Any:
        if param.kind == "string":
            return self.text(value, param.name)
        if param.kind in ("int", "enum"):
            return int(value)
        return self.address(value)

    def write(self, param: Param, pointer: Any, value: Any) -> None:
        """Store one output through its out-pointer (known non-NULL)."""
        if param.kind == "struct":
            self.fill(param.pointee, pointer, value)
        elif param.kind in ("handle", "pointer"):
            pointer[0] = self.ffi.cast("void *", value or 0)
        else:
            pointer[0] = value

    def fill(self, struct: str, pointer: Any, value: Any) -> None:
        """Fill a struct of results from the dict (or list of dicts) pyACL returns."""
        if isinstance(value, list):  # aclmdlGetInputDynamicDims: an array of gearCount
            for index, item in enumerate(value):
                if item is not None:
                    self.fill(struct, pointer + index, item)
            return
        target = pointer[0]
        if struct == "aclmdlIODims":
            name = value.get("name", "").encode()[:len(target.name) - 1]
            target.name = name
            dims = [_signed64(d & _MASK64) for d in value.get("dims", [])][:len(target.dims)]
            target.dimCount = value.get("dimCount", len(dims))
            target.dims[0:len(dims)] = dims
        elif struct == "aclmdlIODimsRange":
            pairs = value.get("range", [])[:len(target.range)]
            target.rangeCount = len(pairs)
            for index, (low, high) in enumerate(pairs):
                target.range[index][0:2] = [low, high]
        elif struct == "aclmdlBatch":
            batch = value.get("batch", [])[:len(target.batch)]
            target.batchCount = value.get("batchCount", len(batch))
            target.batch[0:len(batch)] = batch
        elif struct == "aclmdlHW":
            pairs = value.get("hw", [])[:len(target.hw)]
            target.hwCount = value.get("hwCount", len(pairs))
            for index, (height, width) in enumerate(pairs):
                target.hw[index][0:2] = [height, width]
        else:
            raise TypeError(f"no filler for struct {struct}")

    def result(self, function: Function, value: Any) -> Any:
        """A plain (non-aclError) result as the C return type."""
        returns = function.returns
        if returns == "void":
            return None
        if returns.endswith("char *"):
            if function.name == "aclGetRecentErrMsg":  # valid until the thread's next call
                self._local.message = None if value is None else self.ffi.new(
                    "char[]", value.encode())
                return self._local.message or self.ffi.NULL
            return self.c_string(value)
        if returns.endswith("*"):
            return self.ffi.cast(returns, value or 0)
        return int(value)

    # -- the exports -----------------------------------------------------------------------
    def target(self, function: Function) -> Callable[..., Any]:
        module, _, name = function.pyacl_name.rpartition(".")
        holder = self.acl
        for part in module.split(".")[1:]:
            holder = getattr(holder, part)
        return getattr(holder, name)

    def make(self, function: Function) -> Callable[..., Any]:
        """The Python implementation behind one exported C function."""
        call = self.target(function)
        outs = [(i, p) for i, p in enumerate(function.params) if p.role == OUT]
        ins = [(i, p) for i, p in enumerate(function.params) if p.role != OUT]
        by_hand = _BY_HAND.get(function.name)
        failed: Any = (E.ACL_ERROR_INTERNAL_ERROR.value if function.returns_error else
                       None if function.returns == "void" else
                       self.ffi.NULL if function.returns.endswith("*") else 0)

        def export(*cargs: Any) -> Any:
            try:
                if function.returns_error:
                    for index, param in outs:
                        if cargs[index] == self.ffi.NULL:
                            raise Refused(E.ACL_ERROR_INVALID_PARAM,
                                          f"the out-parameter {param.name} is NULL")
                if by_hand is not None:
                    value = by_hand(self, call, *cargs)
                else:
                    value = call(*(self.argument(p, cargs[i]) for i, p in ins))
                if not function.returns_error:
                    return self.result(function, value)
                if not isinstance(value, tuple):
                    return int(value)
                *values, ret = value
                if ret == E.ACL_SUCCESS and len(values) == len(outs):
                    for (index, param), item in zip(outs, values, strict=True):
                        self.write(param, cargs[index], item)
                return int(ret)
            except Refused as refusal:
                note_failure(function.name, refusal.code, refusal.why)
                return refusal.code if function.returns_error else failed
            except Exception as exc:  # noqa: BLE001 - nothing may escape into C
                return self.escaped(function, exc, failed)
            except KeyboardInterrupt:  # cannot cross C: the caller gets it (interrupts.py)
                interrupts.defer()
                return failed

        export.__name__ = function.name
        return export

    def escaped(self, function: Function, exc: Exception, failed: Any) -> Any:
        if getattr(exc, "pyacl_raises", False):  # an argument pyACL itself refuses
            note_failure(function.name, E.ACL_ERROR_INVALID_PARAM.value, str(exc))
            return E.ACL_ERROR_INVALID_PARAM.value if function.returns_error else failed
        if isinstance(exc, Warning):  # a warning a filter turned into an error
            _log.warning("%s: %s", function.name, exc)
            return failed
        code = internal_error(function.name, exc)
        return code if function.returns_error else failed


# -- the functions whose pyACL form differs (prototypes.PYACL_DIFFERS) ----------------------

def _init(x: Exports, call: Callable[..., Any], config_path: Any) -> Any:
    """aclInit(NULL) is aclInit without a configuration file (acl_rt.h)."""
    if config_path == x.ffi.NULL:
        return call()
    return call(x.text(config_path, "configPath"))


def _set_config_opt(x: Exports, call: Callable[..., Any], handle: Any, attr: int,
                    value: Any, size: int) -> Any:
    """The C checker's order (acl-api.md §2.1; cann-behaviour.md §7): NULL handle or value,
    an attribute not in the map (the simulator's), then the value's size per attribute,
    then the value itself (read as C passes it: by address)."""
    if handle == x.ffi.NULL or value == x.ffi.NULL:
        raise Refused(E.ACL_ERROR_INVALID_PARAM, "handle or attrValue is NULL")
    if attr not in _INT32_ATTRS | _POINTER_ATTRS | _SIZE_ATTRS:
        return call(x.address(handle), attr, 0)  # the simulator refuses what it lacks
    want = 4 if attr in _INT32_ATTRS else 8
    if size != want:
        raise Refused(E.ACL_ERROR_INVALID_PARAM,
                      f"valueSize {size} for attribute {attr}: it takes {want} bytes")
    if attr in _INT32_ATTRS:
        number = x.ffi.cast("int32_t *", value)[0]
        if attr == A.ACL_MDL_WITHOUT_GRAPH_INT32:
            return _without_graph(x, handle, number)
        return call(x.address(handle), attr, number)
    pointer = x.ffi.cast("void **", value)[0]
    if attr == A.ACL_MDL_PATH_PTR:
        return call(x.address(handle), attr, x.text(x.ffi.cast("char *", pointer), "path"))
    if attr in _POINTER_ATTRS:
        return call(x.address(handle), attr, x.address(pointer))
    return call(x.address(handle), attr, int(x.ffi.cast("size_t *", value)[0]))


def _without_graph(x: Exports, handle: Any, value: int) -> int:
    """ACL_MDL_WITHOUT_GRAPH_INT32 with its 4 bytes: 0 or 1 (acl-api.md §2 row 28), recorded
    on the handle — the simulator's pyACL form cannot take it (§4.3)."""
    from pytest_acl.sim.handles import Kind

    found = x.acl.__simulator__.runtime.handles.get(Kind.CONFIG_HANDLE, x.address(handle))
    if found is None:
        raise Refused(E.ACL_ERROR_INVALID_PARAM, "not a config handle")
    if value not in (0, 1):
        raise Refused(E.ACL_ERROR_INVALID_PARAM, f"ACL_MDL_WITHOUT_GRAPH_INT32 {value}: 0 or 1")
    found.values[int(A.ACL_MDL_WITHOUT_GRAPH_INT32)] = value
    return E.ACL_SUCCESS.value


def _set_exec_config_opt(x: Exports, call: Callable[..., Any], handle: Any, attr: int,
                         value: Any, size: int) -> Any:
    """The value by address: 4 bytes (the int32 timeouts) or 8; pyACL's form takes a
    uint32 (mdl_wrap.cpp WrapAclMdlSetExecConfigOpt)."""
    if value == x.ffi.NULL or size not in (4, 8):
        raise Refused(E.ACL_ERROR_INVALID_PARAM, f"attrValue NULL or valueSize {size}")
    number = int(x.ffi.cast("uint32_t *" if size == 4 else "uint64_t *", value)[0])
    if size == 8 and attr in (0, 1):
        raise Refused(E.ACL_ERROR_INVALID_PARAM, f"attribute {attr} takes 4 bytes, not 8")
    return call(x.address(handle), attr, number & 0xFFFFFFFF if size == 4 else number)


def _create_tensor_desc(x: Exports, call: Callable[..., Any], data_type: int, num_dims: int,
                        dims: Any, fmt: int) -> Any:
    if num_dims < 0 or (num_dims > 0 and dims == x.ffi.NULL):
        return 0
    return call(data_type, list(dims[0:num_dims]) if num_dims else [], fmt)


def _launch_callback(x: Exports, call: Callable[..., Any], fn: Any, user_data: Any,
                     block_type: int, stream: Any) -> Any:
    """The C callback runs on the thread that calls aclrtProcessReport, with its userData."""
    if fn == x.ffi.NULL:
        raise Refused(E.ACL_ERROR_INVALID_PARAM, "fn is NULL")
    return call(lambda data: fn(data), user_data, block_type, x.address(stream))


def _set_input_dynamic_dims(x: Exports, call: Callable[..., Any], model_id: int, dataset: Any,
                            index: int, dims: Any) -> Any:
    if dims == x.ffi.NULL:
        raise Refused(E.ACL_ERROR_INVALID_PARAM, "dims is NULL")
    count = int(dims.dimCount)
    values = [int(d) for d in dims.dims[0:min(count, len(dims.dims))]]
    return call(model_id, x.address(dataset), index,
                {"name": x.ffi.string(dims.name).decode("utf-8", "replace"),
                 "dimCount": count, "dims": values})


_BY_HAND: dict[str, Callable[..., Any]] = {
    "aclInit": _init,
    "aclmdlSetConfigOpt": _set_config_opt,
    "aclmdlSetExecConfigOpt": _set_exec_config_opt,
    "aclCreateTensorDesc": _create_tensor_desc,
    "aclrtLaunchCallback": _launch_callback,
    "aclmdlSetInputDynamicDims": _set_input_dynamic_dims,
}


def install(ffi: Any, acl: Any = None) -> Exports:
    """Register the implementation of every declared function on ``ffi`` (the library's
    embedded cffi module; the exported C wrapper of ``aclX`` calls ``IMPLEMENTATION + "aclX"``,
    build.py), running ``acl`` — by default the process-wide simulator's."""
    from pytest_acl.capi.simlib.build import IMPLEMENTATION

    if acl is None:
        from pytest_acl.sim import default_simulator

        acl = default_simulator().acl
    exports = Exports(ffi, acl)
    for function in prototypes.load().functions.values():
        # error/onerror: what escapes ``export`` (Ctrl-C landing before its try) is a failed
        # call with the interrupt deferred, never cffi's 0 (ACL_SUCCESS)
        failed = {"error": E.ACL_ERROR_INTERNAL_ERROR.value} if function.returns_error else {}
        ffi.def_extern(name=IMPLEMENTATION + function.name, onerror=_escaped,
                       **failed)(exports.make(function))
    return exports


def _escaped(kind: type[BaseException], value: BaseException, traceback: Any) -> None:
    """cffi's onerror: an exception that left an export (only an interrupt can) → the call
    returns its ``error`` value; an interrupt goes back to the caller."""
    if issubclass(kind, KeyboardInterrupt):
        interrupts.defer()
    else:
        _log.error("pytest-acl simulator library: %s escaped an export: %s", kind.__name__,
                   value)
