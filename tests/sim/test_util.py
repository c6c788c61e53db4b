"""acl.util: host pointers to and from bytes and ndarrays (pyACL util/bytes_convert.cpp and
util/numpy_convert.cpp, research §10): results, messages, warnings and exception types."""

from __future__ import annotations

import ctypes
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.sim import Simulator

UNMAPPED = 0x1000
F32 = np.dtype(np.float32).num


def deprecated(name: str, instead: str) -> str:
    return re.escape(f"acl.util.{name} will be deprecated. Please use acl.util.{instead} instead.")


@pytest.fixture
def util(sim):
    return sim.acl.util


@pytest.fixture(scope="module")
def shared_util():
    """For hypothesis tests, which run many examples in one test: acl.util keeps no state."""
    return Simulator(devices=1).acl.util


class TestBytes:
    @settings(max_examples=50, deadline=None, database=None)
    @given(data=st.binary(min_size=1, max_size=1024))
    def test_round_trip(self, shared_util, data):
        util = shared_util
        ptr = util.bytes_to_ptr(data)
        assert ptr == util.bytes_to_ptr(data)  # stable: the object's own buffer
        assert ctypes.string_at(ptr, len(data)) == data
        assert util.ptr_to_bytes(ptr, len(data)) == data

    def test_bytes_to_ptr_does_not_copy(self, util):
        data = bytes(16)
        ptr = util.bytes_to_ptr(data)
        # the buffer of a bytes object lies inside the object, just after its header
        assert id(data) < ptr < id(data) + data.__sizeof__()

    @pytest.mark.parametrize("value", [bytearray(b"ab"), "ab", np.zeros(2, np.uint8),
                                       memoryview(b"ab"), 5, None])
    def test_bytes_to_ptr_needs_bytes(self, util, value):
        with pytest.raises(ValueError, match="^needs an byte as argument$"):
            util.bytes_to_ptr(value)

    def test_bytes_to_ptr_arity(self, util):
        with pytest.raises(TypeError, match="^acl.util.bytes_to_ptr args parse failed$"):
            util.bytes_to_ptr()

    def test_ptr_to_bytes_copies(self, util):
        buf = np.arange(8, dtype=np.uint8)
        copied = util.ptr_to_bytes(buf.ctypes.data, 8)
        buf[:] = 0
        assert copied == bytes(range(8))

    def test_ptr_to_bytes_of_null_or_nothing(self, util):
        assert util.ptr_to_bytes(0, 5) == bytes(5)  # PyBytes_FromStringAndSize(NULL, 5)
        assert util.ptr_to_bytes(UNMAPPED, 0) == b""

    def test_ptr_to_bytes_of_unmapped_memory(self, util):
        with pytest.raises(ValueError, match="not mapped host memory"):
            util.ptr_to_bytes(UNMAPPED, 8)

    def test_ptr_to_bytes_parse(self, util):
        with pytest.raises(TypeError, match="^acl.util.ptr_to_bytes args parse failed$"):
            util.ptr_to_bytes(1.5, 8)


class TestNumpyToPtr:
    def test_returns_the_data_address_and_warns(self, util):
        array = np.arange(10, dtype=np.float32)
        with pytest.warns(Warning, match=deprecated("numpy_to_ptr", "bytes_to_ptr")) as record:
            ptr = util.numpy_to_ptr(array)
        assert ptr == array.ctypes.data
        assert [w.category for w in record] == [Warning]  # a plain Warning, not Deprecation

    def test_non_ndarray(self, util):
        with (pytest.warns(Warning, match=deprecated("numpy_to_ptr", "bytes_to_ptr")),
              pytest.raises(ValueError, match="^needs an ndarray as argument$")):
            util.numpy_to_ptr([1, 2, 3])

    def test_discontiguous_array_warns_twice(self, util):
        array = np.arange(20, dtype=np.int32)[::2]
        with pytest.warns(Warning) as record:
            ptr = util.numpy_to_ptr(array)
        messages = [str(w.message) for w in record]
        assert len(messages) == 2
        assert "will be deprecated" in messages[0]
        assert messages[1] == ("The input ndarray is discontiguous. Please use "
                               "acl.util.bytes_to_ptr instead.")
        assert ptr == array.ctypes.data


