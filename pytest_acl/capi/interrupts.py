"""Ctrl-C inside the simulator's C library, handed back to the Python that called it.

In a Python process that calls ``libascendcl.so`` (the capi backend), Ctrl-C often lands while
the library's own Python runs the call. A KeyboardInterrupt cannot cross C: cffi would print it
and return 0 — ACL_SUCCESS — and the interrupt would be lost. So the library fails the call,
notes the interrupt here, and the binding raises it as soon as the call returns (both sides run
in one process and import this one module). A C program has no Python signal handler: Ctrl-C
ends it as usual.
"""

from __future__ import annotations

_pending = False


def defer() -> None:
    """An interrupt arrived inside the library: the caller gets it when the call returns."""
    global _pending
    _pending = True


def raise_deferred() -> None:
    """Raise the interrupt a call into the library took (the binding, after each call)."""
    global _pending
    if _pending:
        _pending = False
        raise KeyboardInterrupt
