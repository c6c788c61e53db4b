"""The hypothesis profiles of the two levels: a full run is reproducible."""

from __future__ import annotations

import re

import pytest

FIND = """
from hypothesis import given, strategies as st

seen = []

@given(st.integers())
def test_examples(acl_backend, x):
    seen.append(x)

def test_record():
    print("EXAMPLES", hash(tuple(seen)))
"""


def examples(pytester, *args):
    result = pytester.runpytest_subprocess("-s", "-p", "no:randomly", "-p", "no:cacheprovider",
                                           *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
    (found,) = re.findall(r"EXAMPLES (-?\d+)", result.stdout.str())
    return found


def test_two_full_runs_try_the_same_examples(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_REPORT_DIR", str(pytester.path / "reports"))
    pytester.makepyfile(FIND)
    assert examples(pytester, "--acl-level", "full") == examples(pytester, "--acl-level", "full")


def test_the_full_profile_is_derandomized_and_quick_is_not():
    from hypothesis import settings

    import pytest_acl.profiles  # noqa: F401  (registers nothing on import)
    from pytest_acl.profiles import FULL_EXAMPLES, QUICK_EXAMPLES, register_profiles

    class Config:
        def getoption(self, name, default=None):
            return None

    previous = settings._current_profile  # type: ignore[attr-defined]
    try:
        register_profiles("full", Config())  # type: ignore[arg-type]
        assert settings.default.derandomize and settings.default.max_examples == FULL_EXAMPLES
        register_profiles("quick", Config())  # type: ignore[arg-type]
        assert not settings.default.derandomize
        assert settings.default.max_examples == QUICK_EXAMPLES
    finally:
        settings.load_profile(previous)
