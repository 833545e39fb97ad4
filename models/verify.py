#!/usr/bin/python3
"""Check an exported model: onnx.checker, metadata, and its outputs.

  /usr/bin/python3 models/verify.py MODEL.onnx [--n 256] [--ort-logits FILE]

Runs the graph with the numpy reference evaluator (onnxref.py) on the first
--n test images of the dataset named in ann2snn.dataset, preprocessed as the
metadata says, and prints its accuracy on them. With --ort-logits (raw
float32 logits written by `node bench/ort_bench.mjs MODEL --images N
--logits FILE`) it also compares onnxruntime's logits with the reference
evaluator's, image by image. Exits 1 on a disagreement.
"""

import argparse
import os
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnxref  # noqa: E402
import train  # noqa: E402


def load_test(name, repo):
    if name == "mnist":
        d = train.mnist_dir(repo)
    elif name == "fashion-mnist":
        d = train.FASHION_DIR
    elif name == "cifar10":
        return train.read_cifar(os.path.join(train.CIFAR_DIR, "test_batch.bin.gz"))
    else:
        raise SystemExit(f"unknown ann2snn.dataset {name!r}")
    x = train.read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))[:, None]
    y = train.read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    return x, y


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("--n", type=int, default=256, help="test images to run")
    p.add_argument("--ort-logits", help="float32 logits from ort_bench.mjs --logits")
    p.add_argument("--tol", type=float, default=1e-3, help="max |ort - ref| allowed")
    p.add_argument("--repo", default=os.path.dirname(HERE))
    a = p.parse_args(argv)

    m = onnx.load(a.model)
    onnx.checker.check_model(m, full_check=True)
    md = {e.key: e.value for e in m.metadata_props}
    print(f"{a.model}: onnx.checker ok, opset {m.opset_import[0].version}, "
          f"ops {sorted({n.op_type for n in m.graph.node})}")
    for k, v in sorted(md.items()):
        print(f"  {k} = {v}")
    if "ann2snn.dataset" not in md:
        raise SystemExit("no ann2snn.dataset metadata")

    x, y = load_test(md["ann2snn.dataset"], a.repo)
    x, y = x[:a.n], y[:a.n]
    xf = x.astype(np.float32) * np.float32(float(md.get("ann2snn.scale", 1 / 255)))
    if "ann2snn.mean" in md:
        mean = np.array([float(v) for v in md["ann2snn.mean"].split(",")], np.float32)
        std = np.array([float(v) for v in md["ann2snn.std"].split(",")], np.float32)
        xf = (xf - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)
    ref = np.concatenate([onnxref.run(m, {"input": xf[i:i + 64]})["logits"]
                          for i in range(0, len(xf), 64)])
    print(f"reference evaluator: accuracy {np.mean(ref.argmax(1) == y):.4f} on {len(y)} images")

    if a.ort_logits:
        ort = np.fromfile(a.ort_logits, dtype=np.float32)
        if ort.size < ref.size:
            raise SystemExit(f"{a.ort_logits}: {ort.size} values, need {ref.size}")
        ort = ort[:ref.size].reshape(ref.shape)
        diff = float(np.abs(ort - ref).max())
        agree = int((ort.argmax(1) == ref.argmax(1)).sum())
        print(f"onnxruntime vs reference: max|diff| {diff:.2e}, argmax agree {agree}/{len(ref)}")
        if diff > a.tol:
            sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
