"""The ``capi`` backend: a ctypes binding of ``libascendcl.so`` — not available yet."""

from __future__ import annotations

from pytest_acl.backends import Backend, BackendUnavailable


def load() -> Backend:
    raise BackendUnavailable(
        "the capi backend (ctypes on libascendcl.so) is not available yet in this version of "
        "pytest-acl; use --acl-backend pyacl on an NPU host, or sim anywhere")
