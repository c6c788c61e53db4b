r"""A pyACL program in the style of the official asynchronous-inference samples: execute_async
on a stream, and after each execution a callback that reads that execution's outputs.

start_thread (a callback thread: set_context, then process_report in a loop) →
subscribe_report(thread, stream) → per execution: execute_async, memcpy_async of the outputs to
pinned host memory, launch_callback(ACL_CALLBACK_BLOCK) → synchronize_stream →
unsubscribe_report → stop the callback thread → compare what the callbacks read with the
reference → release everything.

The callback runs on the callback thread, when the stream has reached it. It only reads host
memory: CANN's docs ask callbacks not to allocate, free, synchronize or launch work.

Plain pyACL: on an NPU host, ``python async_callbacks.py MODEL.om REFERENCE.npz``; anywhere
else, unmodified on the simulator:

    pytest-acl models build --out build/models --only mlp
    pytest-acl run-sim -- python examples/async_callbacks.py \
        build/models/mlp.om build/models/mlp.npz
"""

import sys
import threading

import acl
import numpy as np

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
ACL_CALLBACK_BLOCK = 1
DEVICE_ID = 0
EXECUTIONS = 3
REPORT_TIMEOUT_MS = 100  # how long each process_report waits before the loop checks its flag
NUMPY_OF_ACL = {0: np.float32, 1: np.float16, 3: np.int32, 9: np.int64}


def check_ret(message, ret):
    if ret != ACL_SUCCESS:
        raise RuntimeError(f"{message} failed, ret={ret}")


class CallbackThread:
    """The thread that runs the stream's callbacks: it must call process_report."""

    def __init__(self, context):
        self.running = True
        self.tid, ret = acl.util.start_thread(self._loop, [context, REPORT_TIMEOUT_MS])
        check_ret("acl.util.start_thread", ret)

    def _loop(self, args_list):
        context, timeout_ms = args_list
        check_ret("acl.rt.set_context", acl.rt.set_context(context))
        while self.running:
            acl.rt.process_report(timeout_ms)  # 0, or a timeout when nothing was reported

    def stop(self):
        self.running = False
        check_ret("acl.util.stop_thread", acl.util.stop_thread(self.tid))


