"""Opening a model file named by a user, safely: regular files only, and a size bound.

Everything that reads an .om (or a catalog file) from a path someone gave — ``pytest-acl
models inspect``, a catalog's digest check, a loader's ``load_from_file`` — goes through
here, so a FIFO never blocks the reader, ``/dev/zero`` never grows a buffer without bound and
a directory is not "read". What is not a regular file is refused from ``stat`` alone, before
it is opened (opening a device can have effects of its own); the file is then opened without
blocking and checked again on the descriptor, so a path swapped in between is refused too.

- :func:`check_model_file` — the ``stat`` of a readable regular file within the bound;
- :func:`open_model_file` — that file opened for binary reading (for a mapping or chunks);
- :func:`read_model_file` — its bytes (never more than the bound).

Each raises :class:`ModelFileError`, whose message names the path and says what is wrong,
and whose ``reason`` is one of the ``REASON_*`` constants (for a caller that maps the refusal
to an error code).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

# The largest model file read (8 GiB): well above any OM the fixture catalog or a real
# network's weights make, and below what a reader could hold in memory by mistake.
MODEL_FILE_LIMIT = 8 * 2**30

REASON_MISSING = "missing"          # no such file (or a path component is not a directory)
REASON_NOT_REGULAR = "not_regular"  # a directory, FIFO, device or socket
REASON_TOO_LARGE = "too_large"      # larger than the limit
REASON_UNREADABLE = "unreadable"    # any other OSError (permissions, I/O error)
REASON_CHANGED = "changed"          # replaced or grown while it was being opened or read

PathLike = str | os.PathLike[str]


class ModelFileError(ValueError):
    """A model file that cannot be read safely; ``str()`` is the one-line message."""

    def __init__(self, path: PathLike, reason: str, message: str) -> None:
        super().__init__(f"{os.fspath(path)}: {message}")
        self.path = os.fspath(path)
        self.reason = reason


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size_text(size: int) -> str:
    return f"{size} bytes" + (f" ({size / 2**30:.1f} GiB)" if size >= 2**30 else "")


def _checked(path: PathLike, status: os.stat_result, limit: int) -> os.stat_result:
    if not stat.S_ISREG(status.st_mode):
        raise ModelFileError(path, REASON_NOT_REGULAR,
                             f"is {_kind(status.st_mode)}, not a model file; give the path of "
                             "a regular .om file")
    if status.st_size > limit:
        raise ModelFileError(path, REASON_TOO_LARGE,
                             f"{_size_text(status.st_size)} is more than a model file may be "
                             f"(limit {_size_text(limit)}); not read")
    return status


def _os_error(path: PathLike, exc: OSError) -> ModelFileError:
    missing = exc.errno in (errno.ENOENT, errno.ENOTDIR)
    return ModelFileError(path, REASON_MISSING if missing else REASON_UNREADABLE,
                          f"cannot read: {exc.strerror or exc}")


def check_model_file(path: PathLike, limit: int = MODEL_FILE_LIMIT) -> os.stat_result:
    """The ``stat`` of ``path`` (symlinks followed) if it is a regular file of at most
    ``limit`` bytes; otherwise :class:`ModelFileError`. Nothing is opened."""
    try:
        status = os.stat(path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    return _checked(path, status, limit)


def open_model_file(path: PathLike, limit: int = MODEL_FILE_LIMIT) -> BinaryIO:
    """``path`` opened for binary reading (unbuffered; the caller closes it), once it is
    known to be a regular file of at most ``limit`` bytes."""
    before = check_model_file(path, limit)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        status = _checked(path, os.fstat(fd), limit)
        if (status.st_dev, status.st_ino) != (before.st_dev, before.st_ino):
            raise ModelFileError(path, REASON_CHANGED, "was replaced while it was being "
                                 "opened; try again")
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def read_model_file(path: PathLike, limit: int = MODEL_FILE_LIMIT) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit`` of them), or
    :class:`ModelFileError` saying why not."""
    with open_model_file(path, limit) as stream:
        size = os.fstat(stream.fileno()).st_size
        chunks, total = [], 0
        try:  # reads up to one byte past the size: a file that grows is refused
            while total <= size:
                chunk = stream.read(min(1 << 30, size + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise _os_error(path, exc) from None
    if total > size:
        raise ModelFileError(path, REASON_CHANGED, f"grew while it was being read (past "
                             f"{_size_text(size)}); read it again once it is complete")
    return b"".join(chunks)
