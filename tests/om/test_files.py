"""Reading a model file named by a user (pytest_acl.om.files): regular files only, bounded —
a FIFO, a device or a directory is refused at once, without blocking or reading."""

from __future__ import annotations

import os

import pytest

from pytest_acl.om.files import (
    MODEL_FILE_LIMIT,
    REASON_MISSING,
    REASON_NOT_REGULAR,
    REASON_TOO_LARGE,
    ModelFileError,
    check_model_file,
    open_model_file,
    read_model_file,
)
from pytest_acl.om.inspect import inspect_bytes, inspect_file

# A regression here would block (a FIFO) or eat memory (/dev/zero): end it, do not hang.
pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "model.om"
    os.mkfifo(path)
    return path


def test_a_regular_file_is_read_whole(tmp_path, valid_om):
    path = tmp_path / "model.om"
    path.write_bytes(valid_om)
    assert read_model_file(path) == valid_om
    assert read_model_file(str(path)) == valid_om
    assert check_model_file(path).st_size == len(valid_om)
    with open_model_file(path) as stream:
        assert stream.read() == valid_om


def test_a_symlink_to_a_regular_file_is_followed(tmp_path, valid_om):
    (tmp_path / "real.om").write_bytes(valid_om)
    (tmp_path / "link.om").symlink_to(tmp_path / "real.om")
    assert read_model_file(tmp_path / "link.om") == valid_om


@pytest.mark.parametrize("reader", [read_model_file, open_model_file, check_model_file])
def test_a_fifo_is_refused_without_blocking(fifo, reader):
    with pytest.raises(ModelFileError, match=r"is a FIFO \(named pipe\), not a model file") \
            as caught:
        reader(fifo)
    assert caught.value.reason == REASON_NOT_REGULAR and caught.value.path == str(fifo)
    assert str(caught.value).startswith(f"{fifo}: ")


def test_a_symlink_to_a_fifo_is_refused(fifo, tmp_path):
    (tmp_path / "link.om").symlink_to(fifo)
    with pytest.raises(ModelFileError, match="FIFO"):
        read_model_file(tmp_path / "link.om")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_refused_without_reading():
    with pytest.raises(ModelFileError, match="/dev/zero: is a character device, not a model "
                                             "file; give the path of a regular .om file"):
        read_model_file("/dev/zero")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory, not a model file") as caught:
        read_model_file(tmp_path)
    assert caught.value.reason == REASON_NOT_REGULAR


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ModelFileError, match="none.om: cannot read: No such file") as caught:
        read_model_file(tmp_path / "none.om")
    assert caught.value.reason == REASON_MISSING


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.om"
    path.write_bytes(b"x" * 100)
    with pytest.raises(ModelFileError, match=r"100 bytes is more than a model file may be "
                                             r"\(limit 99 bytes\); not read") as caught:
        read_model_file(path, limit=99)
    assert caught.value.reason == REASON_TOO_LARGE
    assert read_model_file(path, limit=100) == b"x" * 100


def test_the_default_limit_is_8_gib(tmp_path):
    assert MODEL_FILE_LIMIT == 8 * 2**30
    path = tmp_path / "sparse.om"
    with path.open("wb") as stream:  # sparse: no disk space used
        stream.truncate(MODEL_FILE_LIMIT + 1)
    with pytest.raises(ModelFileError, match=r"8589934593 bytes \(8.0 GiB\) is more than"):
        read_model_file(path)


def test_inspect_file_reads_through_the_helper(tmp_path, valid_om, fifo):
    path = tmp_path / "valid.om"
    path.write_bytes(valid_om)
    assert inspect_file(path) == inspect_bytes(valid_om, str(path))
    with pytest.raises(ModelFileError, match="FIFO"):
        inspect_file(fifo)
