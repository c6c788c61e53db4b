"""A pyACL program in the style of the official samples: a model built with batch gears.

load_from_file → get_desc → get_dynamic_batch (the gears) → for each gear: input buffers of
the largest gear's size, the extra input ``ascend_mbatch_shape_data`` found by name,
set_dynamic_batch_size → execute → get_cur_output_dims (the gear's output shape) → compare
with the reference → release. Then a batch that is not a gear, which must be refused.

Plain pyACL: on an NPU host, ``python dynamic_batch.py MODEL.om REFERENCE.npz`` (a model ATC
built with ``--dynamic_batch_size``; the reference holds ``gearN/in:<name>`` and
``gearN/out:<name>`` arrays per gear); anywhere else, unmodified on the simulator:

    pytest-acl models build --out build/models --only dyn_batch
    pytest-acl run-sim -- python examples/dynamic_batch.py \
        build/models/dyn_batch.om build/models/dyn_batch.npz
"""

import sys

import acl
import numpy as np

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
ACL_DYNAMIC_TENSOR_NAME = "ascend_mbatch_shape_data"
DEVICE_ID = 0
NUMPY_OF_ACL = {0: np.float32, 1: np.float16, 3: np.int32, 9: np.int64}


def check_ret(message, ret):
    if ret != ACL_SUCCESS:
        raise RuntimeError(f"{message} failed, ret={ret}")


def malloc(size):
    ptr, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
    check_ret("acl.rt.malloc", ret)
    return ptr


def release_dataset(dataset):
    for index in range(acl.mdl.get_dataset_num_buffers(dataset)):
        buffer = acl.mdl.get_dataset_buffer(dataset, index)
        check_ret("acl.rt.free", acl.rt.free(acl.get_data_buffer_addr(buffer)))
        check_ret("acl.destroy_data_buffer", acl.destroy_data_buffer(buffer))
    check_ret("acl.mdl.destroy_dataset", acl.mdl.destroy_dataset(dataset))


def prepare(desc, reference, gear_index, dynamic_index):
    """Input and output datasets for one gear: every buffer at the description's size (the
    largest gear's), the gear's input data copied in, the dynamic input left to
    set_dynamic_batch_size."""
    inputs = acl.mdl.create_dataset()
    for index in range(acl.mdl.get_num_inputs(desc)):
        size = acl.mdl.get_input_size_by_index(desc, index)
        dev = malloc(size)
        if index != dynamic_index:
            name = acl.mdl.get_input_name_by_index(desc, index)
            data = np.ascontiguousarray(reference[f"gear{gear_index}/in:{name}"]).tobytes()
            check_ret("acl.rt.memcpy(input)", acl.rt.memcpy(
                dev, size, acl.util.bytes_to_ptr(data), len(data), ACL_MEMCPY_HOST_TO_DEVICE))
        _, ret = acl.mdl.add_dataset_buffer(inputs, acl.create_data_buffer(dev, size))
        check_ret("acl.mdl.add_dataset_buffer(input)", ret)
    outputs = acl.mdl.create_dataset()
    for index in range(acl.mdl.get_num_outputs(desc)):
        size = acl.mdl.get_output_size_by_index(desc, index)
        _, ret = acl.mdl.add_dataset_buffer(outputs, acl.create_data_buffer(malloc(size), size))
        check_ret("acl.mdl.add_dataset_buffer(output)", ret)
    return inputs, outputs


def read_output(desc, outputs, index):
    """The output at the shape of the gear that ran (get_cur_output_dims)."""
    dims, ret = acl.mdl.get_cur_output_dims(desc, index)
    check_ret("acl.mdl.get_cur_output_dims", ret)
    dtype = NUMPY_OF_ACL[acl.mdl.get_output_data_type(desc, index)]
    nbytes = int(np.prod(dims["dims"])) * np.dtype(dtype).itemsize
    dev = acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(outputs, index))
    host, ret = acl.rt.malloc_host(nbytes)
    check_ret("acl.rt.malloc_host", ret)
    check_ret("acl.rt.memcpy(output)", acl.rt.memcpy(host, nbytes, dev, nbytes,
                                                     ACL_MEMCPY_DEVICE_TO_HOST))
    result = np.frombuffer(acl.util.ptr_to_bytes(host, nbytes), dtype).reshape(dims["dims"])
    check_ret("acl.rt.free_host", acl.rt.free_host(host))
    return dims["name"], result


def main(model_path, reference_path):
    reference = np.load(reference_path, allow_pickle=False)
    check_ret("acl.init", acl.init())
    check_ret("acl.rt.set_device", acl.rt.set_device(DEVICE_ID))
    context, ret = acl.rt.create_context(DEVICE_ID)
    check_ret("acl.rt.create_context", ret)
    model_id, ret = acl.mdl.load_from_file(model_path)
    check_ret("acl.mdl.load_from_file", ret)
    desc = acl.mdl.create_desc()
    check_ret("acl.mdl.get_desc", acl.mdl.get_desc(desc, model_id))
    batch, ret = acl.mdl.get_dynamic_batch(desc)
    check_ret("acl.mdl.get_dynamic_batch", ret)
    if batch["batchCount"] == 0:
        raise RuntimeError(f"{model_path} has no batch gears (build it with --dynamic_batch_size)")
    dynamic_index, ret = acl.mdl.get_input_index_by_name(desc, ACL_DYNAMIC_TENSOR_NAME)
    check_ret("acl.mdl.get_input_index_by_name", ret)

    for gear_index, batch_size in enumerate(batch["batch"]):
        inputs, outputs = prepare(desc, reference, gear_index, dynamic_index)
        check_ret("acl.mdl.set_dynamic_batch_size", acl.mdl.set_dynamic_batch_size(
            model_id, inputs, dynamic_index, batch_size))
        check_ret("acl.mdl.execute", acl.mdl.execute(model_id, inputs, outputs))
        for index in range(acl.mdl.get_num_outputs(desc)):
            name, result = read_output(desc, outputs, index)
            expected = reference[f"gear{gear_index}/out:{name}"]
            if result.shape != expected.shape or \
                    not np.allclose(result, expected, rtol=1e-4, atol=1e-5):
                raise RuntimeError(f"batch {batch_size}: output {name} {list(result.shape)} "
                                   f"differs from the reference {list(expected.shape)}")
            print(f"batch {batch_size}: output {name} {list(result.shape)} matches the reference")
        release_dataset(inputs)
        release_dataset(outputs)

    not_a_gear = max(batch["batch"]) + 1
    inputs, outputs = prepare(desc, reference, 0, dynamic_index)
    ret = acl.mdl.set_dynamic_batch_size(model_id, inputs, dynamic_index, not_a_gear)
    if ret == ACL_SUCCESS:
        raise RuntimeError(f"batch {not_a_gear} is not a gear, yet it was accepted")
    print(f"batch {not_a_gear} (not a gear) refused with {ret}")
    release_dataset(inputs)
    release_dataset(outputs)

    check_ret("acl.mdl.unload", acl.mdl.unload(model_id))
    check_ret("acl.mdl.destroy_desc", acl.mdl.destroy_desc(desc))
    check_ret("acl.rt.destroy_context", acl.rt.destroy_context(context))
    check_ret("acl.rt.reset_device", acl.rt.reset_device(DEVICE_ID))
    check_ret("acl.finalize", acl.finalize())
    print(f"model {model_path}: gears {batch['batch']}, each verified")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: dynamic_batch.py MODEL.om REFERENCE.npz")
    sys.exit(main(sys.argv[1], sys.argv[2]))
