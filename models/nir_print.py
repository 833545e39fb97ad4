#!/usr/bin/python3
"""Print the node/edge structure of a NIR file (HDF5) with h5py alone.

    /usr/bin/python3 models/nir_print.py model.nir

Reads the file the way nir.read (neuromorphs/NIR 1.0) does: root dataset
`version`, group `node` with `type`, `nodes/<name>/type` and parameter
datasets, `edges` as byte-string pairs. Prints one line per node (type and
parameter shapes) in graph order from `input`, then the edges.
"""
import sys

import h5py


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main(path):
    with h5py.File(path, "r") as f:
        print("version", text(f["version"][()]))
        g = f["node"]
        print("graph type", text(g["type"][()]))
        nodes = g["nodes"]
        edges = [(text(a), text(b)) for a, b in g["edges"][()]]
        succ = {}
        for a, b in edges:
            succ.setdefault(a, []).append(b)
        order, seen, todo = [], set(), ["input"]
        while todo:
            n = todo.pop(0)
            if n in seen or n not in nodes:
                continue
            seen.add(n)
            order.append(n)
            todo.extend(succ.get(n, []))
        order += sorted(set(nodes) - seen)
        print(f"{len(nodes)} nodes, {len(edges)} edges")
        for n in order:
            d = nodes[n]
            params = []
            for k in sorted(d):
                if k == "type":
                    continue
                v = d[k]
                if v.shape == ():
                    params.append(f"{k}={text(v[()])}")
                elif v.size <= 4:
                    params.append(f"{k}={list(v[()])}")
                else:
                    params.append(f"{k}{list(v.shape)}")
            print(f"  {n:12s} {text(d['type'][()]):10s} {' '.join(params)}")
        print("edges:", ", ".join(f"{a}->{b}" for a, b in edges))


if __name__ == "__main__":
    main(sys.argv[1])
