"""The simulator against the surface of the real pyACL binding (pytest_acl/sim/surface.toml,
read from hicann/runtime python/pyACL): every function is there, the emulated ones with the
binding's argument format and return shape, the others as stubs that parse like pyACL and
answer ACL_ERROR_API_NOT_SUPPORT with zero outputs, logging once."""

from __future__ import annotations

import collections
import logging
import re
import types

import pytest

from pytest_acl.constants import ACL_ERROR_API_NOT_SUPPORT
from pytest_acl.markers import missing_apis
from pytest_acl.results.calls import RecordingAcl
from pytest_acl.sim import Simulator
from pytest_acl.sim.pyargs import LETTERS
from pytest_acl.sim.releases import RELEASES
from pytest_acl.sim.surface import DECLARATION, load

SURFACE = load()
# Functions per module at the commit surface.toml names (the PyMethodDef tables), so an entry
# lost or added by mistake shows.
COUNTS = {"acl": 47, "acl.rt": 190, "acl.mdl": 86, "acl.media": 177, "acl.op": 32,
          "acl.blas": 12, "acl.util": 7, "acl.prof": 36, "acl.himpi": 130, "acl.fv": 22}
# A valid argument per format letter.
VALID = {"k": 0, "K": 0, "I": 0, "i": 0, "b": 0, "B": 0, "h": 0, "H": 0, "l": 0, "L": 0,
         "f": 0.0, "d": 0.0, "s": "", "O": None}
WRONG = dict.fromkeys(LETTERS - {"s", "O"}, "x") | {"s": 0}


def function_of(acl: types.ModuleType, qualname: str):
    target = acl
    for part in qualname.split(".")[1:]:
        target = getattr(target, part, None)
    return target


def declared(function) -> dict[str, object]:
    return {key: getattr(function, attribute, "<undeclared>")
            for key, attribute in DECLARATION.items()}


def is_stub(function) -> bool:
    return getattr(function, "pyacl_stub", False)


def simulator_functions(acl: types.ModuleType) -> dict[str, object]:
    """Every public function of ``acl`` and its submodules, by qualified name."""
    found = {}
    for module in (acl, *(v for v in vars(acl).values() if isinstance(v, types.ModuleType))):
        for name, value in vars(module).items():
            if not name.startswith("_") and callable(value) \
                    and not isinstance(value, types.ModuleType):
                found[f"{module.__name__}.{name}"] = value
    return found


class TestTheTable:
    def test_source_and_counts(self):
        assert SURFACE.repository == "hicann/runtime" and SURFACE.path == "python/pyACL"
        assert re.fullmatch(r"[0-9a-f]{40}", SURFACE.commit)
        assert SURFACE.modules() == list(SURFACE.tables) == list(COUNTS)
        assert collections.Counter(f.module for f in SURFACE.functions) == COUNTS
        assert SURFACE.stub_code == ACL_ERROR_API_NOT_SUPPORT

    def test_no_duplicates_and_every_entry_has_a_source(self):
        names = [f.qualname for f in SURFACE.functions] + [e.qualname for e in SURFACE.extras]
        assert [n for n, k in collections.Counter(names).items() if k > 1] == []
        bad = [f.qualname for f in SURFACE.functions
               if not re.fullmatch(r"[a-z_]+(/[a-z_]+)?\.cpp:Wrap\w+", f.source)]
        assert bad == []
        assert all(f.scope for f in SURFACE.functions)
        assert all(e.reason for e in SURFACE.extras)

    def test_formats_and_shapes_are_consistent(self):
        for f in SURFACE.functions:
            assert set(f.format) <= LETTERS | {"|"}, f.qualname
            assert f.parses_args or f.format == "", f.qualname
            if f.returns_ret:  # outputs, then the status ("i", or "I" where pyACL builds it so)
                assert len(f.build) == f.outputs + 1 and f.build[-1] in "iI", f.qualname
            else:
                assert f.outputs == 0, f.qualname
            for key in f.known_difference:
                assert key in DECLARATION or key == "reason", f.qualname
            assert not f.known_difference or f.known_difference.get("reason"), f.qualname


