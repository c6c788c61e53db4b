"""The simulator's operator kernels agree with ONNX's reference evaluator, op by op."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from pytest_acl.sim import ops

RNG = np.random.default_rng(7)


def _f(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


CASES = {
    "Gemm": ([_f(3, 4), _f(4, 5), _f(5)], {}),
    "Gemm-trans": ([_f(4, 3), _f(5, 4), _f(5)], {"transA": 1, "transB": 1, "alpha": 0.5,
                                                 "beta": 2.0}),
    "MatMul": ([_f(2, 3, 4), _f(4, 6)], {}),
    "Add": ([_f(3, 4), _f(4)], {}),
    "Mul": ([_f(3, 4), _f(3, 1)], {}),
    "Relu": ([_f(5, 5)], {}),
    "Sigmoid": ([_f(5, 5)], {}),
    "Conv": ([_f(2, 3, 7, 6), _f(4, 3, 3, 2), _f(4)], {"pads": [1, 0, 2, 1],
                                                       "strides": [2, 1], "dilations": [1, 2]}),
    "Flatten": ([_f(2, 3, 4)], {"axis": 2}),
    "Reshape": ([_f(2, 3, 4), np.array([4, 0, -1], np.int64)], {}),
    "Softmax": ([_f(3, 7)], {"axis": 1}),
    "Concat": ([_f(2, 3), _f(2, 5)], {"axis": 1}),
    "Identity": ([_f(3)], {}),
}


def test_every_supported_operator_has_a_case():
    assert {case.split("-")[0] for case in CASES} == set(ops.SUPPORTED)


@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_the_onnx_reference(case):
    op_type = case.split("-")[0]
    inputs, attrs = CASES[case]
    names = [f"i{k}" for k in range(len(inputs))]
    node = helper.make_node(op_type, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
         for n, a in zip(names, inputs, strict=True)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    expected = ReferenceEvaluator(model).run(None, dict(zip(names, inputs, strict=True)))[0]
    (result,) = ops.run(op_type, list(inputs), attrs)
    assert result.shape == expected.shape and result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)
