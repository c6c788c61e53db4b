"""Hypothesis profiles for the two levels: device calls have no deadline; quick runs few
examples, full runs the qualification amount — derandomized, so two full runs of the same
build try the same examples and give the same verdict. A profile the user chose with
``--hypothesis-profile`` wins."""

from __future__ import annotations

from typing import Any

import pytest

QUICK_EXAMPLES = 10
FULL_EXAMPLES = 200


def register_profiles(level: str, config: pytest.Config) -> None:
    from hypothesis import HealthCheck, settings

    common: dict[str, Any] = {"deadline": None, "database": None,
                              "suppress_health_check": [HealthCheck.function_scoped_fixture,
                                                        HealthCheck.too_slow,
                                                        HealthCheck.data_too_large]}
    settings.register_profile("acl-quick", max_examples=QUICK_EXAMPLES,
                              stateful_step_count=15, derandomize=False, **common)
    settings.register_profile("acl-full", max_examples=FULL_EXAMPLES,
                              stateful_step_count=50, derandomize=True, **common)
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile(f"acl-{level}")
