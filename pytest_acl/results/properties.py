"""The ``acl.*`` properties each test carries in its reports (so they cross from xdist
workers to the controller, and appear in JUnit XML): clauses, variant axes, device, worker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_acl import markers


def _axis_value(value: Any) -> Any:
    """A parameter as a short, stable value: a Variant by name, an Ownership by its id."""
    if hasattr(value, "id") and hasattr(value, "work"):
        return value.id
    if hasattr(value, "name") and hasattr(value, "family"):
        return value.name
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def axes_of(item: pytest.Item) -> dict[str, Any]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    from pytest_acl.parity import BINDING_FIXTURE

    axes = {name: _axis_value(value) for name, value in sorted(callspec.params.items())
            if name != BINDING_FIXTURE}  # the binding is the record's own field
    ownership = callspec.params.get("ownership")
    if ownership is not None and hasattr(ownership, "work"):
        axes["work"], axes["weight"] = ownership.work, ownership.weight
    return axes


def add_collection_properties(item: pytest.Item) -> None:
    """Clauses and axes as plain strings, so JUnit XML carries them as readable properties."""
    clauses = markers.clause_ids(item)
    if clauses:
        item.user_properties.append(("acl.clauses", ",".join(clauses)))
    axes = axes_of(item)
    if axes:
        item.user_properties.append(("acl.axes", json.dumps(axes, sort_keys=True)))
        if "variant" in axes:
            item.user_properties.append(("acl.variant", str(axes["variant"])))


def add_run_properties(item: pytest.Item, device: int, worker: str | None) -> None:
    from pytest_acl.parity import binding_of

    item.user_properties.append(("acl.device", device))
    item.user_properties.append(("acl.worker", worker or "main"))
    binding = binding_of(item)
    if binding is not None:  # a parity run: the binding the test ran through
        item.user_properties.append(("acl.binding", binding))
