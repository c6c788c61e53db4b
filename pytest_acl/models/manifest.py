"""The manifest of a model build (``DIR/manifest.json``) and typed access to it.

One entry per model: file, kind, inputs/outputs (names, shapes, dtypes, byte sizes), the
reference arrays (npz, loaded with ``allow_pickle=False``), the sizes expected from the file,
graph count and variable size for bundles, the gears of a model built with them (and a
reference at each gear), and content hashes.

A manifest is data from disk, so it is checked before anything it names is used
(:func:`check_manifest`): each file it names is a path relative to the catalog directory that
stays inside it, and a model file is used only while its SHA-256 is the one recorded at build
time (:func:`verify_model_file`; hashed once per file version and process). Either problem is a
:class:`CatalogError` naming the manifest, the entry and what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, TYPE_CHECKING, Any

from pytest_acl.om.files import MODEL_FILE_LIMIT, ModelFileError, check_model_file, open_model_file

if TYPE_CHECKING:  # numpy is imported where arrays are read: an xdist controller reads the
    import numpy as np  # manifest for its summary and needs no numpy (0.1 s on its tail)

MANIFEST = "manifest.json"
FORMAT = 1
FILE_FIELDS = ("file", "reference")  # the fields of an entry that name a file
TEMPORARY_SUFFIX = ".partial"  # what a build writes before renaming; a killed build's leftovers


class CatalogError(ValueError):
    """A built catalog that must not be used as it is: its manifest names a file outside the
    catalog directory, or a model file is not the one that was built. The message names the
    manifest (or file), the entry and what to do."""


def rebuild_command(directory: Path, manifest: dict[str, Any] | None = None) -> str:
    """The command that rebuilds the catalog in ``directory`` (for messages)."""
    target = (manifest or {}).get("target")
    soc = (manifest or {}).get("soc") or "SOC"
    extra = f" --target atc --soc {soc}" if target == "atc" else ""
    return f"'pytest-acl models build{extra} --out {directory}'"


def read_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through a temporary file of a name no other writer uses, in the same
    directory, then rename it into place: a reader (or a concurrent build) sees the old file
    or the whole new one, never a half-written one. The temporary file is created with the
    usual mode (0666 less the umask), so the result is as readable as a plain write's."""
    while True:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
                                   f"{TEMPORARY_SUFFIX}")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_manifest(directory: Path, data: dict[str, Any]) -> None:
    """Write atomically, so an interrupted build never leaves a half manifest."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    write_atomically(directory / MANIFEST, lambda stream: stream.write(text.encode()))


def _outside(directory: Path, value: object) -> str | None:
    """What is wrong with ``value`` as the name of a file of the catalog in ``directory``
    (None: a relative path that stays inside it, symlinks resolved)."""
    if not isinstance(value, str) or not value or "\0" in value:
        return "is not a file name"
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute() \
            or value.startswith(("/", "\\")):
        return "is an absolute path"
    if ".." in PurePosixPath(value.replace("\\", "/")).parts:
        return "contains '..'"
    root = directory.resolve()
    try:
        resolved = (root / value).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        return f"cannot be resolved ({exc})"
    if resolved == root:
        return "names the catalog directory itself"
    if not resolved.is_relative_to(root):
        return f"resolves to {resolved}, outside the catalog directory {root}"
    return None


def entry_file(directory: Path, name: str, field: str, value: object,
               manifest: dict[str, Any] | None = None) -> Path:
    """The file that ``field`` of entry ``name`` names, or a :class:`CatalogError` unless it
    is a plain relative path that stays inside ``directory`` (symlinks resolved)."""
    problem = _outside(directory, value)
    if problem is None:
        assert isinstance(value, str)
        return directory / value
    example = f"{name}.om" if field == "file" else f"{name}.npz"
    raise CatalogError(
        f"{directory / MANIFEST}: model {name!r}: {field} {value!r} {problem}; a manifest "
        f"names each file relative to its own directory and inside it (e.g. {example!r}); "
        f"rebuild the catalog with {rebuild_command(directory, manifest)}")


def check_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """A :class:`CatalogError` unless every entry of ``manifest`` is an object whose files
    (when it has them: a model ATC cannot build has none) are inside ``directory``."""
    models = manifest.get("models")
    where = f"{directory / MANIFEST}"
    if not isinstance(models, dict):
        raise CatalogError(f"{where}: 'models' is not an object of entries by model name; "
                           f"rebuild the catalog with {rebuild_command(directory, manifest)}")
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: model {name!r}: the entry is not an object; rebuild "
                               f"the catalog with {rebuild_command(directory, manifest)}")
        for field in FILE_FIELDS:
            if entry.get(field) is not None:
                entry_file(directory, name, field, entry[field], manifest)


_DIGESTS: dict[tuple[str, int, int, int, int, int], str] = {}


def file_digest(path: Path, limit: int = MODEL_FILE_LIMIT) -> str:
    """SHA-256 (hex) of the regular file ``path``, hashed once per file version (path,
    inode, size, mtime, ctime) in this process: a suite looks at the same models hundreds
    of times. :class:`~pytest_acl.om.files.ModelFileError` for what is not a regular file of
    at most ``limit`` bytes (a FIFO is never opened, /dev/zero never read)."""
    def version(status: os.stat_result) -> tuple[str, int, int, int, int, int]:
        return (str(path.resolve()), status.st_dev, status.st_ino, status.st_size,
                status.st_mtime_ns, status.st_ctime_ns)

    cached = _DIGESTS.get(version(check_model_file(path, limit)))
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open_model_file(path, limit) as stream:
        key = version(os.fstat(stream.fileno()))  # the version actually read
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def verify_model_file(directory: Path, name: str, entry: dict[str, Any],
                      manifest: dict[str, Any] | None = None) -> Path | None:
    """The model file of entry ``name`` (None for an entry without one), checked: inside the
    catalog directory, a regular file, and with the SHA-256 the manifest records. Otherwise a
    :class:`CatalogError` naming the file, both digests and the rebuild command."""
    if entry.get("file") is None:
        return None
    path = entry_file(directory, name, "file", entry["file"], manifest)
    rebuild = f"rebuild the catalog with {rebuild_command(directory, manifest)}"
    expected = entry.get("sha256")
    if not isinstance(expected, str) or len(expected) != 64:
        raise CatalogError(f"{directory / MANIFEST}: model {name!r} records no sha256 of "
                           f"{entry['file']}, so the file cannot be checked; {rebuild}")
    try:
        actual = file_digest(path)
    except ModelFileError as exc:
        raise CatalogError(f"model {name!r} of the catalog in {directory}: {exc}; "
                           f"{rebuild}") from None
    if actual != expected.lower():
        raise CatalogError(f"{path}: the file is not the one built for model {name!r}: its "
                           f"sha256 is {actual}, the manifest records {expected}; the file "
                           f"changed after the build — {rebuild}")
    return path


_REFERENCES: dict[tuple[Path, int, int], dict[str, np.ndarray]] = {}


def _load_reference(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a reference npz, read once per file version (a suite reads each
    model's references hundreds of times); only from a regular file."""
    status = check_model_file(path)
    key = (path, status.st_mtime_ns, status.st_size)
    if key not in _REFERENCES:
        import numpy as np

        with np.load(path, allow_pickle=False) as arrays:
            _REFERENCES[key] = {name: arrays[name] for name in arrays.files}
    return _REFERENCES[key]


