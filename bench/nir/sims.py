#!/usr/bin/python3
"""Run an exported NIR graph in real NIR simulators and print accuracy per T.

    PYTHONPATH=... /usr/bin/python3 bench/nir/sims.py FILE.nir \
        --data mnist|fashion-mnist|cifar10 --limit N --timesteps 8,16,32 \
        [--sims norse,snntorch,sinabs] [--mean a,b,c --std a,b,c]

The simulators come from their own sources (see accept.sh, which fetches
nothing: it expects them unpacked under $NIRSRC). Every simulator gets the
analog image at every step (direct encoding, what `ann2snn eval` does),
its output is summed over the steps, and the prediction at T is the arg
max of the sum of the first T outputs. Data: the first N images of the
test split, scaled by 1/255, then (x - mean) / std when given. The
simulators are used as their importers build them, without patches:

  norse     norse.torch.from_nir(graph, dt=1): IAFCell, v += x, spike when
            v > v_th, reset to v_reset (0). NIR >= 1.0.6's IF. The cells'
            surrogate is set to "heaviside" (same forward; the default
            SuperSpike needs torch >= 2).
  snntorch  snntorch.import_nir.import_from_nir(graph): maps IF to
            snn.Leaky(beta=0.9, reset by subtraction): not NIR's IF.
  sinabs    sinabs.from_nir(graph, batch_size=B): IAFSqueeze, MultiSpike
            (several spikes per step), reset by subtraction, v >= -θ.
            NIR <= 1.0.5's IF plus bursts. Needs SumPool2d
            (export --nir-avgpool sum).
One line per simulator and T is printed as "SIM T ACC" (percent) for
accept.sh to tabulate; errors are printed as "SIM error MESSAGE", among
them a simulator whose output is not (images, T, classes) with classes
the size of the graph's Output node (sinabs on residual graphs: an
intermediate tensor, which earlier versions of this script scored as 0 %).
"""
import argparse
import gzip
import os
import sys
import traceback

import numpy as np
import torch


def load(data, limit):
    if data in ("mnist", "fashion-mnist"):
        if data == "mnist":
            d = os.environ["MNIST_DIR"]
        else:
            d = "/usr/share/datasets/fashion-mnist"
        with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz")) as f:
            x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
        with gzip.open(os.path.join(d, "t10k-labels-idx1-ubyte.gz")) as f:
            y = np.frombuffer(f.read(), np.uint8, offset=8)
    elif data == "cifar10":
        with gzip.open(os.path.join(os.environ.get("CIFAR_DIR", "/work/shared/datasets/cifar10"), "test_batch.bin.gz")) as f:
            raw = np.frombuffer(f.read(), np.uint8).reshape(-1, 3073)
        y, x = raw[:, 0], raw[:, 1:].reshape(-1, 3, 32, 32)
    else:
        sys.exit("unknown data " + data)
    return x[:limit].astype(np.float32) / 255, y[:limit].astype(np.int64)


def run_stateful(mod, x, T):
    """nirtorch GraphModule: out, state = mod(x[, state]) per step.

    NIR shapes have no batch axis (Flatten's start_dim 0 is the channel
    axis) and nirtorch maps Flatten literally to torch.nn.Flatten, so each
    image is run on its own, without a batch axis ([C,H,W]).
    """
    res = []
    with torch.no_grad():
        for img in x:
            outs, state = [], None
            for _ in range(T):
                out, state = mod(img) if state is None else mod(img, state)
                outs.append(out.reshape(-1))
            res.append(torch.stack(outs, 0))
    return torch.stack(res, 0)  # B, T, classes


def norse_run(graph, x, T):
    import norse.torch
    mod = norse.torch.from_nir(graph, dt=1.0)
    # norse's default surrogate (SuperSpike) is a torch >= 2 autograd
    # Function that torch 1.13 cannot apply; its forward is heaviside, so
    # the cells are switched to the plain heaviside threshold: the same
    # forward pass, no source change.
    for m in mod.modules():
        p = getattr(m, "p", None)
        if p is not None and hasattr(p, "method"):
            m.p = p._replace(method="heaviside")
    return run_stateful(mod, x, T)


def snntorch_run(graph, x, T):
    from snntorch.import_nir import import_from_nir
    return run_stateful(import_from_nir(graph), x, T)


def sinabs_run(graph, x, T):
    import sinabs
    mod = sinabs.from_nir(graph, batch_size=x.shape[0])
    with torch.no_grad():
        sinabs.reset_states(mod)
        xt = x.unsqueeze(1).expand(-1, T, *x.shape[1:]).reshape(-1, *x.shape[1:])
        out = mod(xt)
        if isinstance(out, tuple):
            out = out[0]
    if out.dim() != 2 or out.shape[0] != x.shape[0] * T:
        # Seen on residual graphs: the old nirtorch.load returns an
        # intermediate tensor, not the Output node's. Refuse rather than
        # score whatever it is.
        raise ValueError(f"sinabs returned a tensor of shape {tuple(out.shape)}, "
                         f"not [B*T, classes] = [{x.shape[0] * T}, classes]")
    return out.reshape(x.shape[0], T, -1)


def output_size(graph):
    """The number of values of the graph's Output node (its output_type)."""
    import nir
    outs = [n for n in graph.nodes.values() if isinstance(n, nir.Output)]
    if len(outs) != 1:
        raise ValueError(f"{len(outs)} Output nodes, want one")
    shapes = list(outs[0].output_type.values())
    return int(np.prod(shapes[0]))


SIMS = {"norse": norse_run, "snntorch": snntorch_run, "sinabs": sinabs_run}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nir")
    ap.add_argument("--data", required=True)
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--timesteps", default="8,16,32")
    ap.add_argument("--sims", default="norse,snntorch,sinabs")
    ap.add_argument("--mean", default="")
    ap.add_argument("--std", default="")
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    import nir
    ts = [int(t) for t in a.timesteps.split(",")]
    x, y = load(a.data, a.limit)
    if a.mean:
        m = np.array([float(v) for v in a.mean.split(",")], np.float32).reshape(1, -1, 1, 1)
        s = np.array([float(v) for v in a.std.split(",")], np.float32).reshape(1, -1, 1, 1)
        x = (x - m) / s
    torch.set_num_threads(int(os.environ.get("SIM_THREADS", "1")))
    classes = output_size(nir.read(a.nir))
    for name in a.sims.split(","):
        try:
            graph = nir.read(a.nir)
            correct = np.zeros(len(ts))
            for b in range(0, len(x), a.batch):
                xb = torch.from_numpy(np.ascontiguousarray(x[b:b + a.batch]))
                out = SIMS[name](graph, xb, max(ts))
                if tuple(out.shape) != (len(xb), max(ts), classes):
                    raise ValueError(f"{name} returned outputs of shape {tuple(out.shape)}, "
                                     f"want (images, T, classes) = {(len(xb), max(ts), classes)}")
                acc = torch.cumsum(out, 1)
                for i, t in enumerate(ts):
                    pred = acc[:, t - 1].argmax(1).numpy()
                    correct[i] += (pred == y[b:b + a.batch]).sum()
            for i, t in enumerate(ts):
                print(f"{name} {t} {100 * correct[i] / len(x):.2f}", flush=True)
        except Exception as e:  # report and go on with the next simulator
            msg = f"{type(e).__name__}: {e}".replace("\n", " ")[:300]
            print(f"{name} error {msg}", flush=True)
            traceback.print_exc(file=sys.stderr)


if __name__ == "__main__":
    main()
