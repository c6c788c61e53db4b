"""Where the capi backend finds libascendcl.so (capi/discovery.py) and the --acl-capi-lib option:
fake files and a fake environment, no library is opened."""

from __future__ import annotations

import platform

import pytest

from pytest_acl.capi.discovery import LibraryNotFound, find_library

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
ARCH = f"{platform.machine()}-linux"


def fake_library(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF not really")
    return path


def test_the_option_wins_over_every_other_place(tmp_path):
    named = fake_library(tmp_path / "named" / "libascendcl.so")
    home = tmp_path / "home"
    fake_library(home / "lib64" / "libascendcl.so")
    found = find_library(named, "env PYTEST_ACL_CAPI_LIB", env={"ASCEND_HOME_PATH": str(home)},
                         standard=())
    assert (found.path, found.how) == (named, "from env PYTEST_ACL_CAPI_LIB")


def test_places_are_tried_in_order(tmp_path):
    toolkit, home, ld, standard = (tmp_path / n for n in ("toolkit", "home", "ld", "std"))
    env = {"ASCEND_TOOLKIT_HOME": str(toolkit), "ASCEND_HOME_PATH": str(home),
           "LD_LIBRARY_PATH": f"{tmp_path / 'empty'}:{ld}"}
    latest_first = [
        (standard / ARCH / "lib64", "the standard install path"),
        (ld, "env LD_LIBRARY_PATH"),
        (home / "lib64", "env ASCEND_HOME_PATH"),
        (toolkit / ARCH / "lib64", "env ASCEND_TOOLKIT_HOME"),
        (toolkit / "lib64", "env ASCEND_TOOLKIT_HOME"),
    ]
    # each library made comes earlier in the order than every one made before it
    for directory, how in latest_first:
        path = fake_library(directory / "libascendcl.so")
        found = find_library(env=env, standard=(str(standard),))
        assert (found.path, found.how) == (path, f"from {how}")


def test_nothing_found_lists_every_place_and_how_to_build_one(tmp_path):
    env = {"ASCEND_HOME_PATH": str(tmp_path / "home"), "LD_LIBRARY_PATH": str(tmp_path / "ld")}
    with pytest.raises(LibraryNotFound) as caught:
        find_library(env=env, standard=(str(tmp_path / "std"),))
    message = str(caught.value)
    for place in (tmp_path / "home" / "lib64", tmp_path / "home" / ARCH / "lib64",
                  tmp_path / "ld", tmp_path / "std" / "lib64", tmp_path / "std" / ARCH / "lib64"):
        assert f"{place / 'libascendcl.so'} (" in message
    assert "--acl-capi-lib PATH (env PYTEST_ACL_CAPI_LIB, ini acl_capi_lib)" in message
    assert "'pytest-acl sim-lib --out DIR', then --acl-capi-lib DIR/lib/libascendcl.so" in message


@pytest.mark.parametrize("where", ["command line", "env", "ini"])
def test_a_capi_lib_that_is_not_a_file_is_a_usage_error(pytester, monkeypatch, where):
    directory = pytester.mkdir("not_a_library")
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    args = [*INNER]
    if where == "command line":
        args += ["--acl-capi-lib", str(directory)]
        source = "command line"
    elif where == "env":
        monkeypatch.setenv("PYTEST_ACL_CAPI_LIB", str(directory))
        source = "env PYTEST_ACL_CAPI_LIB"
    else:
        pytester.makefile(".ini", pytest=f"[pytest]\nacl_capi_lib = {directory}\n")
        source = "ini acl_capi_lib in pytest.ini"
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"ERROR: --acl-capi-lib: invalid value '{directory}' (from {source}): {directory} is a "
        "directory; give the path of libascendcl.so, such as *"])


@pytest.mark.parametrize("where", ["command line", "ini"])
def test_the_capi_backend_without_a_library_says_where_it_looked(pytester, monkeypatch, where):
    for name in ("ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH", "PYTEST_ACL_CAPI_LIB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", str(pytester.path / "nowhere"))
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    if where == "ini":
        pytester.makefile(".ini", pytest="[pytest]\nacl_backend = capi\n")
        result, source = pytester.runpytest(*INNER), "ini acl_backend in pytest.ini"
    else:
        result, source = pytester.runpytest(*INNER, "--acl-backend", "capi"), "command line"
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"ERROR: --acl-backend capi (from {source}): no libascendcl.so found; tried "
        f"{pytester.path / 'nowhere' / 'libascendcl.so'} (env LD_LIBRARY_PATH); *"
        "'pytest-acl sim-lib --out DIR', then --acl-capi-lib DIR/lib/libascendcl.so"])


def test_a_file_that_is_no_library_cannot_be_opened(pytester):
    bogus = fake_library(pytester.path / "lib" / "libascendcl.so")
    pytester.makepyfile("def test_never_runs(acl):\n    pass\n")
    result = pytester.runpytest(*INNER, "--acl-backend", "capi", "--acl-capi-lib", str(bogus))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"ERROR: --acl-backend capi (from command line): cannot open {bogus} (from command "
        "line): *; give a libascendcl.so with --acl-capi-lib; without an NPU, build the "
        "simulator's: *"])