class TestNumpyContiguousToPtr:
    def test_contiguous_array_is_not_copied(self, util):
        array = np.arange(12, dtype=np.float64).reshape(3, 4)
        with pytest.warns(Warning, match=deprecated("numpy_contiguous_to_ptr", "bytes_to_ptr")):
            ptr, result = util.numpy_contiguous_to_ptr(array)
        assert ptr == array.ctypes.data
        assert result.ctypes.data == ptr

    def test_discontiguous_array_is_copied(self, util):
        base = np.arange(24, dtype=np.int16).reshape(4, 6)
        view = base[:, ::2]
        with pytest.warns(Warning, match=deprecated("numpy_contiguous_to_ptr", "bytes_to_ptr")):
            ptr, result = util.numpy_contiguous_to_ptr(view)
        assert result.flags.c_contiguous
        assert ptr == result.ctypes.data
        assert not np.shares_memory(result, base)
        np.testing.assert_array_equal(result, view)
        assert ctypes.string_at(ptr, result.nbytes) == view.tobytes()

    def test_non_ndarray(self, util):
        with (pytest.warns(Warning),
              pytest.raises(ValueError, match="^needs an ndarray as argument$")):
            util.numpy_contiguous_to_ptr(b"abc")


class TestPtrToNumpy:
    def test_views_without_copy(self, util):
        array = np.zeros((3, 4), dtype=np.float32)
        with pytest.warns(Warning, match=deprecated("ptr_to_numpy", "ptr_to_bytes")):
            view = util.ptr_to_numpy(array.ctypes.data, (3, 4), F32)
        assert view.shape == (3, 4) and view.dtype == np.float32
        view[1, 2] = 42.0
        assert array[1, 2] == 42.0
        array[0, 0] = 7.0
        assert view[0, 0] == 7.0

    @pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64, np.float16, np.complex64,
                                       np.bool_])
    def test_type_numbers(self, util, dtype):
        array = np.ones(6, dtype=dtype)
        with pytest.warns(Warning):
            view = util.ptr_to_numpy(array.ctypes.data, (2, 3), np.dtype(dtype).num)
        assert view.dtype == dtype
        np.testing.assert_array_equal(view, array.reshape(2, 3))

    def test_works_on_malloc_host_memory(self, sim):
        acl = sim.acl
        acl.init()
        ptr, _ = acl.rt.malloc_host(64)
        with pytest.warns(Warning):
            view = acl.util.ptr_to_numpy(ptr, (16,), F32)
        view[:] = 2.5
        assert acl.util.ptr_to_bytes(ptr, 4) == np.float32(2.5).tobytes()
        del view
        acl.finalize()

    @pytest.mark.parametrize(("shape", "error", "message"), [
        ([3, 4], ValueError, "^shape is empty$"),
        ((3, "4"), TypeError, "^the second argument is not list of int$"),
        ((3, -1), TypeError, "^the second argument is not list of int$"),
        ((3, 4.0), TypeError, "^the second argument is not list of int$"),
    ])
    def test_bad_shape(self, util, shape, error, message):
        array = np.zeros(12, dtype=np.float32)
        with pytest.warns(Warning), pytest.raises(error, match=message):
            util.ptr_to_numpy(array.ctypes.data, shape, F32)

    def test_unknown_type_number(self, util):
        array = np.zeros(4, dtype=np.float32)
        with pytest.warns(Warning), pytest.raises(ValueError, match="type number"):
            util.ptr_to_numpy(array.ctypes.data, (4,), 9999)

    def test_unmapped_memory(self, util):
        with pytest.warns(Warning), pytest.raises(ValueError, match="not mapped host memory"):
            util.ptr_to_numpy(UNMAPPED, (4,), F32)

    def test_arity(self, util):
        with pytest.raises(TypeError, match="^acl.util.ptr_to_numpy args parse failed$"):
            util.ptr_to_numpy(0, (4,))


class TestDevicePointers:
    """acl.util works on host memory only; a device pointer is refused with a clear message
    (real pyACL would read garbage or crash)."""

    @pytest.fixture
    def device_ptr(self, sim_acl):
        ptr, ret = sim_acl.rt.malloc(64, 0)
        assert ret == 0
        return ptr

    def test_ptr_to_bytes(self, sim_acl, device_ptr):
        with pytest.raises(ValueError, match="device pointer"):
            sim_acl.util.ptr_to_bytes(device_ptr, 16)

    def test_ptr_to_numpy(self, sim_acl, device_ptr):
        with pytest.warns(Warning), pytest.raises(ValueError, match="device pointer"):
            sim_acl.util.ptr_to_numpy(device_ptr, (4,), F32)
