"""The pyACL functions whose wrapper does more than pass arguments to C and read its
out-parameters back (reference/acl-api.md §4; sim/surface.toml ``note``): dict outputs read
from C structs, the config value marshalled by attribute, tensor dims from a list, the
dataset echoed, a Python callable as a C callback. Each gives pyACL's shape and raises its
TypeError as the simulator does (the same :mod:`pytest_acl.sim.pyargs` parse), so the suite
sees one shape on every backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pytest_acl.capi.binding import CFunction, Converter, Shape, forward
from pytest_acl.constants import AclError, MdlConfigAttr
from pytest_acl.sim.pyargs import parse_args, raised_by_pyacl

Handler = Callable[[CFunction, Shape, Converter], Callable[..., Any]]


# -- dict outputs: C structs read field by field (aclmdlIODims, aclmdlBatch, aclmdlHW, …) ----
def _dims(box: Any) -> dict[str, Any]:
    count = int(box[0].dimCount)
    name = convert_name(box[0].name)
    return {"name": name, "dimCount": count, "dims": [int(d) for d in box[0].dims[0:count]]}


def convert_name(field: Any) -> str:
    """A ``char name[N]`` field: the bytes before the first NUL, as UTF-8."""
    return b"".join(field[0:len(field)]).split(b"\0", 1)[0].decode("utf-8", "replace")


def _batch(box: Any) -> dict[str, Any]:
    count = int(box[0].batchCount)
    return {"batchCount": count, "batch": [int(b) for b in box[0].batch[0:count]]}


def _hw(box: Any) -> dict[str, Any]:
    count = int(box[0].hwCount)
    return {"hwCount": count, "hw": [[int(p[0]), int(p[1])] for p in box[0].hw[0:count]]}


def _range(box: Any) -> dict[str, Any]:
    count = int(box[0].rangeCount)
    return {"rangeCount": count,
            "range": [[int(p[0]), int(p[1])] for p in box[0].range[0:count]]}


# What each struct out-parameter reads as, by the struct's C name, and what pyACL gives when
# the call failed (sim/surface.toml notes: "empty on failure"; get_input_dims_range: a zero
# count, as the simulator's DynamicApi gives — sim/dynamic.py).
STRUCTS: dict[str, tuple[Callable[[Any], Any], Callable[[], Any]]] = {
    "aclmdlIODims": (_dims, dict),
    "aclmdlBatch": (_batch, dict),
    "aclmdlHW": (_hw, dict),
    "aclmdlIODimsRange": (_range, lambda: {"rangeCount": 0, "range": []}),
}


def struct_output(fn: CFunction, shape: Shape, convert: Converter) -> Callable[..., Any]:
    """``(dict, ret)``: the function's struct out-parameter as pyACL's dict."""
    structs = [t.item.cname for p, t in zip(fn.declaration.params, fn.ctype.args, strict=True)
               if p.output and t.kind == "pointer" and t.item.cname in STRUCTS]
    if len(structs) != 1:
        raise ValueError(f"{shape.qualname}: {fn.name} has no struct out-parameter of "
                         f"{', '.join(STRUCTS)}")
    failed = STRUCTS[structs[0]][1]
    inner = forward(fn, Shape(shape.qualname, shape.format, 1, True, shape.parses_args),
                    convert, readers={name: entry[0] for name, entry in STRUCTS.items()})

    def call(*args: Any) -> tuple[Any, int]:
        value, ret = inner(*args)
        return (value if ret == 0 else failed()), ret

    return _named(call, shape)


# -- (dataset, ret): the dataset argument echoed, also on failure (mdl_wrap.cpp) ---------------
def echo_first(fn: CFunction, shape: Shape, convert: Converter) -> Callable[..., Any]:
    inner = forward(fn, Shape(shape.qualname, shape.format, 0, True), convert)

    def call(*args: Any) -> tuple[int, int]:
        values = parse_args(shape.qualname, shape.format, args, {})
        return values[0], inner(*values)

    return _named(call, shape)


# -- acl.mdl.set_config_opt(handle, attr, value): §4.3 -----------------------------------------
def set_config_opt(fn: CFunction, shape: Shape, convert: Converter) -> Callable[..., Any]:
    """The value parsed by attribute ("s" for PATH_PTR, "i" for PRIORITY_INT32, "K" else, as
    the simulator's acl_config.py and pyACL's mdl_wrap.cpp) and passed as pyACL does:
    ``&char*`` or ``&u64`` with size 8, ``&int32`` with size 4 (reference/acl-api.md §4.3)."""
    ffi = convert.ffi

    def call(*args: Any) -> int:
        handle, attr, value = parse_args(shape.qualname, "kiO", args, {})
        letter = {MdlConfigAttr.ACL_MDL_PATH_PTR: "s",
                  MdlConfigAttr.ACL_MDL_PRIORITY_INT32: "i"}.get(attr, "K")
        (value,) = parse_args(shape.qualname, letter, (value,), {}, bang=True)
        keep: list[Any] = []
        if letter == "s":
            text = ffi.new("char[]", value.encode("utf-8"))
            keep.append(text)
            box = ffi.new("char **", text)
        elif letter == "i":
            box = ffi.new("int32_t *", value)
        else:
            box = ffi.new("uint64_t *", value)
        size = 4 if letter == "i" else 8
        return int(fn.function(ffi.cast("void *", handle), attr, box, size))

    return _named(call, shape)


def set_exec_config_opt(fn: CFunction, shape: Shape, convert: Converter) -> Callable[..., Any]:
    """Every value as a uint32 passed by address with size 4 (mdl_wrap.cpp
    ``WrapAclMdlSetExecConfigOpt``; the simulator's acl_mdl.py)."""
    ffi = convert.ffi

    def call(*args: Any) -> int:
        handle, attr, value = parse_args(shape.qualname, shape.format, args, {})
        box = ffi.new("uint32_t *", value)
        return int(fn.function(ffi.cast("void *", handle), attr, box, 4))

    return _named(call, shape)


# -- the dims-gear functions: a dict in, a list of dicts out ------------------------------------
def set_input_dynamic_dims(fn: CFunction, shape: Shape,
                           convert: Converter) -> Callable[..., Any]:
    """``dims`` a dict {name, dimCount, dims} checked as pyACL's wrapper does (the simulator's
    own check, sim/dynamic.py), copied into an ``aclmdlIODims``."""
    from pytest_acl.sim.dynamic import _dims_argument
    from pytest_acl.sim.pyargs import AclFail

    ffi = convert.ffi

    def call(*args: Any) -> int:
        model_id, dataset, index, dims = parse_args(shape.qualname, shape.format, args, {})
        try:
            count, values = _dims_argument(dims)
        except AclFail as fail:
            return fail.code
        struct = ffi.new("aclmdlIODims *")
        name = (dims.get("name") or "").encode("utf-8")[:len(struct.name) - 1]
        struct.name[0:len(name)] = [bytes([b]) for b in name]
        struct.dimCount = count
        struct.dims[0:count] = values
        return int(fn.function(model_id, ffi.cast("void *", dataset), index, struct))

    return _named(call, shape)


def get_input_dynamic_dims(fn: CFunction, shape: Shape,
                           convert: Converter) -> Callable[..., Any]:
    """``(list of gear_count dicts, ret)``; past pyACL's own limit of gears ``(None, 100000)``
    before any C call, and a failed call's list unset items (as sim/dynamic.py gives)."""
    from pytest_acl.sim.dynamic import GEAR_COUNT_LIMIT, _unset_items

    ffi = convert.ffi

    def call(*args: Any) -> tuple[Any, int]:
        desc, index, gear_count = parse_args(shape.qualname, shape.format, args, {})
        if gear_count > GEAR_COUNT_LIMIT:
            return None, AclError.ACL_ERROR_INVALID_PARAM.value
        array = ffi.new("aclmdlIODims[]", max(gear_count, 1))
        ret = int(fn.function(ffi.cast("void *", desc), index, array, gear_count))
        if ret != 0:
            return _unset_items(gear_count), ret
        return [_dims(array + gear) for gear in range(gear_count)], ret

    return _named(call, shape)


# -- acl.create_tensor_desc(data_type, dims: list, format) -------------------------------------
def create_tensor_desc(fn: CFunction, shape: Shape, convert: Converter) -> Callable[..., Any]:
    """``dims`` must be a list of int64 (py_init_acl.cpp ``WrapAclCreateTensorDesc``), checked
    by the simulator's own check (sim/acl_tensor.py)."""
    from pytest_acl.sim.acl_tensor import _int64_dims

    ffi = convert.ffi

    def call(*args: Any) -> int:
        data_type, dims, fmt = parse_args(shape.qualname, "iOi", args, {})
        if not isinstance(dims, list):
            raise raised_by_pyacl(TypeError("argument 2 is not list"))
        values = _int64_dims(dims)
        array = ffi.new("int64_t[]", values) if values else ffi.NULL
        result = fn.function(data_type, len(values), array, fmt)
        return int(ffi.cast("uintptr_t", result))

    return _named(call, shape)


# -- acl.rt.launch_callback(fn, user_data, block_type, stream) --------------------------------
class Callbacks:
    """The Python callables queued through ``aclrtLaunchCallback``: one C trampoline for all,
    its ``userData`` a key to ``fn(user_data)`` (pyACL ``LaunchCallFunc`` calls it with that
    one argument); an entry lives until its callback has run."""

    def __init__(self, convert: Converter) -> None:
        self._ffi = convert.ffi
        self._pending: dict[int, tuple[Any, Any]] = {}
        self._lock = threading.Lock()
        self._next = 1
        self.trampoline = self._ffi.callback("void(void *)", self._run)

    def add(self, fn: Any, user_data: Any) -> Any:
        with self._lock:
            key, self._next = self._next, self._next + 1
            self._pending[key] = (fn, user_data)
        return self._ffi.cast("void *", key)

    def drop(self, key: Any) -> None:
        with self._lock:
            self._pending.pop(int(self._ffi.cast("uintptr_t", key)), None)

    def _run(self, key: Any) -> None:
        with self._lock:
            entry = self._pending.pop(int(self._ffi.cast("uintptr_t", key)), None)
        if entry is not None:
            entry[0](entry[1])


def launch_callback(fn: CFunction, shape: Shape, convert: Converter) -> Callable[..., Any]:
    callbacks = Callbacks(convert)
    ffi = convert.ffi

    def call(*args: Any) -> int:
        function, user_data, block_type, stream = parse_args(shape.qualname, "OOik", args, {})
        if not callable(function):
            raise raised_by_pyacl(TypeError("parameter must be callable"))
        key = callbacks.add(function, user_data)
        ret = int(fn.function(callbacks.trampoline, key, block_type,
                              ffi.cast("void *", stream)))
        if ret != 0:
            callbacks.drop(key)
        return ret

    call.callbacks = callbacks  # type: ignore[attr-defined]  # kept alive with the function
    return _named(call, shape)


def _named(call: Callable[..., Any], shape: Shape) -> Callable[..., Any]:
    call.__name__ = shape.qualname.rsplit(".", 1)[-1]
    call.__qualname__ = shape.qualname
    return call


HANDLERS: dict[str, Handler] = {
    "acl.mdl.get_input_dims": struct_output,
    "acl.mdl.get_output_dims": struct_output,
    "acl.mdl.get_cur_output_dims": struct_output,
    "acl.mdl.get_input_dims_v2": struct_output,
    "acl.mdl.get_dynamic_batch": struct_output,
    "acl.mdl.get_dynamic_hw": struct_output,
    "acl.mdl.get_input_dims_range": struct_output,
    "acl.mdl.add_dataset_buffer": echo_first,
    "acl.mdl.set_dataset_tensor_desc": echo_first,
    "acl.mdl.set_config_opt": set_config_opt,
    "acl.mdl.set_exec_config_opt": set_exec_config_opt,
    "acl.mdl.set_input_dynamic_dims": set_input_dynamic_dims,
    "acl.mdl.get_input_dynamic_dims": get_input_dynamic_dims,
    "acl.create_tensor_desc": create_tensor_desc,
    "acl.rt.launch_callback": launch_callback,
}
