"""acl.init / finalize / finalize_reference / get_version / get_soc_name (reference §5.13 and
the research notes on acl.cpp): reference counting, repeat codes, and aclrt* calls before init."""

from __future__ import annotations

import pytest

from pytest_acl.constants import (
    ACL_ERROR_INVALID_FILE,
    ACL_ERROR_REPEAT_FINALIZE,
    ACL_ERROR_REPEAT_INITIALIZE,
    ACL_ERROR_RT_CONTEXT_NULL,
    ACL_ERROR_RT_CONTEXT_RELEASE_ERROR,
    ACL_ERROR_RT_PARAM_INVALID,
    ACL_ERROR_UNINITIALIZE,
    ACL_HOST,
)
from pytest_acl.sim import Simulator


def test_init_then_repeat_init(sim):
    assert sim.acl.init() == 0
    assert sim.acl.init() == ACL_ERROR_REPEAT_INITIALIZE
    assert sim.acl.init() == ACL_ERROR_REPEAT_INITIALIZE
    assert sim.runtime.init_count == 3  # a repeated init still counts


def test_init_with_a_config_file(sim, tmp_path):
    config = tmp_path / "acl.json"
    config.write_text("{}")
    assert sim.acl.init(str(config)) == 0


def test_init_with_a_missing_config_file_does_not_initialise(sim, tmp_path):
    assert sim.acl.init(str(tmp_path / "missing.json")) == ACL_ERROR_INVALID_FILE
    assert sim.acl.init() == 0  # the failed call did not count


def test_finalize_without_init_succeeds_once(sim):
    """aclFinalizeFlag starts false, so the first aclFinalize succeeds; the second is refused."""
    assert sim.acl.finalize() == 0
    assert sim.acl.finalize() == ACL_ERROR_REPEAT_FINALIZE


def test_one_finalize_ignores_the_count(sim):
    assert sim.acl.init() == 0
    assert sim.acl.init() == ACL_ERROR_REPEAT_INITIALIZE
    assert sim.acl.finalize() == 0
    assert sim.acl.finalize() == ACL_ERROR_REPEAT_FINALIZE
    assert sim.acl.finalize_reference() == (0, ACL_ERROR_REPEAT_FINALIZE)


def test_finalize_reference_counts_down(sim):
    acl = sim.acl
    assert [acl.init() for _ in range(3)] == [0, ACL_ERROR_REPEAT_INITIALIZE,
                                              ACL_ERROR_REPEAT_INITIALIZE]
    assert acl.finalize_reference() == (2, 0)
    assert acl.finalize_reference() == (1, 0)
    assert acl.get_soc_name() is not None  # still initialised
    assert acl.finalize_reference() == (0, 0)
    assert acl.get_soc_name() is None  # the last one finalized
    assert acl.finalize_reference() == (0, ACL_ERROR_REPEAT_FINALIZE)
    assert acl.finalize() == ACL_ERROR_REPEAT_FINALIZE


def test_finalize_reference_without_init(sim):
    assert sim.acl.finalize_reference() == (0, ACL_ERROR_REPEAT_FINALIZE)


def test_finalize_reference_above_one_tears_nothing_down(sim):
    acl = sim.acl
    acl.init()
    acl.init()
    assert acl.rt.set_device(0) == 0
    ptr, ret = acl.rt.malloc(64, 0)
    assert ret == 0
    assert acl.finalize_reference() == (1, 0)
    assert acl.rt.get_device() == (0, 0)
    assert acl.rt.free(ptr) == 0
    assert acl.finalize_reference() == (0, 0)


def test_last_finalize_reference_tears_down(sim):
    acl = sim.acl
    acl.init()
    acl.rt.set_device(0)
    ptr, _ = acl.rt.malloc(64, 0)
    assert acl.finalize_reference() == (0, 0)
    assert acl.rt.get_device() == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert acl.rt.free(ptr) == ACL_ERROR_RT_PARAM_INVALID


def test_init_again_after_finalize(sim):
    acl = sim.acl
    assert acl.init() == 0
    assert acl.finalize() == 0
    assert acl.init() == 0
    assert acl.finalize() == 0


def test_finalize_tears_down_devices_and_contexts(sim):
    acl = sim.acl
    acl.init()
    acl.rt.set_device(1)
    context, _ = acl.rt.create_context(0)
    assert acl.finalize() == 0
    assert acl.rt.get_device() == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert acl.rt.set_context(context) == ACL_ERROR_RT_PARAM_INVALID  # destroyed
    assert acl.rt.reset_device(1) == ACL_ERROR_RT_CONTEXT_RELEASE_ERROR  # no longer set


def test_get_version(sim):
    version = sim.acl.get_version()
    assert version == (1, 17, 0, 0)
    assert all(type(v) is int for v in version)
    assert sim.acl.init() == 0
    assert sim.acl.get_version() == version
    sim.acl.finalize()


def test_get_soc_name():
    acl = Simulator(soc="Ascend310P3").acl
    assert acl.get_soc_name() is None  # pyACL gives None when it cannot resolve the SoC
    acl.init()
    assert acl.get_soc_name() == "Ascend310P3"
    acl.finalize()
    assert acl.get_soc_name() is None


class TestRuntimeBeforeInit:
    """No aclrt* call checks aclInit (research §2): they behave as after init."""

    def test_device_queries(self, sim):
        assert sim.acl.rt.get_device_count() == (2, 0)
        assert sim.acl.rt.get_run_mode() == (ACL_HOST, 0)

    def test_malloc_without_a_device(self, sim):
        assert sim.acl.rt.malloc(64, 0) == (0, ACL_ERROR_RT_CONTEXT_NULL)

    def test_set_device_and_use_it(self, sim):
        rt = sim.acl.rt
        assert rt.set_device(1) == 0
        assert rt.get_device() == (1, 0)
        ptr, ret = rt.malloc(64, 0)
        assert ret == 0
        assert rt.free(ptr) == 0
        assert rt.reset_device(1) == 0

    @pytest.mark.parametrize("call", [
        lambda rt: rt.malloc(64, 0), lambda rt: rt.create_stream(), lambda rt: rt.get_device(),
        lambda rt: rt.get_context(), lambda rt: rt.memset(1, 1, 0, 1),
        lambda rt: rt.synchronize_device(), lambda rt: rt.get_mem_info(1),
    ])
    def test_never_uninitialize(self, sim, call):
        result = call(sim.acl.rt)
        ret = result[-1] if isinstance(result, tuple) else result
        assert ret == ACL_ERROR_RT_CONTEXT_NULL
        assert ret != ACL_ERROR_UNINITIALIZE
