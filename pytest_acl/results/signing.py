"""Ed25519 signatures for qualification bundles (the ``cryptography`` library).

The signature covers the exact bytes of ``qualification.json``, which holds the SHA-256 of
every file of the bundle: a valid signature proves that nothing in the bundle changed since
the holder of the private key signed it. Keys are PEM files — ``pytest-acl keygen`` makes a
pair, as does ``openssl genpkey -algorithm ed25519`` (public half: ``openssl pkey -pubout``).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

SIGNATURE_FILE = "qualification.sig"


class SigningUnavailable(Exception):
    """The key cannot be used (missing library, unreadable or wrong kind of key)."""


def _crypto():  # type: ignore[no-untyped-def]
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise SigningUnavailable("signing needs the 'cryptography' package: pip install "
                                 "'pytest-acl[sign]'") from None
    return serialization, ed25519, InvalidSignature


def _raw_public(public_key: object) -> bytes:
    serialization, _, _ = _crypto()
    return public_key.public_bytes(serialization.Encoding.Raw,  # type: ignore[attr-defined]
                                   serialization.PublicFormat.Raw)


def fingerprint(public_key: object) -> str:
    """SHA-256 of the raw public key, as hex: how a bundle names the key that signed it."""
    return hashlib.sha256(_raw_public(public_key)).hexdigest()


def load_private(path: Path):  # type: ignore[no-untyped-def]
    serialization, ed25519, _ = _crypto()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningUnavailable(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningUnavailable(f"{path}: not an Ed25519 key (make one with 'pytest-acl "
                                 "keygen' or 'openssl genpkey -algorithm ed25519')")
    return key


def load_public(path: Path):  # type: ignore[no-untyped-def]
    serialization, ed25519, _ = _crypto()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningUnavailable(f"{path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:  # a private key also holds its public half
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise SigningUnavailable(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SigningUnavailable(f"{path}: not an Ed25519 public key")
    return key


def sign(message: bytes, key_path: Path) -> tuple[str, str]:
    """(base64 signature, fingerprint of the public key)."""
    key = load_private(key_path)
    return base64.b64encode(key.sign(message)).decode(), fingerprint(key.public_key())


def check(message: bytes, signature: str, public_path: Path) -> str | None:
    """None if ``signature`` is the key's signature of ``message``, else what is wrong."""
    _, _, invalid = _crypto()
    key = load_public(public_path)
    try:
        key.verify(base64.b64decode(signature.strip(), validate=True), message)
    except (invalid, ValueError):
        return (f"the signature does not match: the bundle was changed after it was signed, "
                f"or another key signed it (this key is {fingerprint(key)[:16]}…)")
    return None


def generate(directory: Path) -> tuple[Path, Path]:
    """A new key pair as ``acl-sign.pem`` (private, mode 600) and ``acl-sign.pub.pem``."""
    serialization, ed25519, _ = _crypto()
    key = ed25519.Ed25519PrivateKey.generate()
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "acl-sign.pem", directory / "acl-sign.pub.pem"
    if private.exists():
        raise SigningUnavailable(f"{private} exists; keys are never overwritten")
    private.touch(mode=0o600)
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public
