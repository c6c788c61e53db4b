"""The conformance suite's shared setup: every suite test is leak-checked."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.acl_leak_check)
