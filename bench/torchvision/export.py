#!/usr/bin/python3
"""Export the torchvision architecture zoo to ONNX with seeded random weights.

For every architecture (see ARCHS) and opset (13, 17 by default) this writes
OUT/{arch}_op{opset}.onnx with torch.onnx.export (the TorchScript exporter),
eval mode, input "input" [N,3,224,224] and output "logits" [N,1000], both
with a dynamic batch axis. Existing files are kept unless --force.

Weights are deterministic: torch.manual_seed(seed + crc32(arch)) before the
model is built (torchvision's own initialisers), then every BatchNorm gets
non-trivial statistics and affine parameters from a generator seeded the same
way: running_mean ~ N(0, 0.1), running_var ~ U(0.5, 1.5),
weight ~ U(0.5, 1.5), bias ~ N(0, 0.1). LayerNorm / GroupNorm affine
parameters get the same weight/bias distributions.

It also writes, once (or with --force):
  OUT/x224.npy        32 float32 images [32,3,224,224]: the first 32 CIFAR-10
                      test images, resized to 224x224 (bilinear, torchvision
                      transforms.Resize on [0,1] tensors) and normalised with
                      the ImageNet mean/std. Used as given (no /255).
  OUT/y224.npy        their int64 labels.
  OUT/x224_calib.npy  64 calibration images, same preprocessing, from the
                      first records of data_batch_1 (training split).
  OUT/y224_calib.npy  their labels.
and per architecture OUT/{arch}.torch.npy: PyTorch's own float32 logits
[32,1000] on x224.npy, a second reference next to onnxruntime.

Usage:
  /usr/bin/python3 bench/torchvision/export.py [--out /tmp/tvzoo]
      [--arch resnet18,vgg11 ...] [--opsets 13,17] [--seed 0] [--force]
      [--no-torch-logits] [--cifar DIR]
"""

import argparse
import gzip
import os
import sys
import time
import zlib

import numpy as np
import torch
import torchvision
from torchvision import models, transforms

# ReLU family first, then the architectures convert must refuse.
RELU_ARCHS = [
    "resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16",
    "vgg16_bn", "mobilenet_v2", "densenet121", "googlenet", "squeezenet1_1",
    "shufflenet_v2_x0_5", "regnet_x_400mf", "resnext50_32x4d", "mnasnet0_5",
]
NON_RELU_ARCHS = ["efficientnet_b0", "mobilenet_v3_small", "convnext_tiny", "vit_b_16"]
ARCHS = RELU_ARCHS + NON_RELU_ARCHS

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CIFAR_RECORD = 1 + 3 * 32 * 32


def arch_seed(seed, arch):
    return (seed + zlib.crc32(arch.encode())) & 0x7FFFFFFF


def build(arch, seed):
    torch.manual_seed(arch_seed(seed, arch))
    kw = {"weights": None, "num_classes": 1000}
    if arch == "googlenet":
        kw.update(aux_logits=False, init_weights=True, transform_input=False)
    m = getattr(models, arch)(**kw)
    g = torch.Generator().manual_seed(arch_seed(seed, arch) ^ 0x5EED)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                n = mod.num_features
                mod.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                if mod.affine:
                    mod.weight.copy_(torch.rand(n, generator=g) + 0.5)
                    mod.bias.copy_(torch.randn(n, generator=g) * 0.1)
            elif isinstance(mod, torch.nn.Linear) and not mod.weight.any():
                # torchvision zero-initialises ViT's head: its logits would
                # all be 0 and the logit comparison would say nothing.
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * 0.02)
            elif isinstance(mod, (torch.nn.LayerNorm, torch.nn.GroupNorm)):
                if getattr(mod, "weight", None) is not None:
                    mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) + 0.5)
                if getattr(mod, "bias", None) is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.1)
    return m.eval()


