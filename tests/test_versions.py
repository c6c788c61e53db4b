"""Stack versions: the installed CANN is read from the toolkit's install record, and versions
order the way CANN releases them (RCs, then the release; test builds and betas before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_acl.results.expectations import in_range
from pytest_acl.versions import find_cann_version, find_driver_version, is_version, version_key

RECORD = ("package_name=Ascend-cann-toolkit\nversion={}\ninnerversion=V100R001C21SPC001B238\n"
          "arch=x86_64\nos=linux\npath=/usr/local/Ascend/ascend-toolkit/8.1.RC1/x86_64-linux\n")


def toolkit(root: Path, version: str) -> Path:
    (root / "x86_64-linux").mkdir(parents=True)
    (root / "x86_64-linux" / "ascend_toolkit_install.info").write_text(RECORD.format(version))
    return root


@pytest.mark.parametrize("older, newer", [
    ("8.0.T6", "8.0.RC1"), ("8.0.RC1", "8.0.RC2"), ("8.0.RC3", "8.0.0"), ("8.0.0", "8.1.RC1"),
    ("8.1.RC1", "8.1.0"), ("9.2.0-beta.2", "9.2.0"), ("9.2.0-beta.1", "9.2.0-beta.2"),
    ("8.5.0", "9.0.0"), ("8.0.RC2", "8.0.RC10"), ("9.0.0", "10.0.0"),
])
def test_release_order(older, newer):
    assert version_key(older) < version_key(newer)


def test_a_bound_names_the_start_of_its_series():
    assert in_range("8.0.RC1", ">=8.0") and in_range("8.0.0", ">=8.0,<8.1")
    assert not in_range("9.0.RC1", "<9") and in_range("8.5.0", "<9")
    assert in_range("8.0.RC2", "==8.0.RC2") and not in_range("8.0.RC2", ">8.0.RC2")


def test_unknown_or_unreadable_versions_are_in_no_range():
    assert not in_range(None, ">=1") and not in_range("custom build", ">=1")
    assert not is_version("8.0.XY1") and not is_version("") and is_version("5.0.5.alpha001")


def test_found_through_the_environment_set_env_exports(tmp_path):
    home = toolkit(tmp_path / "latest", "8.1.RC1")
    assert find_cann_version({"ASCEND_TOOLKIT_HOME": str(home)}, None, "x86_64") == "8.1.RC1"
    assert find_cann_version({"ASCEND_HOME_PATH": str(home)}, None, "x86_64") == "8.1.RC1"


def test_found_above_the_imported_acl_module(tmp_path):
    home = toolkit(tmp_path / "cann-8.5.0", "8.5.0")
    acl = home / "python" / "site-packages" / "acl.so"
    acl.parent.mkdir(parents=True)
    acl.write_bytes(b"")
    assert find_cann_version({}, str(acl), "x86_64") == "8.5.0"


def test_nothing_found_is_none(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_cann_version({"ASCEND_TOOLKIT_HOME": str(empty)}, None, "no-such-arch") is None


def test_driver_version_from_its_version_info(tmp_path):
    info = tmp_path / "version.info"
    info.write_text("Version=24.1.rc2\nascendhal_version=7.35.23\n")
    assert find_driver_version(info) == "24.1.rc2"
    assert find_driver_version(tmp_path / "absent") is None
