"""A small numpy reference evaluator for the ONNX ops our reference models use.

The installed onnx (1.12) predates onnx.reference.ReferenceEvaluator, so
train.py uses this to check an exported graph against PyTorch. It is
deliberately plain (float64 accumulation, no fusion) and independent of
torch. Supported: Conv (group 1), Relu, AveragePool, MaxPool, Pad
(constant), Flatten, Gemm, MatMul, Add, Sub, Mul, Div, Reciprocal, Floor,
Clip, Constant, Identity, Reshape, Shape, Gather, Unsqueeze, Concat.
Anything else raises NotImplementedError.
"""

import numpy as np
from onnx import numpy_helper


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.FLOAT:
            out[a.name] = a.f
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        elif a.type == a.STRING:
            out[a.name] = a.s.decode()
        elif a.type == a.TENSOR:
            out[a.name] = numpy_helper.to_array(a.t)
    return out


def _pad_nchw(x, pads, value):
    """pads = [top, left, bottom, right] (ONNX begin..., end... order)."""
    t, l, b, r = pads
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def _windows(x, kh, kw, sh, sw):
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]))


def _conv(x, w, b, a):
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("Conv: only group=1, dilation=1")
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    x = _pad_nchw(x, a.get("pads", [0, 0, 0, 0]), 0.0)
    win = _windows(np.ascontiguousarray(x, dtype=np.float64), kh, kw, sh, sw)
    y = np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64), optimize=True)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _pool(x, a, kind):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("ceil_mode", 0):
        raise NotImplementedError(f"{kind}: ceil_mode")
    if kind == "MaxPool":
        win = _windows(np.ascontiguousarray(_pad_nchw(x, pads, -np.inf)), kh, kw, sh, sw)
        return win.max(axis=(4, 5))
    xp = np.ascontiguousarray(_pad_nchw(x.astype(np.float64), pads, 0.0))
    s = _windows(xp, kh, kw, sh, sw).sum(axis=(4, 5))
    if a.get("count_include_pad", 0) or not any(pads):
        return s / (kh * kw)
    ones = np.ascontiguousarray(_pad_nchw(np.ones((1, 1) + x.shape[2:]), pads, 0.0))
    return s / _windows(ones, kh, kw, sh, sw).sum(axis=(4, 5))


def _pad(x, pads, value, mode):
    if mode != "constant":
        raise NotImplementedError(f"Pad mode {mode}")
    r = x.ndim
    return np.pad(x, [(int(pads[i]), int(pads[i + r])) for i in range(r)],
                  constant_values=value)


def run(model, feeds):
    """Evaluate model.graph on feeds (name -> ndarray); return all graph outputs."""
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        a = _attrs(node)
        x = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            y = _conv(x[0], x[1], x[2] if len(x) > 2 else None, a)
        elif op in ("AveragePool", "MaxPool"):
            y = _pool(x[0], a, op)
        elif op == "Pad":
            v = x[2] if len(x) > 2 and x[2] is not None else 0.0
            y = _pad(x[0], x[1], float(v), a.get("mode", "constant"))
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A.astype(np.float64) @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "MatMul":
            y = x[0].astype(np.float64) @ x[1]
        elif op == "Add":
            y = x[0] + x[1]
        elif op == "Sub":
            y = x[0] - x[1]
        elif op == "Mul":
            y = x[0] * x[1]
        elif op == "Div":
            y = x[0] / x[1]
        elif op == "Reciprocal":
            y = 1.0 / x[0]
        elif op == "Floor":
            y = np.floor(x[0])
        elif op == "Clip":
            lo = x[1] if len(x) > 1 and x[1] is not None else -np.inf
            hi = x[2] if len(x) > 2 and x[2] is not None else np.inf
            y = np.clip(x[0], lo, hi)
        elif op == "Constant":
            y = a["value"]
        elif op == "Identity":
            y = x[0]
        elif op == "Reshape":
            shape = [int(s) if s != 0 else x[0].shape[i] for i, s in enumerate(x[1])]
            y = x[0].reshape(shape)
        elif op == "Shape":
            y = np.array(x[0].shape, dtype=np.int64)
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) for v in x[1]):
                y = np.expand_dims(y, ax)
        elif op == "GlobalAveragePool":
            y = x[0].mean(axis=(2, 3), keepdims=True, dtype=np.float64)
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        else:
            raise NotImplementedError(f"onnxref: op {op} (node {node.name})")
        if isinstance(y, np.ndarray) and y.dtype == np.float64:
            y = y.astype(np.float32)  # ONNX tensors here are float32
        env[node.output[0]] = y
    return {o.name: env[o.name] for o in model.graph.output}
