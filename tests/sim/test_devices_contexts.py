"""Devices and contexts: set/reset counting, invalid ids, the default context, and the
current context being per thread (research §3, §4)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from pytest_acl.constants import (
    ACL_ERROR_INVALID_PARAM,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_CONTEXT_RELEASE_ERROR,
    ACL_ERROR_RT_INVALID_DEVICEID,
    ACL_ERROR_RT_PARAM_INVALID,
)
from pytest_acl.sim import Simulator


def in_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a new thread and return its result (or raise its exception)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class TestDevices:
    def test_device_count(self, sim):
        assert sim.acl.rt.get_device_count() == (2, 0)
        assert Simulator(devices=5).acl.rt.get_device_count() == (5, 0)

    def test_set_and_get_device(self, sim):
        rt = sim.acl.rt
        assert rt.set_device(1) == 0
        assert rt.get_device() == (1, 0)
        assert rt.set_device(0) == 0
        assert rt.get_device() == (0, 0)

    @pytest.mark.parametrize("device_id", [2, 3, 64, -1, 2**31 - 1])
    def test_invalid_device_id(self, sim, device_id):
        rt = sim.acl.rt
        assert rt.set_device(device_id) == ACL_ERROR_RT_INVALID_DEVICEID
        assert rt.reset_device(device_id) == ACL_ERROR_RT_INVALID_DEVICEID
        assert rt.create_context(device_id) == (0, ACL_ERROR_RT_INVALID_DEVICEID)
        assert rt.get_device() == (0, ACL_ERROR_RT_CONTEXT_NULL)  # nothing became current

    def test_reset_of_a_never_set_device(self, sim):
        assert sim.acl.rt.reset_device(1) == ACL_ERROR_RT_CONTEXT_RELEASE_ERROR

    def test_set_device_is_counted(self, sim):
        rt = sim.acl.rt
        assert rt.set_device(0) == 0
        assert rt.set_device(0) == 0
        assert rt.reset_device(0) == 0
        assert rt.get_device() == (0, 0)  # one set remains
        assert rt.reset_device(0) == 0
        assert rt.get_device() == (0, ACL_ERROR_RT_CONTEXT_NULL)
        assert rt.reset_device(0) == ACL_ERROR_RT_CONTEXT_RELEASE_ERROR


class TestDefaultContext:
    def test_set_device_makes_the_default_context_current(self, sim):
        rt = sim.acl.rt
        assert rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)
        rt.set_device(0)
        context, ret = rt.get_context()
        assert ret == 0 and context != 0
        rt.set_device(0)
        assert rt.get_context() == (context, 0)  # the same default context again

    def test_default_context_is_shared_by_threads(self, sim):
        rt = sim.acl.rt
        rt.set_device(0)
        context, _ = rt.get_context()

        def other_thread():
            rt.set_device(0)
            return rt.get_context()

        assert in_thread(other_thread) == (context, 0)

    def test_each_device_has_its_own_default_context(self, sim):
        rt = sim.acl.rt
        rt.set_device(0)
        first, _ = rt.get_context()
        rt.set_device(1)
        second, _ = rt.get_context()
        assert first != second
        assert rt.set_context(first) == 0
        assert rt.get_device() == (0, 0)

    def test_default_context_cannot_be_destroyed(self, sim):
        rt = sim.acl.rt
        rt.set_device(0)
        context, _ = rt.get_context()
        assert rt.destroy_context(context) == ACL_ERROR_RT_CONTEXT_NULL
        assert rt.get_context() == (context, 0)  # still there

    def test_last_reset_releases_the_default_context(self, sim):
        rt = sim.acl.rt
        rt.set_device(0)
        context, _ = rt.get_context()
        assert rt.reset_device(0) == 0
        assert rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)
        assert rt.set_context(context) == ACL_ERROR_RT_PARAM_INVALID
        rt.set_device(0)
        assert rt.get_context()[0] != context  # a fresh one, handles are not reused


class TestCreatedContexts:
    def test_create_makes_it_current(self, sim):
        rt = sim.acl.rt
        context, ret = rt.create_context(1)
        assert ret == 0 and context != 0
        assert rt.get_context() == (context, 0)
        assert rt.get_device() == (1, 0)
        assert sim.live_counts()["contexts"] == 1
        assert rt.destroy_context(context) == 0
        assert sim.live_counts()["contexts"] == 0

    def test_set_context_switches_device(self, sim):
        rt = sim.acl.rt
        first, _ = rt.create_context(0)
        second, _ = rt.create_context(1)
        assert rt.get_device() == (1, 0)
        assert rt.set_context(first) == 0
        assert rt.get_device() == (0, 0)
        assert rt.set_context(second) == 0
        assert rt.get_context() == (second, 0)

    def test_destroying_the_current_context_leaves_none(self, sim):
        rt = sim.acl.rt
        context, _ = rt.create_context(0)
        assert rt.destroy_context(context) == 0
        assert rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)
        assert rt.malloc(64, 0) == (0, ACL_ERROR_RT_CONTEXT_NULL)

    def test_destroyed_context(self, sim):
        rt = sim.acl.rt
        context, _ = rt.create_context(0)
        rt.destroy_context(context)
        assert rt.destroy_context(context) == ACL_ERROR_RT_CONTEXT_NULL
        assert rt.set_context(context) == ACL_ERROR_RT_PARAM_INVALID

    def test_null_context(self, sim):
        rt = sim.acl.rt
        assert rt.destroy_context(0) == ACL_ERROR_INVALID_PARAM
        assert rt.set_context(0) == ACL_ERROR_INVALID_PARAM

    def test_a_stream_is_not_a_context(self, sim):
        rt = sim.acl.rt
        context, _ = rt.create_context(0)
        stream, _ = rt.create_stream()
        assert rt.set_context(stream) == ACL_ERROR_RT_PARAM_INVALID
        assert rt.destroy_context(stream) == ACL_ERROR_RT_CONTEXT_NULL
        assert rt.destroy_context(context) == 0


class TestContextsPerThread:
    def test_a_context_set_in_one_thread_is_not_current_in_another(self, sim):
        rt = sim.acl.rt
        context, _ = rt.create_context(0)
        assert in_thread(rt.get_context) == (0, ACL_ERROR_RT_CONTEXT_NULL)
        assert in_thread(lambda: rt.malloc(64, 0)) == (0, ACL_ERROR_RT_CONTEXT_NULL)
        assert rt.get_context() == (context, 0)  # still current here
        rt.destroy_context(context)

    def test_another_thread_may_use_the_context(self, sim):
        rt = sim.acl.rt
        context, _ = rt.create_context(1)

        def other_thread():
            assert rt.set_context(context) == 0
            return rt.get_device()

        assert in_thread(other_thread) == (1, 0)
        rt.destroy_context(context)

    def test_setting_a_device_in_another_thread_leaves_this_one_alone(self, sim):
        rt = sim.acl.rt
        rt.set_device(0)
        mine, _ = rt.get_context()

        def other_thread():
            rt.set_device(1)
            return rt.get_device()

        assert in_thread(other_thread) == (1, 0)
        assert rt.get_device() == (0, 0)
        assert rt.get_context() == (mine, 0)

    def test_destroyed_in_another_thread_is_gone_here(self, sim):
        rt = sim.acl.rt
        context, _ = rt.create_context(0)
        assert in_thread(lambda: rt.destroy_context(context)) == 0
        assert rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)
