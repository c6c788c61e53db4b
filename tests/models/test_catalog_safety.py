"""A catalog is checked before its files are used: every file a manifest names stays inside
the catalog directory, and every model file has the SHA-256 recorded at build time — else a
usage error naming the manifest or file and saying how to rebuild. A build repairs both."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from pytest_acl.models import manifest as manifest_module
from pytest_acl.models.build import build_catalog
from pytest_acl.models.manifest import CatalogError, ModelEntry, read_manifest
from pytest_acl.models.provider import session_catalog

MODELS = ("mlp", "noweights")  # small ones: a copied catalog costs nothing


def copy_catalog(built_catalog, into, names=MODELS):
    """A copy of part of the session's catalog (files and a manifest of just those models),
    to tamper with."""
    directory, manifest = built_catalog
    into.mkdir(exist_ok=True)
    models = {name: manifest["models"][name] for name in names}
    for entry in models.values():
        for field in ("file", "reference"):
            shutil.copyfile(directory / entry[field], into / entry[field])
    (into / "manifest.json").write_text(json.dumps(manifest | {"models": models}))
    return into


def set_entry(directory, name, **fields):
    data = json.loads((directory / "manifest.json").read_text())
    data["models"][name] |= fields
    (directory / "manifest.json").write_text(json.dumps(data))


def flip_a_byte(path, offset=300):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    status = path.stat()  # a new mtime even within the clock's tick: never a stale digest
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))


def open_catalog(directory):
    return session_catalog(directory, "sim", "command line", directory / "unused")


@pytest.fixture
def catalog_copy(built_catalog, tmp_path):
    return copy_catalog(built_catalog, tmp_path / "catalog")


@pytest.mark.parametrize(("value", "problem"), [
    ("../x.om", "contains '..'"),
    ("sub/../../x.om", "contains '..'"),
    ("/etc/passwd", "is an absolute path"),
    ("", "is not a file name"),
    (".", "names the catalog directory itself"),
])
def test_a_manifest_path_outside_the_catalog_is_refused(catalog_copy, value, problem):
    (catalog_copy.parent / "x.om").write_bytes((catalog_copy / "mlp.om").read_bytes())
    set_entry(catalog_copy, "mlp", file=value)
    with pytest.raises(pytest.UsageError) as caught:
        open_catalog(catalog_copy)
    message = str(caught.value)
    assert message.startswith(f"--acl-model-dir {catalog_copy} (from command line): "
                              f"{catalog_copy / 'manifest.json'}: model 'mlp': file {value!r} ")
    assert problem in message
    assert ("a manifest names each file relative to its own directory and inside it (e.g. "
            "'mlp.om'); rebuild the catalog with 'pytest-acl models build --out "
            f"{catalog_copy}'") in message


def test_an_absolute_path_even_to_the_right_file_is_refused(catalog_copy):
    set_entry(catalog_copy, "noweights", reference=str(catalog_copy / "noweights.npz"))
    with pytest.raises(pytest.UsageError, match="model 'noweights': reference '/.*' is an "
                                                "absolute path; .*'noweights.npz'"):
        open_catalog(catalog_copy)


def test_a_symlink_out_of_the_catalog_is_refused(built_catalog, catalog_copy):
    (catalog_copy / "mlp.om").unlink()
    (catalog_copy / "mlp.om").symlink_to(built_catalog[0] / "mlp.om")  # the right bytes
    with pytest.raises(pytest.UsageError, match=r"file 'mlp.om' resolves to .*mlp.om, "
                                                r"outside the catalog directory"):
        open_catalog(catalog_copy)


def test_an_entry_never_yields_a_path_outside(catalog_copy):
    data = read_manifest(catalog_copy)["models"]["mlp"] | {"file": "../x.om"}
    with pytest.raises(CatalogError, match="contains '..'"):
        ModelEntry(catalog_copy, data).path  # noqa: B018
    with pytest.raises(CatalogError, match="reference '/x.npz' is an absolute path"):
        ModelEntry(catalog_copy, data | {"reference": "/x.npz"}).reference()


def test_a_tampered_model_file_is_a_usage_error_naming_both_digests(catalog_copy):
    expected = read_manifest(catalog_copy)["models"]["mlp"]["sha256"]
    flip_a_byte(catalog_copy / "mlp.om")
    actual = manifest_module.file_digest(catalog_copy / "mlp.om")
    assert actual != expected
    with pytest.raises(pytest.UsageError) as caught:
        open_catalog(catalog_copy)
    assert str(caught.value) == (
        f"--acl-model-dir {catalog_copy} (from command line): {catalog_copy / 'mlp.om'}: the "
        f"file is not the one built for model 'mlp': its sha256 is {actual}, the manifest "
        f"records {expected}; the file changed after the build — rebuild the catalog with "
        f"'pytest-acl models build --out {catalog_copy}'")


def test_a_file_changed_during_the_session_is_refused_at_its_next_use(catalog_copy):
    catalog = open_catalog(catalog_copy)
    assert catalog["mlp"].path == catalog_copy / "mlp.om"
    flip_a_byte(catalog_copy / "mlp.om")
    with pytest.raises(pytest.UsageError, match="mlp.om: the file is not the one built"):
        catalog["mlp"]  # noqa: B018
    assert catalog["noweights"].name == "noweights"


def test_a_model_file_that_is_a_fifo_is_refused_without_blocking(catalog_copy):
    (catalog_copy / "mlp.om").unlink()
    os.mkfifo(catalog_copy / "mlp.om")
    with pytest.raises(pytest.UsageError, match=r"model 'mlp' of the catalog in .*: .*mlp.om: "
                                                r"is a FIFO \(named pipe\), not a model file"):
        open_catalog(catalog_copy)


def test_a_manifest_without_a_digest_is_refused(catalog_copy):
    set_entry(catalog_copy, "mlp", sha256=None)
    with pytest.raises(pytest.UsageError, match="model 'mlp' records no sha256 of mlp.om"):
        open_catalog(catalog_copy)


def test_each_file_is_hashed_once_per_process(catalog_copy, monkeypatch):
    opened = []
    real = manifest_module.open_model_file
    monkeypatch.setattr(manifest_module, "_DIGESTS", {})
    monkeypatch.setattr(manifest_module, "open_model_file",
                        lambda path, *args: opened.append(path) or real(path, *args))
    catalog = open_catalog(catalog_copy)
    for _ in range(200):
        assert catalog["mlp"].kind == "static"
    assert sorted(p.name for p in opened) == ["mlp.om", "noweights.om"]


def test_an_atc_catalog_is_told_to_rebuild_with_atc(catalog_copy):
    data = json.loads((catalog_copy / "manifest.json").read_text())
    (catalog_copy / "manifest.json").write_text(json.dumps(data | {"target": "atc",
                                                                   "soc": "Ascend910B1"}))
    flip_a_byte(catalog_copy / "noweights.om")
    with pytest.raises(pytest.UsageError, match="rebuild the catalog with 'pytest-acl models "
                                                "build --target atc --soc Ascend910B1 --out "):
        open_catalog(catalog_copy)


def test_a_build_rebuilds_a_tampered_file(catalog_copy):
    lines: list[str] = []
    build_catalog(catalog_copy, ["mlp"], log=lines.append)
    assert lines == ["mlp: up to date"]
    flip_a_byte(catalog_copy / "mlp.om")
    lines.clear()
    manifest = build_catalog(catalog_copy, ["mlp"], log=lines.append)
    assert lines == ["mlp: built mlp.om"]
    assert manifest_module.file_digest(catalog_copy / "mlp.om") == \
        manifest["models"]["mlp"]["sha256"]
    open_catalog(catalog_copy)


def test_a_build_never_follows_an_old_entry_outside(catalog_copy):
    outside = catalog_copy.parent / "x.om"
    outside.write_bytes(b"not to be touched")
    set_entry(catalog_copy, "mlp", file="../x.om")
    set_entry(catalog_copy, "noweights", reference="/etc/passwd")
    lines: list[str] = []
    manifest = build_catalog(catalog_copy, ["mlp"], log=lines.append)
    assert lines == [
        f"mlp: the old entry is not used ({catalog_copy / 'manifest.json'}: model 'mlp': "
        "file '../x.om' contains '..')",
        f"noweights: the old entry is not used ({catalog_copy / 'manifest.json'}: model "
        "'noweights': reference '/etc/passwd' is an absolute path)",
        "mlp: built mlp.om"]
    assert outside.read_bytes() == b"not to be touched"
    assert sorted(manifest["models"]) == ["mlp"] and manifest["models"]["mlp"]["file"] == "mlp.om"
    assert open_catalog(catalog_copy).names == ["mlp"]


def test_a_tampered_catalog_through_the_fixture(pytester, catalog_copy):
    flip_a_byte(catalog_copy / "noweights.om")
    pytester.makepyfile("def test_x(acl_models): pass")
    result = pytester.runpytest("-p", "no:hypothesispytest", "-p", "no:cacheprovider",
                                "--acl-model-dir", str(catalog_copy))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{catalog_copy / 'noweights.om'}: the file is not the one "
                                 "built for model 'noweights': its sha256 is *, the manifest "
                                 "records *; the file changed after the build — rebuild the "
                                 "catalog with 'pytest-acl models build --out *'*"])
