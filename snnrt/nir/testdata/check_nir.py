#!/usr/bin/python3
"""Check with h5py that NIR files written by `ann2snn export` load in the
real importers' terms (docs/nir.md): no Scale node, every IF with r = 1 and
a single v_threshold, v_reset present exactly when the version is >= 1.0.6,
metadata dt = "1", edges naming existing nodes. Prints one line per file
and exits 1 if any check fails.

    /usr/bin/python3 snnrt/nir/testdata/check_nir.py model.nir [...]
"""
import sys

import h5py
import numpy as np


def check(path):
    errs = []
    with h5py.File(path, "r") as f:
        version = f["version"][()].decode()
        major, minor, patch = (int(x) for x in version.split("."))
        modern = (major, minor, patch) >= (1, 0, 6)
        g = f["node"]
        if g["type"][()] != b"NIRGraph":
            errs.append("node/type is not NIRGraph")
        nodes = g["nodes"]
        types = {}
        for name, n in nodes.items():
            t = n["type"][()].decode()
            types[t] = types.get(t, 0) + 1
            if t == "Scale":
                errs.append(f"{name}: Scale node")
            if t == "IF":
                r, th = n["r"][()], n["v_threshold"][()]
                if not np.all(r == 1):
                    errs.append(f"{name}: r not 1 ({np.unique(r)[:5]})")
                if len(np.unique(th)) != 1:
                    errs.append(f"{name}: {len(np.unique(th))} thresholds")
                if ("v_reset" in n) != modern:
                    errs.append(f"{name}: v_reset present={'v_reset' in n} in NIR {version}")
        for a, b in g["edges"][()]:
            for x in (a.decode(), b.decode()):
                if x not in nodes:
                    errs.append(f"edge names missing node {x}")
        md = g["metadata"] if "metadata" in g else {}
        if "dt" not in md or md["dt"][()] != b"1":
            errs.append("metadata dt is not '1'")
        nif = types.get("IF", 0)
        ths = sorted({float(n["v_threshold"][()].flat[0]) for n in nodes.values() if n["type"][()] == b"IF"})
    status = "ok" if not errs else "FAIL"
    print(f"{path}: {status}: NIR {version}, {sum(types.values())} nodes {dict(sorted(types.items()))}, "
          f"{nif} IF, thresholds {['%.4g' % t for t in ths[:6]]}{'...' if len(ths) > 6 else ''}")
    for e in errs:
        print("  " + e)
    return not errs


if __name__ == "__main__":
    ok = all([check(p) for p in sys.argv[1:]])
    sys.exit(0 if ok and len(sys.argv) > 1 else 1)