def reference_key(graph: int | None, direction: str, name: str) -> str:
    """npz key of a reference array: ``in:x`` / ``out:y``, ``g1/in:x`` in bundles."""
    return f"{'' if graph is None else f'g{graph}/'}{direction}:{name}"


def gear_reference_key(gear: int, direction: str, name: str) -> str:
    """npz key of a reference array at gear ``gear`` of a model with gears: ``gear1/in:x``."""
    return f"gear{gear}/{direction}:{name}"


def write_reference(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Save reference arrays (by :func:`reference_key`) as an npz; without pickles, as
    :meth:`ModelEntry.reference` reads them. Atomically, like every file a build writes."""
    import numpy as np

    write_atomically(path, lambda stream: np.savez(stream, allow_pickle=False, **arrays))


@dataclass(frozen=True)
class ModelEntry:
    """One model of a built catalog, as the suites use it."""

    directory: Path
    data: dict[str, Any]

    def __repr__(self) -> str:  # short: it shows in failure reports
        return f"ModelEntry({self.name!r} in {str(self.directory)!r})"

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def path(self) -> Path:
        """The model file; a :class:`CatalogError` if the entry names one outside the
        catalog directory."""
        return entry_file(self.directory, self.name, "file", self.data.get("file"))

    @property
    def work_size(self) -> int:
        return self.data["work_size"]

    @property
    def weight_size(self) -> int:
        return self.data["weight_size"]

    def reference(self) -> dict[str, np.ndarray]:
        """Fresh copies of the reference arrays (a test may change what it gets)."""
        path = entry_file(self.directory, self.name, "reference", self.data.get("reference"))
        return {key: array.copy() for key, array in _load_reference(path).items()}

    def inputs(self, graph: int | None = None) -> dict[str, np.ndarray]:
        prefix = reference_key(graph, "in", "")
        return {k[len(prefix):]: v for k, v in self.reference().items() if k.startswith(prefix)}

    def outputs(self, graph: int | None = None) -> dict[str, np.ndarray]:
        prefix = reference_key(graph, "out", "")
        return {k[len(prefix):]: v for k, v in self.reference().items() if k.startswith(prefix)}

    @property
    def gears(self) -> dict[str, Any] | None:
        """A model with gears: ``{"kind", "values"}`` as built (None for any other model)."""
        return self.data.get("gears")

    def gear_inputs(self, gear: int) -> dict[str, np.ndarray]:
        """Reference inputs at gear ``gear`` (an index into ``gears["values"]``)."""
        prefix = gear_reference_key(gear, "in", "")
        return {k[len(prefix):]: v for k, v in self.reference().items() if k.startswith(prefix)}

    def gear_outputs(self, gear: int) -> dict[str, np.ndarray]:
        prefix = gear_reference_key(gear, "out", "")
        return {k[len(prefix):]: v for k, v in self.reference().items() if k.startswith(prefix)}
