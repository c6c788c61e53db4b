"""A pyACL program in the style of the official samples: a model with user-managed memory.

query_size → malloc work → malloc weight → load_from_file_with_mem → create_desc/get_desc →
datasets → execute → compare outputs with the reference → unload → free.

Plain pyACL: on an NPU host, ``python model_with_mem.py MODEL.om REFERENCE.npz``; anywhere
else, unmodified on the simulator:

    pytest-acl models build --out build/models --only mlp
    pytest-acl run-sim -- python examples/model_with_mem.py build/models/mlp.om build/models/mlp.npz
"""

import sys

import acl
import numpy as np

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
DEVICE_ID = 0
NUMPY_OF_ACL = {0: np.float32, 1: np.float16, 3: np.int32, 9: np.int64}


def check_ret(message, ret):
    if ret != ACL_SUCCESS:
        raise RuntimeError(f"{message} failed, ret={ret}")


def main(model_path, reference_path):
    reference = np.load(reference_path, allow_pickle=False)
    check_ret("acl.init", acl.init())
    check_ret("acl.rt.set_device", acl.rt.set_device(DEVICE_ID))
    context, ret = acl.rt.create_context(DEVICE_ID)
    check_ret("acl.rt.create_context", ret)

    work_size, weight_size, ret = acl.mdl.query_size(model_path)
    check_ret("acl.mdl.query_size", ret)
    work_ptr = weight_ptr = 0  # a model without weights (or work) needs no buffer: NULL
    if work_size:
        work_ptr, ret = acl.rt.malloc(work_size, ACL_MEM_MALLOC_HUGE_FIRST)
        check_ret("acl.rt.malloc(work)", ret)
    if weight_size:
        weight_ptr, ret = acl.rt.malloc(weight_size, ACL_MEM_MALLOC_HUGE_FIRST)
        check_ret("acl.rt.malloc(weight)", ret)
    model_id, ret = acl.mdl.load_from_file_with_mem(model_path, work_ptr, work_size,
                                                    weight_ptr, weight_size)
    check_ret("acl.mdl.load_from_file_with_mem", ret)
    desc = acl.mdl.create_desc()
    check_ret("acl.mdl.get_desc", acl.mdl.get_desc(desc, model_id))

    device_buffers = []
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
    output_dataset = acl.mdl.create_dataset()
    outputs = []
    for index in range(acl.mdl.get_num_outputs(desc)):
        size = acl.mdl.get_output_size_by_index(desc, index)
        dev, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
        check_ret("acl.rt.malloc(output)", ret)
        device_buffers.append(dev)
        _, ret = acl.mdl.add_dataset_buffer(output_dataset, acl.create_data_buffer(dev, size))
        check_ret("acl.mdl.add_dataset_buffer(output)", ret)
        dims, ret = acl.mdl.get_output_dims(desc, index)
        outputs.append((dims["name"], dims["dims"], dev, size,
                        NUMPY_OF_ACL[acl.mdl.get_output_data_type(desc, index)]))

    check_ret("acl.mdl.execute", acl.mdl.execute(model_id, input_dataset, output_dataset))
    for name, dims, dev, size, dtype in outputs:
        host, ret = acl.rt.malloc_host(size)
        check_ret("acl.rt.malloc_host", ret)
        check_ret("acl.rt.memcpy(output)", acl.rt.memcpy(host, size, dev, size,
                                                         ACL_MEMCPY_DEVICE_TO_HOST))
        result = np.frombuffer(acl.util.ptr_to_bytes(host, size), dtype).reshape(dims)
        acl.rt.free_host(host)
        expected = reference[f"out:{name}"]
        if not np.allclose(result, expected, rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"output {name} differs from the reference")
        print(f"output {name} {list(result.shape)} matches the reference: "
              f"{np.round(result.ravel()[:3], 4).tolist()} ...")

    for dataset in (input_dataset, output_dataset):
        for index in range(acl.mdl.get_dataset_num_buffers(dataset)):
            acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, index))
        acl.mdl.destroy_dataset(dataset)
    check_ret("acl.mdl.unload", acl.mdl.unload(model_id))
    check_ret("acl.mdl.destroy_desc", acl.mdl.destroy_desc(desc))
    for dev in device_buffers + [weight_ptr, work_ptr]:
        if dev:
            check_ret("acl.rt.free", acl.rt.free(dev))
    check_ret("acl.rt.destroy_context", acl.rt.destroy_context(context))
    check_ret("acl.rt.reset_device", acl.rt.reset_device(DEVICE_ID))
    check_ret("acl.finalize", acl.finalize())
    print(f"model {model_path}: work {work_size} bytes, weight {weight_size} bytes, verified")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: model_with_mem.py MODEL.om REFERENCE.npz")
    sys.exit(main(sys.argv[1], sys.argv[2]))
