"""Resource leak check: compare the backend's live resources before and after a test.

The backend's snapshot names each resource (``device0.bytes_in_use``, ``contexts``,
``streams``, …); a difference is a leak, reported with both values so the message says what
leaked and by how much.
"""

from __future__ import annotations


def differences(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """``["streams: 1 → 2 (+1)", …]`` for every resource whose count changed."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, 0), after.get(key, 0)
        if old != new:
            lines.append(f"{key}: {old} → {new} ({new - old:+d})")
    return lines


def leak_report(nodeid: str, before: dict[str, int], after: dict[str, int]) -> str | None:
    """The failure message for a leaking test, or None when nothing changed."""
    lines = differences(before, after)
    if not lines:
        return None
    return (f"acl_leak_check: {nodeid} left resources behind:\n  " + "\n  ".join(lines))
