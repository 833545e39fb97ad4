#!/usr/bin/python3
"""Read a NIR file written by `ann2snn export` back with h5py and compare
every weight, bias and threshold with the .snn model it was exported from.

    /usr/bin/python3 bench/nir_readback.py model.snn model.nir [...pairs]

The .snn file is parsed here from docs/format.md (JSON header, float32 data
section), not with ann2snn's code; the NIR file with h5py, as nir.read
does. The expected NIR values follow the fold snnrt/nir documents: spikes
are worth θ in snnrt and 1 in NIR, so the weights reading an IF layer are
multiplied by its θ (per input channel); a per-channel θ is folded into
the output channels of the layer in front of the IF (weight and bias
divided by θ[k], NIR threshold 1) and a layer-wide θ stays the IF's
v_threshold; every IF has r = 1 (and v_reset = 0 from NIR 1.0.6 on). Node
names are the layer kind and index ("conv0", "if1", "linear6").

Only chains of conv, linear, if, avgpool, globalavgpool and flatten layers
are checked (a residual add or a diagonal rescaling node is reported as not
checked and fails). Prints one line per parameter and a summary per file;
exits 1 on any mismatch beyond float32 rounding (1e-6 relative).
"""
import json
import struct
import sys

import h5py
import numpy as np

ROUTING = {"avgpool", "globalavgpool", "flatten"}


def read_snn(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"ANN2SNN\n":
        raise SystemExit("%s: not a .snn file" % path)
    (version,) = struct.unpack_from("<I", data, 8)
    (hlen,) = struct.unpack_from("<Q", data, 12)
    if version != 1:
        raise SystemExit("%s: .snn version %d" % (path, version))
    hdr = json.loads(data[20:20 + hlen].decode())
    body = data[20 + hlen:-4]
    tensors = []
    for t in hdr["tensors"]:
        a = np.frombuffer(body, dtype="<f4", count=t["length"] // 4, offset=t["offset"])
        tensors.append(a.reshape(t["shape"]))
    layers = []
    for l in hdr["layers"]:
        p = {k: tensors[i] for k, i in l.get("params", {}).items()}
        layers.append({"kind": l["kind"], "inputs": l["inputs"], "shape": l["shape"], "p": p})
    return layers


def compare(name, got, want, errs, lines):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        errs.append("%s: shape %s, want %s" % (name, got.shape, want.shape))
        return
    err = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))) if got.size else 0.0
    ok = err <= 1e-6
    lines.append("  %-26s %-14s max rel. err %.1e %s" % (name, str(tuple(got.shape)), err, "ok" if ok else "MISMATCH"))
    if not ok:
        errs.append("%s: max relative error %g" % (name, err))


def check(snn_path, nir_path):
    layers = read_snn(snn_path)
    errs, lines = [], []
    readers = {}
    for i, l in enumerate(layers):
        for j in l["inputs"]:
            readers.setdefault(j, []).append(i)

    def theta(i):
        return layers[i]["p"]["theta"].astype(np.float64)

    def spike_scale(i):
        """Per-channel value of one NIR unit of layer i's output, in snnrt units."""
        while i >= 0 and layers[i]["kind"] in ROUTING:
            i = layers[i]["inputs"][0]
        if i < 0:
            return None  # the analog input
        if layers[i]["kind"] == "if":
            return theta(i)
        return None

    def out_fold(i):
        """The per-channel θ folded into synaptic layer i's output, or None."""
        r = readers.get(i, [])
        if len(r) == 1 and layers[r[0]]["kind"] == "if" and theta(r[0]).size > 1:
            return theta(r[0])
        return None

    with h5py.File(nir_path, "r") as f:
        version = tuple(int(x) for x in f["version"][()].decode().split("."))
        nodes = f["node"]["nodes"]
        checked = 0
        for i, l in enumerate(layers):
            kind = l["kind"]
            name = "%s%d" % (kind, i)
            if kind in ROUTING:
                continue
            if kind not in ("conv", "linear", "if"):
                errs.append("layer %d: kind %s not checked by this script" % (i, kind))
                continue
            if name not in nodes:
                errs.append("layer %d: no NIR node %s (a rescaling node? not checked by this script)" % (i, name))
                continue
            n = nodes[name]
            if kind == "if":
                th = theta(i)
                size = int(np.prod(l["shape"]))
                want_th = th[0] if th.size == 1 else 1.0
                compare(name + "/v_threshold", n["v_threshold"][()].reshape(-1), np.full(size, want_th), errs, lines)
                compare(name + "/r", n["r"][()].reshape(-1), np.ones(size), errs, lines)
                if version >= (1, 0, 6):
                    compare(name + "/v_reset", n["v_reset"][()].reshape(-1), np.zeros(size), errs, lines)
                checked += 1
                continue
            w = l["p"]["W"].astype(np.float64)
            b = l["p"].get("B")
            b = np.zeros(w.shape[0]) if b is None else b.astype(np.float64)
            s_in = spike_scale(l["inputs"][0])
            if s_in is not None:
                if kind == "conv":
                    c = w.shape[1]
                    if s_in.size == 1:
                        s_in = np.full(c, s_in[0])
                    w = w * s_in.reshape(1, c, 1, 1)  # group 1 only
                else:
                    # The C×H×W tensor the linear layer flattens: before
                    # any flatten layers in front of it.
                    j = l["inputs"][0]
                    while j >= 0 and layers[j]["kind"] == "flatten":
                        j = layers[j]["inputs"][0]
                    c, h, wd = layers[j]["shape"]
                    col = np.repeat(s_in if s_in.size > 1 else np.full(c, s_in[0]), h * wd)
                    w = w * col.reshape(1, -1)
            fold = out_fold(i)
            if fold is not None:
                w = w / fold.reshape((-1,) + (1,) * (w.ndim - 1))
                b = b / fold
            compare(name + "/weight", n["weight"][()], w, errs, lines)
            compare(name + "/bias", n["bias"][()], b, errs, lines)
            checked += 1
    print("%s vs %s: NIR %s, %d layers checked" % (nir_path, snn_path, ".".join(map(str, version)), checked))
    print("\n".join(lines))
    for e in errs:
        print("  ERROR " + e)
    return not errs


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        raise SystemExit(__doc__)
    ok = all([check(args[i], args[i + 1]) for i in range(0, len(args), 2)])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
