#!/usr/bin/python3
"""Generates dynamo-style ONNX test models (importer/testdata/dynamo_*).

torch 1.13 has no dynamo exporter, so these graphs are written with
python3-onnx's helper in exactly the op forms that
torch.onnx.export(..., dynamo=True) emits at opset 18: ReduceMean with axes
as an input, Split with num_outputs, initializers in an external .data file,
Cast nodes, shape arithmetic with Shape/Gather/Range/Cast/Equal/Expand/
ConstantOfShape/Where, LayerNormalization, nearest Resize with scales or
sizes inputs, BatchNormalization without training outputs, and a
MatMul + Add head; plus Gelu at opset 20.

Run from this directory (needs Debian's python3-onnx and numpy, node, and
onnxruntime-node in bench/node_modules):
    /usr/bin/python3 gen_dynamo.py
Each case NAME writes NAME.onnx (dynamo_resnet also NAME.onnx.data),
NAME.in.pb (input) and NAME.out.pb, the output that onnxruntime computes
(ort_run.mjs). Go tests never run Python or node.
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

rng = np.random.default_rng(2026)
HERE = os.path.dirname(os.path.abspath(__file__))
F = TensorProto.FLOAT


class Builder:
    """Names nodes node_Op_k and values val_k, as the dynamo exporter does."""

    def __init__(self):
        self.nodes, self.inits, self.k = [], [], 0

    def op(self, op, inputs, n_out=1, **attrs):
        outs = [f"val_{self.k + i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=f"node_{op}_{self.k}", **attrs))
        self.k += n_out
        return outs[0] if n_out == 1 else outs

    def const(self, value):
        """A Constant node (how dynamo emits axes, scalars and shapes)."""
        return self.op("Constant", [], value=numpy_helper.from_array(np.asarray(value)))

    def init(self, name, value):
        self.inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name


def save(name, b, y, x, in_shape, opset, external=False, ir=8):
    g = helper.make_graph(
        b.nodes, "main_graph",
        [helper.make_tensor_value_info("x", F, in_shape)],
        [helper.make_tensor_value_info(y, F, None)],
        initializer=b.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="pytorch", producer_version="2.5.0")
    m.ir_version = ir
    path = os.path.join(HERE, name + ".onnx")
    if external:
        onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                  location=name + ".onnx.data", size_threshold=0)
    else:
        onnx.save(m, path)
    onnx.save_tensor(numpy_helper.from_array(x, "x"), os.path.join(HERE, name + ".in.pb"))
    with tempfile.TemporaryDirectory() as tmp:
        xin, yout = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.f32")
        x.astype(np.float32).tofile(xin)
        dims = json.loads(subprocess.check_output(
            ["node", os.path.join(HERE, "ort_run.mjs"), path, xin, json.dumps(list(x.shape)), yout]))
        out = np.fromfile(yout, np.float32).reshape(dims)
    onnx.save_tensor(numpy_helper.from_array(out, y), os.path.join(HERE, name + ".out.pb"))
    print(name, x.shape, "->", out.shape)


def conv_bn(b, h, name, cin, cout, k, stride):
    w = b.init(name + ".conv.weight", rng.standard_normal((cout, cin, k, k)) * np.sqrt(2 / (cin * k * k)))
    h = b.op("Conv", [h, w], strides=[stride, stride], pads=[k // 2] * 4,
             dilations=[1, 1], group=1)
    bn = [b.init(name + ".bn." + p, v) for p, v in (
        ("weight", rng.uniform(0.5, 1.5, cout)), ("bias", rng.standard_normal(cout) * 0.1),
        ("running_mean", rng.standard_normal(cout) * 0.1), ("running_var", rng.uniform(0.5, 1.5, cout)))]
    return b.op("BatchNormalization", [h] + bn, epsilon=1e-5, momentum=0.9)


def resnet():
    """A small ResNet: stem, an identity block, a downsampling block with a
    1x1 shortcut, ReduceMean over (2, 3) with axes as an input, and a
    MatMul + Add head; weights in dynamo_resnet.onnx.data."""
    b = Builder()
    h = b.op("Relu", [conv_bn(b, "x", "stem", 3, 8, 3, 1)])
    t = b.op("Relu", [conv_bn(b, h, "layer1.0.1", 8, 8, 3, 1)])
    t = conv_bn(b, t, "layer1.0.2", 8, 8, 3, 1)
    h = b.op("Relu", [b.op("Add", [t, h])])
    t = b.op("Relu", [conv_bn(b, h, "layer2.0.1", 8, 16, 3, 2)])
    t = conv_bn(b, t, "layer2.0.2", 16, 16, 3, 1)
    s = conv_bn(b, h, "layer2.0.downsample", 8, 16, 1, 2)
    h = b.op("Relu", [b.op("Add", [t, s])])
    p = b.op("ReduceMean", [h, b.const(np.array([-1, -2], np.int64))], keepdims=0)
    p = b.op("Cast", [p], to=F)
    w = b.init("fc.weight.T", rng.standard_normal((16, 10)) * 0.3)
    fb = b.init("fc.bias", rng.standard_normal(10) * 0.1)
    y = b.op("Add", [b.op("MatMul", [p, w]), fb])
    x = rng.standard_normal((3, 3, 8, 8)).astype(np.float32)
    save("dynamo_resnet", b, y, x, ["s0", 3, 8, 8], 18, external=True)


def shapes():
    """LayerNormalization, Split(num_outputs) and a SiLU-style gate, then a
    mask built from shape arithmetic that folds to a constant:
    Where(Expand(Equal(Cast(Range(0, Shape(x)[1], 1)), 2)), ConstantOfShape(-1), .)
    and a Reshape to [Shape(x)[0], -1]."""
    b = Builder()
    ln = b.op("LayerNormalization", ["x", b.init("ln.weight", rng.uniform(0.5, 1.5, 6)),
                                     b.init("ln.bias", rng.standard_normal(6) * 0.1)],
              axis=-1, epsilon=1e-5)
    a, c = b.op("Split", [ln], n_out=2, axis=-1, num_outputs=2)
    g = b.op("Mul", [a, b.op("Sigmoid", [c])])
    s = b.op("Shape", ["x"])
    d1 = b.op("Gather", [s, b.const(np.array(1, np.int64))], axis=0)
    r = b.op("Range", [b.const(np.array(0, np.int64)), d1, b.const(np.array(1, np.int64))])
    eq = b.op("Equal", [b.op("Cast", [r], to=F), b.const(np.array(2, np.float32))])
    eq = b.op("Unsqueeze", [eq, b.const(np.array([-1], np.int64))])
    sg = b.op("Shape", [g])
    mask = b.op("Expand", [eq, sg])
    fill = b.op("ConstantOfShape", [sg], value=numpy_helper.from_array(np.array([-1], np.float32)))
    w = b.op("Where", [mask, fill, g])
    n = b.op("Unsqueeze", [b.op("Gather", [s, b.const(np.array(0, np.int64))], axis=0),
                           b.const(np.array([0], np.int64))])
    shape = b.op("Concat", [n, b.const(np.array([-1], np.int64))], axis=0)
    y = b.op("Reshape", [w, b.op("Cast", [shape], to=TensorProto.INT64)])
    x = rng.standard_normal((2, 4, 6)).astype(np.float32)
    save("dynamo_shapes", b, y, x, [2, 4, 6], 18)


def elementwise():
    """Pow, Sqrt, HardSwish, HardSigmoid (torch's alpha 1/6), Erf, variadic
    Sum/Max/Min with broadcasting, and ReduceMax/ReduceSum/ReduceMin with
    axes inputs, keepdims and noop_with_empty_axes."""
    b = Builder()
    p = b.op("Pow", ["x", b.const(np.array(2, np.float32))])
    s = b.op("Sqrt", [b.op("Add", [p, b.const(np.array(1, np.float32))])])
    hs = b.op("HardSwish", ["x"])
    hg = b.op("HardSigmoid", ["x"], alpha=1 / 6, beta=0.5)
    e = b.op("Erf", ["x"])
    sm = b.op("Sum", [s, hs, e])
    mx = b.op("Max", [sm, hg, b.const(np.array([[0.5]], np.float32))])
    mn = b.op("Min", [mx, b.const(np.array(2.5, np.float32))])
    rmax = b.op("ReduceMax", [mn, b.const(np.array([1], np.int64))], keepdims=1)
    rsum = b.op("ReduceSum", [mn, b.const(np.array([2, 3], np.int64))], keepdims=1)
    noop = b.op("ReduceSum", [mn, b.const(np.array([], np.int64))], keepdims=1, noop_with_empty_axes=1)
    rmin = b.op("ReduceMin", [mn], keepdims=0)
    y = b.op("Add", [b.op("Add", [b.op("Sub", [noop, rmax]), rsum]), rmin])
    x = (rng.standard_normal((2, 3, 4, 4)) * 3).astype(np.float32)
    save("dynamo_elementwise", b, y, x, [2, 3, 4, 4], 18)


def resize():
    """nn.Upsample(scale_factor=2, mode='nearest') as exported (asymmetric,
    floor, scales input), the same by sizes, and a sizes+axes resize with
    the default half_pixel/round_prefer_floor."""
    b = Builder()
    attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    u = b.op("Resize", ["x", "", b.const(np.array([1, 1, 2, 2], np.float32))], **attrs)
    v = b.op("Resize", ["x", "", "", b.const(np.array([1, 2, 6, 6], np.int64))], **attrs)
    w = b.op("Resize", ["x", "", "", b.const(np.array([5, 7], np.int64))], mode="nearest", axes=[2, 3])
    flat = b.const(np.array([1, -1], np.int64))
    y = b.op("Concat", [b.op("Reshape", [b.op("Add", [u, v]), flat]), b.op("Reshape", [w, flat])], axis=1)
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    save("dynamo_resize", b, y, x, [1, 2, 3, 3], 18)


def gelu():
    """Gelu (opset 20), exact and tanh approximation."""
    b = Builder()
    y = b.op("Add", [b.op("Gelu", ["x"]), b.op("Gelu", ["x"], approximate="tanh")])
    x = np.linspace(-5, 5, 24, dtype=np.float32).reshape(2, 3, 4)
    save("gelu_opset20", b, y, x, [2, 3, 4], 20, ir=9)


resnet()
shapes()
elementwise()
resize()
gelu()