@pytest.mark.parametrize("cann", RELEASES)
def test_every_function_of_the_binding_is_in_the_simulator(cann):
    acl = Simulator(devices=1, hbm="64MiB", cann=cann).acl
    missing = [f.qualname for f in SURFACE.functions
               if not callable(function_of(acl, f.qualname))]
    assert missing == []


def test_emulated_functions_have_the_bindings_format_and_shape():
    """Each implemented function declares (pyargs.pyacl or parses_own) the format, parsing and
    return shape of its pyACL wrapper — including functions implemented after the table was
    written, whatever their scope says."""
    acl = Simulator(devices=1, hbm="64MiB").acl
    differences = []
    for f in SURFACE.functions:
        function = function_of(acl, f.qualname)
        if is_stub(function):
            assert not f.emulated, f"{f.qualname}: the table says emulated, the simulator stubs it"
            continue
        if declared(function) != f.expected():
            differences.append(f"{f.qualname}: simulator {declared(function)}, "
                               f"pyACL {f.declaration()} ({f.source})")
        if f.known_difference:  # still the difference recorded, or the mark must go
            assert declared(function) != f.declaration(), \
                f"{f.qualname} now matches pyACL: remove its known_difference from surface.toml"
    assert differences == []


def test_the_simulator_adds_only_the_recorded_extras():
    acl = Simulator(devices=1, hbm="64MiB").acl
    known = {f.qualname for f in SURFACE.functions} | {e.qualname for e in SURFACE.extras}
    assert sorted(set(simulator_functions(acl)) - known) == []


def test_the_extras_have_the_shape_the_table_gives_them():
    """The results recorder reads an extra's aclError by the table's shape (calls.py), so
    the simulator's declaration must be that shape."""
    acl = Simulator(devices=1, hbm="64MiB").acl
    for extra in SURFACE.extras:
        function = function_of(acl, extra.qualname)
        assert (function.pyacl_format, function.pyacl_outputs, function.pyacl_returns_ret) \
            == (extra.format, extra.outputs, extra.returns_ret), extra.qualname
    shapes = SURFACE.return_shapes()
    assert shapes["acl.mdl.bundle_create_query_info"] == (False, 0)  # a handle
    assert len(shapes) == len(SURFACE.functions) + len(SURFACE.extras)


def arguments(fmt: str, letters: dict[str, object]) -> tuple[object, ...]:
    return tuple(letters[letter] for letter in fmt.replace("|", ""))


def test_stubs_answer_not_supported_in_their_shape_and_log_once(caplog):
    acl = Simulator(devices=1, hbm="64MiB").acl
    stubs = {name: function for name, function in simulator_functions(acl).items()
             if is_stub(function)}
    assert len(stubs) > 500
    by_name = SURFACE.by_name()
    with caplog.at_level(logging.WARNING, logger="pytest_acl.sim"):
        for name, function in stubs.items():
            entry = by_name[name]
            args = arguments(entry.format, VALID)
            first, second = function(*args), function(*args)
            assert first == second == entry.not_supported(ACL_ERROR_API_NOT_SUPPORT)
            if entry.returns_ret and entry.outputs:
                assert len(first) == entry.outputs + 1, name
                assert first[-1] == ACL_ERROR_API_NOT_SUPPORT, name
            elif entry.returns_ret:
                assert first == ACL_ERROR_API_NOT_SUPPORT, name
            else:
                assert first in (0, 0.0, None), name
    logged = collections.Counter(record.getMessage().split()[0] for record in caplog.records)
    assert logged == dict.fromkeys(stubs, 1)
    assert all("not emulated" in record.getMessage() and "200001" in record.getMessage()
               for record in caplog.records)
    acl.fv.search(0, 0, 0)  # the reason a call failed, as for any other function
    assert acl.get_recent_err_msg() == ("acl.fv.search failed with aclError 200001: "
                                        "not emulated by the simulator (fv)")


