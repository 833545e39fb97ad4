#!/usr/bin/python3
"""Compare two sets of logits: max relative error and top-1 agreement.

  compare.py GOT REF [--classes 1000] [--got-scale S] [--images N]

GOT and REF are raw little-endian float32 files (images x classes, the layout
of `ann2snn eval --logits` and ort_logits.mjs) or .npy files. Prints one JSON
line:
  {"images", "classes", "max_rel_err", "max_abs_err", "ref_max_abs",
   "top1_agree", "ref_distinct_top1", "ref_margin_median", "finite"}
where max_rel_err = max|got - ref| / max|ref| over all logits, top1_agree is
the fraction of images whose argmax agree (ties: numpy's first index) and
ref_distinct_top1 is how many distinct classes REF's argmax takes (a
degenerate network predicting one class everywhere makes top-1 agreement
meaningless); ref_margin_median is the median over images of REF's
top-1 minus top-2 logit, over max|REF| (how far a relative error of that
size may go before a top-1 flips). --images N compares the first N images
only (REF may hold more). --got-scale multiplies GOT first (an SNN's logits summed over T
steps times 1/T are on the ANN's scale). Exit status 1 when the files cannot be compared (missing,
empty, wrong size, non-finite values are reported, not fatal).
"""

import argparse
import json
import sys

import numpy as np


def load(path, classes):
    if path.endswith(".npy"):
        a = np.load(path).astype(np.float32)
        return a.reshape(a.shape[0], -1)
    a = np.fromfile(path, dtype="<f4")
    if a.size == 0 or a.size % classes:
        raise ValueError(f"{path}: {a.size} floats is not a whole number of {classes}-class rows")
    return a.reshape(-1, classes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("got")
    ap.add_argument("ref")
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--got-scale", type=float, default=1.0)
    ap.add_argument("--images", type=int, default=0)
    a = ap.parse_args()
    try:
        g, r = load(a.got, a.classes), load(a.ref, a.classes)
    except (OSError, ValueError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        sys.exit(1)
    if a.images > 0:
        if g.shape[0] < a.images or r.shape[0] < a.images:
            print(f"compare.py: --images {a.images}: {a.got} has {g.shape[0]}, {a.ref} {r.shape[0]}", file=sys.stderr)
            sys.exit(1)
        g, r = g[:a.images], r[:a.images]
    if g.shape != r.shape:
        print(f"compare.py: {a.got} has shape {g.shape}, {a.ref} has {r.shape}", file=sys.stderr)
        sys.exit(1)
    gf, rf = g.astype(np.float64) * a.got_scale, r.astype(np.float64)
    ref_max = float(np.abs(rf).max())
    abs_err = float(np.abs(gf - rf).max())
    out = {
        "images": int(g.shape[0]), "classes": int(g.shape[1]),
        "max_rel_err": abs_err / ref_max if ref_max > 0 else float("inf"),
        "max_abs_err": abs_err, "ref_max_abs": ref_max,
        "top1_agree": float((g.argmax(1) == r.argmax(1)).mean()),
        "ref_distinct_top1": int(len(np.unique(r.argmax(1)))),
        "ref_margin_median": float(np.median(np.diff(np.sort(rf, axis=1)[:, -2:], axis=1))) / ref_max if ref_max > 0 else 0.0,
        "finite": bool(np.isfinite(g).all() and np.isfinite(r).all()),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
