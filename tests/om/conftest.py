"""A valid static OM for the container tests."""

from __future__ import annotations

import pytest

from pytest_acl.om.samples import static_model


@pytest.fixture
def valid_om() -> bytes:
    return static_model().to_bytes()
