#!/usr/bin/python3
"""Write a 224x224 calibration set for the large-input measurements of
docs/methods.md ("Large inputs").

  /usr/bin/python3 calibrate/testdata/calib224.py [--out /tmp/h6] [--n 1024]
      [--test 64] [--cifar /work/shared/datasets/cifar10]

OUT/calib224_u8.npy   uint8 [N,3,224,224]: the first N records of CIFAR-10
                      data_batch_1 (.. data_batch_5 when N > 10000), each
                      resized to 224x224 with torchvision's bilinear Resize
                      on the uint8 tensor (no antialias), rounded to uint8.
OUT/calib224_labels.npy int64 [N] their labels.
OUT/test224_u8.npy    uint8 [T,3,224,224]: the first T CIFAR-10 test
                      images, resized the same way.
OUT/test224.npy       float32: the same, /255 and ImageNet mean/std
                      normalised (for onnxruntime, which gets no
                      preprocessing).
OUT/test224_labels.npy int64 [T].
The models (resnet18, mobilenet_v2) come from bench/torchvision/export.py.
"""
import argparse
import gzip
import os

import numpy as np
import torch
from torchvision import transforms

REC = 1 + 3 * 32 * 32
MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)


def read(path, n):
    if not os.path.exists(path):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = np.frombuffer(f.read(n * REC), np.uint8).reshape(-1, REC)
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def resize(pix):
    r = transforms.Resize((224, 224), interpolation=transforms.InterpolationMode.BILINEAR)
    out = np.empty((len(pix), 3, 224, 224), np.uint8)
    for i in range(0, len(pix), 64):
        out[i:i + 64] = r(torch.from_numpy(pix[i:i + 64].copy())).numpy()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/h6")
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--test", type=int, default=64)
    ap.add_argument("--cifar", default="/work/shared/datasets/cifar10")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    pix, lab = [], []
    for b in range(1, 6):  # data_batch_b.bin or .bin.gz
        if sum(len(p) for p in pix) >= a.n:
            break
        p, l = read(os.path.join(a.cifar, f"data_batch_{b}.bin"), a.n)
        pix.append(p)
        lab.append(l)
    pix, lab = np.concatenate(pix)[:a.n], np.concatenate(lab)[:a.n]
    np.save(os.path.join(a.out, "calib224_u8.npy"), resize(pix))
    np.save(os.path.join(a.out, "calib224_labels.npy"), lab)
    p, l = read(os.path.join(a.cifar, "test_batch.bin"), a.test)
    u8 = resize(p)
    np.save(os.path.join(a.out, "test224_u8.npy"), u8)
    x = (u8.astype(np.float32) / 255 - MEAN) / STD
    np.save(os.path.join(a.out, "test224.npy"), x.astype(np.float32))
    np.save(os.path.join(a.out, "test224_labels.npy"), l)


if __name__ == "__main__":
    main()