def read_cifar(path, n):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        buf = f.read(n * CIFAR_RECORD)
    if len(buf) != n * CIFAR_RECORD:
        sys.exit(f"export.py: {path}: want {n} records, file has {len(buf) // CIFAR_RECORD}")
    rec = np.frombuffer(buf, dtype=np.uint8).reshape(n, CIFAR_RECORD)
    return rec[:, 1:].reshape(n, 3, 32, 32), rec[:, 0].astype(np.int64)


def preprocess(pix):
    x = torch.from_numpy(pix.astype(np.float32) / 255.0)
    x = transforms.Resize((224, 224), interpolation=transforms.InterpolationMode.BILINEAR)(x)
    x = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)(x)
    return np.ascontiguousarray(x.numpy().astype(np.float32))


def find_batch(cifar, name):
    for cand in (name + ".gz", name):
        p = os.path.join(cifar, cand)
        if os.path.exists(p):
            return p
    sys.exit(f"export.py: no {name}[.gz] in {cifar}")


def write_data(out, cifar, force):
    sets = [("x224.npy", "y224.npy", "test_batch.bin", 32),
            ("x224_calib.npy", "y224_calib.npy", "data_batch_1.bin", 64)]
    for xn, yn, batch, n in sets:
        xp, yp = os.path.join(out, xn), os.path.join(out, yn)
        if os.path.exists(xp) and os.path.exists(yp) and not force:
            continue
        pix, lab = read_cifar(find_batch(cifar, batch), n)
        atomic_save(xp, preprocess(pix))
        atomic_save(yp, lab)
        print(f"wrote {xp} {yp} ({n} images from {batch})", flush=True)


def atomic_save(path, arr):
    tmp = path + ".tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, path)


def export(m, path, opset):
    tmp = path + ".tmp"
    dummy = torch.zeros(1, 3, 224, 224)
    torch.onnx.export(m, dummy, tmp, opset_version=opset, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/tvzoo")
    ap.add_argument("--arch", default=",".join(ARCHS), help="comma-separated architectures")
    ap.add_argument("--opsets", default="13,17")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--no-torch-logits", action="store_true")
    ap.add_argument("--cifar", default=os.environ.get("ANN2SNN_CIFAR10_DIR", "/work/shared/datasets/cifar10"))
    a = ap.parse_args()
    archs = [s for s in a.arch.split(",") if s]
    for s in archs:
        if s not in ARCHS:
            sys.exit(f"export.py: unknown architecture {s!r}; known: {', '.join(ARCHS)}")
    opsets = [int(s) for s in a.opsets.split(",") if s]
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    print(f"torch {torch.__version__} torchvision {torchvision.__version__}", flush=True)
    write_data(a.out, a.cifar, a.force)
    x = torch.from_numpy(np.load(os.path.join(a.out, "x224.npy")))
    for arch in archs:
        todo = [o for o in opsets
                if a.force or not os.path.exists(os.path.join(a.out, f"{arch}_op{o}.onnx"))]
        lp = os.path.join(a.out, f"{arch}.torch.npy")
        want_logits = not a.no_torch_logits and (a.force or not os.path.exists(lp))
        if not todo and not want_logits:
            continue
        m = build(arch, a.seed)
        for o in todo:
            t0 = time.time()
            p = os.path.join(a.out, f"{arch}_op{o}.onnx")
            try:
                export(m, p, o)
                print(f"{arch} opset {o}: {p} ({os.path.getsize(p) / 1e6:.1f} MB, {time.time() - t0:.1f} s)", flush=True)
            except Exception as e:  # report and continue with the next one
                print(f"{arch} opset {o}: EXPORT FAILED: {type(e).__name__}: {e}", flush=True)
        if want_logits:
            t0 = time.time()
            with torch.no_grad():
                y = torch.cat([m(x[i:i + 8]) for i in range(0, x.shape[0], 8)])
            atomic_save(lp, y.numpy().astype(np.float32))
            print(f"{arch}: torch logits {lp} (max|y| {y.abs().max().item():.3g}, {time.time() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
