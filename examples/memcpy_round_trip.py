"""A pyACL program in the style of the official samples: memory round trip on one device.

init → set_device → create_context → create_stream → malloc → memcpy host→device→host with
the data checked → memcpy_async + synchronize_stream → frees, destroys, reset, finalize.

It is plain pyACL: on an NPU host run it with ``python memcpy_round_trip.py``; anywhere else
run it unmodified on the simulator with ``pytest-acl run-sim -- python memcpy_round_trip.py``.
"""

import sys

import acl
import numpy as np

# pyACL exports no constants; programs define the ones they use (as the samples do).
ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
ACL_MEMCPY_DEVICE_TO_DEVICE = 3
DEVICE_ID = 0


def check_ret(message, ret):
    if ret != ACL_SUCCESS:
        raise RuntimeError(f"{message} failed, ret={ret}")


def main():
    check_ret("acl.init", acl.init())
    check_ret("acl.rt.set_device", acl.rt.set_device(DEVICE_ID))
    context, ret = acl.rt.create_context(DEVICE_ID)
    check_ret("acl.rt.create_context", ret)
    stream, ret = acl.rt.create_stream()
    check_ret("acl.rt.create_stream", ret)

    data = np.arange(1024, dtype=np.float32) * 0.5
    size = data.nbytes
    host_in = data.tobytes()
    dev_a, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
    check_ret("acl.rt.malloc", ret)
    dev_b, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
    check_ret("acl.rt.malloc", ret)
    host_out, ret = acl.rt.malloc_host(size)
    check_ret("acl.rt.malloc_host", ret)

    # Synchronous round trip: host → device → host.
    check_ret("acl.rt.memcpy H2D", acl.rt.memcpy(dev_a, size, acl.util.bytes_to_ptr(host_in),
                                                 size, ACL_MEMCPY_HOST_TO_DEVICE))
    check_ret("acl.rt.memcpy D2H", acl.rt.memcpy(host_out, size, dev_a, size,
                                                 ACL_MEMCPY_DEVICE_TO_HOST))
    sync_result = np.frombuffer(acl.util.ptr_to_bytes(host_out, size), dtype=np.float32)
    if not np.array_equal(sync_result, data):
        raise RuntimeError("synchronous round trip returned different data")

    # Asynchronous copies on one stream: device → device, then device → host, in order.
    check_ret("acl.rt.memset", acl.rt.memset(host_out, size, 0, size))
    check_ret("acl.rt.memcpy_async D2D", acl.rt.memcpy_async(
        dev_b, size, dev_a, size, ACL_MEMCPY_DEVICE_TO_DEVICE, stream))
    check_ret("acl.rt.memcpy_async D2H", acl.rt.memcpy_async(
        host_out, size, dev_b, size, ACL_MEMCPY_DEVICE_TO_HOST, stream))
    check_ret("acl.rt.synchronize_stream", acl.rt.synchronize_stream(stream))
    async_result = np.frombuffer(acl.util.ptr_to_bytes(host_out, size), dtype=np.float32)
    if not np.array_equal(async_result, data):
        raise RuntimeError("asynchronous copies returned different data")

    check_ret("acl.rt.free_host", acl.rt.free_host(host_out))
    check_ret("acl.rt.free", acl.rt.free(dev_b))
    check_ret("acl.rt.free", acl.rt.free(dev_a))
    check_ret("acl.rt.destroy_stream", acl.rt.destroy_stream(stream))
    check_ret("acl.rt.destroy_context", acl.rt.destroy_context(context))
    check_ret("acl.rt.reset_device", acl.rt.reset_device(DEVICE_ID))
    check_ret("acl.finalize", acl.finalize())

    print(f"verified {size} bytes host->device->host: {sync_result[:4].tolist()} ... "
          f"{sync_result[-2:].tolist()}")
    print(f"verified {size} bytes async device->device->host on one stream: "
          f"{async_result[:4].tolist()} ... {async_result[-2:].tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
