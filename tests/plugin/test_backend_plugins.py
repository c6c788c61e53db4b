"""Backends as plugins (issue 16, item 5): ``load_backend`` resolves names through the
entry-point group ``pytest_acl.backends`` and says what is wrong with one it cannot use;
what a backend tells the plugin is typed fields of ``Backend`` (no ``extra`` dict)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

import pytest_acl.backends as backends
from pytest_acl.backends import GROUP, Backend, BackendUnavailable, installed, load_backend


def test_ours_are_installed_in_the_group_in_order():
    found = installed()
    assert list(found)[:3] == ["sim", "pyacl", "capi"]
    assert found["sim"].value == "pytest_acl.backends.sim:load"
    assert found["pyacl"].value == "pytest_acl.backends.pyacl:load"
    assert found["capi"].value == "pytest_acl.backends.capi:load"
    assert all(entry.group == GROUP for entry in found.values())


def test_sim_loads_through_its_entry_point_with_typed_fields():
    backend = load_backend("sim")
    assert (backend.name, backend.simulated, backend.devices) == ("sim", True, 2)
    assert backend.hbm_bytes == 64 * 2**30 and backend.cann_version == "9.1.0"
    assert backend.static_soc == "Ascend910B1" and backend.driver_version is None
    assert "extra" not in {f.name for f in dataclasses.fields(Backend)}


def test_a_minimal_backend_needs_three_fields():
    backend = Backend(name="v", open_module=lambda: sys, version="1")
    assert (backend.static_soc, backend.snapshot, backend.cann_version, backend.devices,
            backend.hbm_bytes, backend.simulated) == (None, None, None, None, None, False)


def test_validating_names_imports_no_backend():
    """The option checks names against the group without loading any entry point."""
    code = ("import sys; from pytest_acl.options import parse_backend; "
            "assert parse_backend('sim,pyacl,capi') == ('sim', 'pyacl', 'capi'); "
            "print(sorted(m for m in sys.modules if m.startswith('pytest_acl.backends.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


@pytest.fixture
def vendor(tmp_path, monkeypatch):
    """A vendor's package with backends that cannot be used, installed in the group."""
    (tmp_path / "vendor_backends.py").write_text(
        "from pytest_acl.backends import Backend, BackendUnavailable\n"
        "import types\n"
        "def load():\n"
        "    return Backend(name='ok', open_module=lambda: types.ModuleType('acl'), "
        "version='1.0')\n"
        "def wrong():\n"
        "    return {'name': 'wrong'}\n"
        "def refuses():\n"
        "    raise BackendUnavailable('no NPU driver: install it')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    real = installed()
    extra = {name: EntryPoint(name, value, GROUP) for name, value in [
        ("ok", "vendor_backends:load"), ("wrong", "vendor_backends:wrong"),
        ("refuses", "vendor_backends:refuses"), ("gone", "vendor_backends_gone:load")]}
    monkeypatch.setattr(backends, "installed", lambda: real | extra)


def test_a_vendor_backend_loads(vendor):
    backend = load_backend("ok")
    assert backend.name == "ok" and backend.version == "1.0"


@pytest.mark.parametrize(("name", "message"), [
    ("wrong", "backend 'wrong' (vendor_backends:wrong) returned dict, not a "
              "pytest_acl.backends.Backend"),
    ("refuses", "no NPU driver: install it"),
    ("gone", "backend 'gone' (vendor_backends_gone:load) cannot be imported: No module named "
             "'vendor_backends_gone'"),
    ("npu", "unknown backend 'npu'; the installed backends (entry points pytest_acl.backends) "
            "are sim, pyacl, capi, ok, wrong, refuses, gone"),
])
def test_a_backend_that_cannot_be_used_says_why(vendor, name, message):
    with pytest.raises(BackendUnavailable) as caught:
        load_backend(name)
    assert str(caught.value) == message


def test_an_unusable_vendor_backend_is_a_usage_error(vendor, pytester):
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--acl-backend", "sim,refuses")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --acl-backend sim,refuses (from command line): no NPU "
                                 "driver: install it"])