def test_examples_of_stub_answers():
    acl = Simulator(devices=1, hbm="64MiB").acl
    assert acl.media.dvpp_malloc(64) == (0, ACL_ERROR_API_NOT_SUPPORT)
    assert acl.media.dvpp_jpeg_get_image_info_v2(0, 0) == (0, 0, 0, 0, ACL_ERROR_API_NOT_SUPPORT)
    assert acl.rt.create_event() == (0, ACL_ERROR_API_NOT_SUPPORT)
    assert acl.rt.event_elapsed_time(0, 0) == (0.0, ACL_ERROR_API_NOT_SUPPORT)
    assert acl.rt.get_function_name(0, 8) == ("", ACL_ERROR_API_NOT_SUPPORT)
    assert acl.op.create_attr() == 0 and acl.op.destroy_attr(0) is None
    assert acl.prof.init("/tmp/prof") == ACL_ERROR_API_NOT_SUPPORT
    assert acl.float16_to_float(0x3C00) == 0.0
    assert acl.get_tensor_desc_name(0) is None  # a NULL char* is None in pyACL
    assert acl.mdl.create_and_get_op_desc(0, 0, 0, 16) == ("", 0, 0, 0, 0,
                                                           ACL_ERROR_API_NOT_SUPPORT)
    assert acl.himpi.sys_init() == ACL_ERROR_API_NOT_SUPPORT


def test_a_new_simulator_logs_again(caplog):
    with caplog.at_level(logging.WARNING, logger="pytest_acl.sim"):
        for _ in range(2):
            acl = Simulator(devices=1, hbm="64MiB").acl
            acl.fv.release()
            acl.fv.release()
    assert [r.getMessage().split()[0] for r in caplog.records] == ["acl.fv.release"] * 2


def test_stubs_parse_their_arguments_as_pyacl():
    acl = Simulator(devices=1, hbm="64MiB").acl
    by_name = SURFACE.by_name()
    checked = 0
    for name, function in simulator_functions(acl).items():
        if not is_stub(function):
            continue
        entry = by_name[name]
        if not entry.parses_args:  # pyACL never looks at them: any positional argument goes
            assert function(1, "two", None) == function()
            with pytest.raises(TypeError, match=f"{entry.name}\\(\\) takes no keyword"):
                function(x=1)
            continue
        required = entry.format.split("|")[0]
        with pytest.raises(TypeError, match="args parse failed"):
            function(*arguments(entry.format, VALID), *range(len(entry.format) + 1))
        typed = [i for i, letter in enumerate(required) if letter != "O"]
        if typed:  # a value of the wrong type where the format wants a number or a str
            args = list(arguments(required, VALID))
            args[typed[0]] = WRONG[required[typed[0]]]
            with pytest.raises(TypeError, match="args parse failed"):
                function(*args)
        checked += 1
    assert checked > 500


def test_a_stub_counts_as_not_exposed_for_acl_requires():
    """markers.missing_apis, also through the plugin's recording wrapper."""
    for acl in (Simulator().acl, RecordingAcl(Simulator().acl)):
        assert missing_apis(acl, ["rt.malloc", "rt.create_event", "acl.media.dvpp_malloc",
                                  "mdl.set_aipp_csc_params", "init"]) == [
            "acl.rt.create_event", "acl.media.dvpp_malloc", "acl.mdl.set_aipp_csc_params"]


def test_stub_modules_are_importable_submodules():
    acl = Simulator().acl
    for module in SURFACE.modules()[1:]:
        submodule = getattr(acl, module.split(".")[1])
        assert isinstance(submodule, types.ModuleType) and submodule.__name__ == module
