"""The conformance suite's shared setup.

Every suite test is leak-checked, and warnings never decide a verdict: a calling project's
``filterwarnings = error`` (or ``-W error``) would otherwise turn the simulator's hazard
warnings into failures and change the suite's outcome from project to project.
"""

import pytest

pytest_acl_suite = True  # this session runs the conformance suite: the plugin wakes up


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.acl_leak_check)
        # below the test's own filterwarnings marks, above any ini or -W filter
        item.add_marker(pytest.mark.filterwarnings("default"), append=False)
