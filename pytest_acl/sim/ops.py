"""The simulator's operator subset, in NumPy, with ONNX semantics.

Both the compiler (to check a graph is supported and to infer shapes) and the executor use
these. Each kernel takes input arrays and the node's attributes and returns output arrays;
semantics follow the ONNX operator specs (opset 13+) for the cases listed in ``SUPPORTED``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Attrs = dict[str, Any]
Kernel = Callable[[list[np.ndarray], Attrs], list[np.ndarray]]


def _gemm(x: list[np.ndarray], a: Attrs) -> list[np.ndarray]:
    A = x[0].T if a.get("transA", 0) else x[0]
    B = x[1].T if a.get("transB", 0) else x[1]
    y = a.get("alpha", 1.0) * (A @ B)
    if len(x) > 2 and x[2] is not None:
        y = y + a.get("beta", 1.0) * x[2]
    return [y.astype(x[0].dtype, copy=False)]


def _softmax(x: list[np.ndarray], a: Attrs) -> list[np.ndarray]:
    axis = a.get("axis", -1)
    shifted = x[0] - x[0].max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return [(e / e.sum(axis=axis, keepdims=True)).astype(x[0].dtype, copy=False)]


def _flatten(x: list[np.ndarray], a: Attrs) -> list[np.ndarray]:
    axis = a.get("axis", 1)
    axis = axis + x[0].ndim if axis < 0 else axis
    outer = int(np.prod(x[0].shape[:axis], dtype=np.int64))
    return [x[0].reshape(outer, -1)]


def _reshape(x: list[np.ndarray], a: Attrs) -> list[np.ndarray]:
    shape = [int(d) for d in x[1]]
    shape = [x[0].shape[i] if d == 0 and not a.get("allowzero", 0) else d
             for i, d in enumerate(shape)]
    return [x[0].reshape(shape)]


def _conv(x: list[np.ndarray], a: Attrs) -> list[np.ndarray]:
    """2-D convolution, NCHW, group 1, via im2col."""
    data, weight = x[0], x[1]
    n, c, h, w = data.shape
    m, _, kh, kw = weight.shape
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    top, left, bottom, right = a.get("pads", [0, 0, 0, 0])
    padded = np.pad(data, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out_h = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + left + right - dw * (kw - 1) - 1) // sw + 1
    cols = np.empty((n, c, kh, kw, out_h, out_w), dtype=data.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = padded[:, :, i * dh:i * dh + sh * out_h:sh,
                                      j * dw:j * dw + sw * out_w:sw]
    y = np.einsum("nckluv,mckl->nmuv", cols, weight, optimize=True)
    if len(x) > 2 and x[2] is not None:
        y = y + x[2].reshape(1, m, 1, 1)
    return [y.astype(data.dtype, copy=False)]


KERNELS: dict[str, Kernel] = {
    "Gemm": _gemm,
    "MatMul": lambda x, a: [np.matmul(x[0], x[1])],
    "Add": lambda x, a: [np.add(x[0], x[1])],
    "Mul": lambda x, a: [np.multiply(x[0], x[1])],
    "Relu": lambda x, a: [np.maximum(x[0], np.zeros((), x[0].dtype))],
    "Sigmoid": lambda x, a: [(1.0 / (1.0 + np.exp(-x[0]))).astype(x[0].dtype, copy=False)],
    "Conv": _conv,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Softmax": _softmax,
    "Concat": lambda x, a: [np.concatenate(x, axis=a["axis"])],
    "Identity": lambda x, a: [x[0]],
}
SUPPORTED = tuple(sorted(KERNELS))
# Inputs that must be known when the model is compiled (they are shapes, not data).
CONSTANT_INPUTS = {"Reshape": (1,)}


def run(op_type: str, inputs: list[np.ndarray], attrs: Attrs) -> list[np.ndarray]:
    return KERNELS[op_type](inputs, attrs)
