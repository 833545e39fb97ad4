#!/usr/bin/python3
"""Generates the small ONNX test models of importer/testdata.

Run from this directory with Debian's python3-onnx and numpy:
    /usr/bin/python3 gen.py
Each case NAME writes NAME.onnx, NAME.in.pb (input) and NAME.out.pb
(expected output, computed here with numpy). Go tests never run Python.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

rng = np.random.default_rng(7)


def save(name, nodes, inits, x, y, opset, shape_in=None, ir=None, external=False):
    shape_in = shape_in or list(x.shape)
    g = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape_in)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="gen.py")
    if ir is not None:
        m.ir_version = ir
    helper.set_model_props(m, {"ann2snn.dataset": "test"})
    if external:
        onnx.save(m, name + ".onnx", save_as_external_data=True,
                  all_tensors_to_one_file=True, location=name + ".bin",
                  size_threshold=0)
    else:
        onnx.save(m, name + ".onnx")
    onnx.save_tensor(numpy_helper.from_array(x, "x"), name + ".in.pb")
    onnx.save_tensor(numpy_helper.from_array(y.astype(np.float32), "y"), name + ".out.pb")


x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32) * 3

# Clip: attributes (opset 6) vs inputs (opset 13).
save("clip_opset6", [helper.make_node("Clip", ["x"], ["y"], min=-1.0, max=2.0)],
     {}, x, np.clip(x, -1, 2), 6, ir=3)
save("clip_opset13", [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])],
     {"lo": np.array(-1, np.float32), "hi": np.array(2, np.float32)}, x, np.clip(x, -1, 2), 13)

# Squeeze/Unsqueeze: axes attribute (opset 11) vs input (opset 13).
save("squeeze_opset11", [helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0]),
                         helper.make_node("Squeeze", ["u"], ["y"], axes=[0])],
     {}, x, x, 11)
save("squeeze_opset13", [helper.make_node("Unsqueeze", ["x", "ax"], ["u"]),
                         helper.make_node("Squeeze", ["u", "ax"], ["y"])],
     {"ax": np.array([0], np.int64)}, x, x, 13)

# Pad: attributes (opset 2) vs inputs (opset 13).
pads = [0, 0, 1, 2, 0, 0, 2, 1]
xp = np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 1)], constant_values=0.5)
save("pad_opset2", [helper.make_node("Pad", ["x"], ["y"], pads=pads, value=0.5)], {}, x, xp, 2, ir=3)
save("pad_opset13", [helper.make_node("Pad", ["x", "p", "v"], ["y"])],
     {"p": np.array(pads, np.int64), "v": np.array(0.5, np.float32)}, x, xp, 13)

# Conv whose weights live in an external data file.
w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
b = rng.standard_normal(5).astype(np.float32)
def conv(x, w, b):
    n, c, h, wd = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    y = np.zeros((n, w.shape[0], h, wd), np.float32)
    for i in range(h):
        for j in range(wd):
            y[:, :, i, j] = np.tensordot(xp[:, :, i:i+3, j:j+3], w, axes=([1, 2, 3], [1, 2, 3]))
    return y + b[None, :, None, None]
save("conv_external", [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])],
     {"w": w, "b": b}, x, conv(x, w, b), 13, external=True)

# float16 initializer (onnx-go cannot decode float16; the importer converts).
h = rng.standard_normal((1, 3, 1, 1)).astype(np.float16)
save("mul_float16", [helper.make_node("Mul", ["x", "h"], ["y"])], {"h": h}, x, x * h.astype(np.float32), 13)

# Mul(x, x): two edges between the same pair of values.
save("mul_same", [helper.make_node("Mul", ["x", "x"], ["y"])], {}, x, x * x, 13)

# torch's flatten pattern on a runtime shape: Shape->Gather->Unsqueeze->Concat->Reshape.
save("flatten_chain", [
    helper.make_node("Shape", ["x"], ["s"]),
    helper.make_node("Constant", [], ["i0"], value=numpy_helper.from_array(np.array(0, np.int64))),
    helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
    helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
    helper.make_node("Concat", ["n1", "m1"], ["shape"], axis=0),
    helper.make_node("Reshape", ["x", "shape"], ["y"]),
], {"ax": np.array([0], np.int64), "m1": np.array([-1], np.int64)}, x, x.reshape(2, -1), 13,
    shape_in=["batch", 3, 4, 4])

# QCFS-like chain on initializers with Identity and Dropout to remove.
lam = np.array(2.5, np.float32)
L = np.array(4.0, np.float32)
q = np.clip(np.floor(x * (1 / lam) * L + 0.5), 0, 4) * (lam / L)
save("qcfs_chain", [
    helper.make_node("Identity", ["x"], ["xi"]),
    helper.make_node("Reciprocal", ["lam"], ["r"]),
    helper.make_node("Mul", ["xi", "r"], ["a"]),
    helper.make_node("Mul", ["a", "L"], ["b"]),
    helper.make_node("Add", ["b", "half"], ["c"]),
    helper.make_node("Floor", ["c"], ["d"]),
    helper.make_node("Clip", ["d", "zero", "L"], ["e"]),
    helper.make_node("Div", ["lam", "L"], ["s"]),
    helper.make_node("Mul", ["e", "s"], ["f"]),
    helper.make_node("Dropout", ["f"], ["y"]),
], {"lam": lam, "L": L, "half": np.array(0.5, np.float32), "zero": np.array(0, np.float32)},
    x, q, 13, shape_in=["batch", 3, 4, 4])

# Softmax before opset 13 coerces the input to 2-D.
e = np.exp(x.reshape(2, -1) - x.reshape(2, -1).max(axis=1, keepdims=True))
save("softmax_opset11", [helper.make_node("Softmax", ["x"], ["y"], axis=1)], {}, x,
     (e / e.sum(axis=1, keepdims=True)).reshape(x.shape), 11)