def main(model_path, reference_path):
    reference = np.load(reference_path, allow_pickle=False)
    check_ret("acl.init", acl.init())
    check_ret("acl.rt.set_device", acl.rt.set_device(DEVICE_ID))
    context, ret = acl.rt.create_context(DEVICE_ID)
    check_ret("acl.rt.create_context", ret)
    stream, ret = acl.rt.create_stream()
    check_ret("acl.rt.create_stream", ret)

    model_id, ret = acl.mdl.load_from_file(model_path)
    check_ret("acl.mdl.load_from_file", ret)
    desc = acl.mdl.create_desc()
    check_ret("acl.mdl.get_desc", acl.mdl.get_desc(desc, model_id))

    device_buffers, host_buffers = [], []
    input_dataset = acl.mdl.create_dataset()
    for index in range(acl.mdl.get_num_inputs(desc)):
        name = acl.mdl.get_input_name_by_index(desc, index)
        data = np.ascontiguousarray(reference[f"in:{name}"]).tobytes()  # keep it alive
        size = acl.mdl.get_input_size_by_index(desc, index)
        dev, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
        check_ret("acl.rt.malloc(input)", ret)
        device_buffers.append(dev)
        check_ret("acl.rt.memcpy(input)", acl.rt.memcpy(dev, size, acl.util.bytes_to_ptr(data),
                                                        len(data), ACL_MEMCPY_HOST_TO_DEVICE))
        _, ret = acl.mdl.add_dataset_buffer(input_dataset, acl.create_data_buffer(dev, size))
        check_ret("acl.mdl.add_dataset_buffer(input)", ret)

    # One output dataset per execution, each with pinned host memory its callback reads.
    executions = []
    for _ in range(EXECUTIONS):
        output_dataset = acl.mdl.create_dataset()
        outputs = []
        for index in range(acl.mdl.get_num_outputs(desc)):
            size = acl.mdl.get_output_size_by_index(desc, index)
            dev, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
            check_ret("acl.rt.malloc(output)", ret)
            device_buffers.append(dev)
            host, ret = acl.rt.malloc_host(size)
            check_ret("acl.rt.malloc_host(output)", ret)
            host_buffers.append(host)
            _, ret = acl.mdl.add_dataset_buffer(output_dataset,
                                                acl.create_data_buffer(dev, size))
            check_ret("acl.mdl.add_dataset_buffer(output)", ret)
            dims, ret = acl.mdl.get_output_dims(desc, index)
            check_ret("acl.mdl.get_output_dims", ret)
            outputs.append((dims["name"], dims["dims"], dev, host, size,
                            NUMPY_OF_ACL[acl.mdl.get_output_data_type(desc, index)]))
        executions.append((output_dataset, outputs))

    results, failures = [], []

    def on_execution_done(user_data):
        """Runs on the callback thread once the stream has executed the model and copied its
        outputs: reads them from host memory."""
        execution, outputs = user_data
        try:
            for name, dims, _, host, size, dtype in outputs:
                result = np.frombuffer(acl.util.ptr_to_bytes(host, size), dtype).reshape(dims)
                results.append((execution, name, result, threading.get_ident()))
        except Exception as exc:  # never let an exception escape into process_report
            failures.append(f"callback {execution}: {exc!r}")

    callback_thread = CallbackThread(context)
    check_ret("acl.rt.subscribe_report", acl.rt.subscribe_report(callback_thread.tid, stream))
    for execution, (output_dataset, outputs) in enumerate(executions):
        check_ret("acl.mdl.execute_async",
                  acl.mdl.execute_async(model_id, input_dataset, output_dataset, stream))
        for _, _, dev, host, size, _ in outputs:
            check_ret("acl.rt.memcpy_async(output)",
                      acl.rt.memcpy_async(host, size, dev, size, ACL_MEMCPY_DEVICE_TO_HOST,
                                          stream))
        check_ret("acl.rt.launch_callback",
                  acl.rt.launch_callback(on_execution_done, (execution, outputs),
                                         ACL_CALLBACK_BLOCK, stream))
    check_ret("acl.rt.synchronize_stream", acl.rt.synchronize_stream(stream))
    check_ret("acl.rt.unsubscribe_report",
              acl.rt.unsubscribe_report(callback_thread.tid, stream))
    callback_thread.stop()

    if failures:
        raise RuntimeError("; ".join(failures))
    if len(results) != EXECUTIONS * len(executions[0][1]):
        raise RuntimeError(f"{len(results)} outputs read by callbacks, expected "
                           f"{EXECUTIONS * len(executions[0][1])}")
    for execution, name, result, tid in results:
        if tid != callback_thread.tid:
            raise RuntimeError(f"callback {execution} ran on thread {tid}, not the callback "
                               f"thread {callback_thread.tid}")
        if not np.allclose(result, reference[f"out:{name}"], rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"execution {execution}: output {name} differs from the "
                               "reference")
        print(f"execution {execution}: output {name} {list(result.shape)} read in its callback "
              f"matches the reference: {np.round(result.ravel()[:3], 4).tolist()} ...")

    for dataset in [input_dataset] + [output_dataset for output_dataset, _ in executions]:
        for index in range(acl.mdl.get_dataset_num_buffers(dataset)):
            acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, index))
        acl.mdl.destroy_dataset(dataset)
    check_ret("acl.mdl.unload", acl.mdl.unload(model_id))
    check_ret("acl.mdl.destroy_desc", acl.mdl.destroy_desc(desc))
    for dev in device_buffers:
        check_ret("acl.rt.free", acl.rt.free(dev))
    for host in host_buffers:
        check_ret("acl.rt.free_host", acl.rt.free_host(host))
    check_ret("acl.rt.destroy_stream", acl.rt.destroy_stream(stream))
    check_ret("acl.rt.destroy_context", acl.rt.destroy_context(context))
    check_ret("acl.rt.reset_device", acl.rt.reset_device(DEVICE_ID))
    check_ret("acl.finalize", acl.finalize())
    print(f"model {model_path}: {EXECUTIONS} asynchronous executions, each read in a callback "
          "on the callback thread, verified")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: async_callbacks.py MODEL.om REFERENCE.npz")
    sys.exit(main(sys.argv[1], sys.argv[2]))
