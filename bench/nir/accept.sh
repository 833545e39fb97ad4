#!/bin/bash
# Issue 13's NIR acceptance run: convert models with --target nir, export
# them to NIR, and run the files in real NIR simulators from their own
# sources next to `ann2snn eval --as-nir` on the same images.
#
#   bench/nir/accept.sh [OUTDIR]          (default /tmp/nir_accept)
#
# Environment: BIN an ann2snn binary to use (default: built from this tree), LIMIT test images per model (default 500: the first LIMIT
# of the test split), TS time steps (default 8,16,32), T the steps the
# models are tuned for (default 16), TUNE_IMAGES calibration images the
# NIR target simulates (default 128), MODELS (default: the six below),
# SIMS (default norse,sinabs,snntorch), NIRSRC the directory holding the
# unpacked sources (default /tmp/nirsrc): one directory per repository,
# named OWNER+NAME, made with
#     git --git-dir=MIRROR archive HEAD PKG | tar -x -C $NIRSRC/OWNER+NAME
# for neuromorphs/NIR (nir), neuromorphs/NIRTorch (nirtorch), norse/norse
# (norse), jeshraghian/snntorch (snntorch), synsense/sinabs (sinabs), and
# $NIRSRC/COMMITS listing each repository's commit (printed with the table).
# Python: Debian's /usr/bin/python3 with python3-torch (1.13), python3-numpy,
# python3-h5py, python3-pbr, python3-packaging, python3-matplotlib (sinabs
# imports pylab). SpikingJelly's NIR importer needs torch >= 2.4
# (torch.library.custom_op) and is not run.
#
# Models (MODELS, names without .onnx): models/NAME.onnx of this tree,
# else ../shared/models/NAME.onnx (the shared models exist only in this
# project's own checkout); the data set follows from the name
# (*fashion_mnist*, *mnist*, *cifar10*). Default: lenet_mnist,
# lenet_fashion_mnist, vgg_fashion_mnist (issue 13's vgg_fmnist, trained
# here), vgg_small_cifar10_relu, resnet20_cifar10_relu (plain ReLU,
# models/) and resnet20_cifar10_qcfs (shared). Files are exported with
# --nir-avgpool sum (sinabs maps no AvgPool2d; norse and snnTorch map
# SumPool2d too), NIR 1.0.7.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/nir_accept}
mkdir -p "$out"
LIMIT=${LIMIT:-500} TS=${TS:-8,16,32} T=${T:-16} TUNE_IMAGES=${TUNE_IMAGES:-128}
SIMS=${SIMS:-norse,sinabs,snntorch} NIRSRC=${NIRSRC:-/tmp/nirsrc}
shared=${SHARED_MODELS:-$repo/../shared/models}
MODELS=${MODELS:-lenet_mnist lenet_fashion_mnist vgg_fashion_mnist vgg_small_cifar10_relu resnet20_cifar10_relu resnet20_cifar10_qcfs}
bin=${BIN:-$out/ann2snn} # BIN: an ann2snn binary already built
[ -n "${BIN:-}" ] || (cd "$repo" && go build -o "$bin" ./cmd/ann2snn)
export PBR_VERSION=0.0.0 # sinabs's version comes from pbr, which needs a git checkout otherwise
export PYTHONPATH=$NIRSRC/neuromorphs+NIR:$NIRSRC/neuromorphs+NIRTorch:$NIRSRC/norse+norse:$NIRSRC/jeshraghian+snntorch:$NIRSRC/synsense+sinabs
export MNIST_DIR=$(ls -d "$(cd "$repo" && go env GOMODCACHE)"/github.com/petar/\!go\!m\!n\!i\!s\!t@*/data | head -1)
cifar="--data cifar10:${CIFAR_DIR:-$repo/../shared/datasets/cifar10} --mean 0.4914,0.4822,0.4465 --std 0.2470,0.2435,0.2616"
table=$out/table.txt
: > "$table"
for name in $MODELS; do
	# The model: models/NAME.onnx of this tree, else the shared one; the data
	# set from its name (Fashion-MNIST and MNIST carry their preprocessing
	# in the ONNX metadata, the CIFAR-10 models are given it here).
	src=$repo/models/$name.onnx
	[ -f "$src" ] || src=$shared/$name.onnx
	case $name in
	*fashion_mnist*) data="" pydata="--data fashion-mnist" ;;
	*mnist*) data="" pydata="--data mnist" ;;
	*cifar10*) data=$cifar pydata="--data cifar10 --mean 0.4914,0.4822,0.4465 --std 0.2470,0.2435,0.2616" ;;
	*) echo "accept.sh: $name: no data set known for this name" >&2; exit 2 ;;
	esac
	snn=$out/$name.nir$T.snn nirf=$out/$name.nir$T.nir
	echo "== $name" >&2
	[ -s "$snn" ] || "$bin" convert "$src" $data --target nir --timesteps "$T" --correct-images "$TUNE_IMAGES" -o "$snn" >&2
	"$bin" export "$snn" --nir-avgpool sum -o "$nirf" >&2
	"$bin" eval "$snn" $data --as-nir --limit "$LIMIT" --timesteps "$TS" --json > "$out/$name.eval.json"
	/usr/bin/python3 "$repo/bench/nir/sims.py" "$nirf" $pydata --limit "$LIMIT" --timesteps "$TS" --sims "$SIMS" \
		> "$out/$name.sims.txt" 2> "$out/$name.sims.err" || true
	/usr/bin/python3 - "$name" "$out/$name.eval.json" "$out/$name.sims.txt" "$TS" "$SIMS" >> "$table" <<'PY'
import json, sys
name, ev, sims, ts, names = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read().split("\n"), sys.argv[4].split(","), sys.argv[5].split(",")
def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    if isinstance(o, list):
        for v in o:
            r = find(v, key)
            if r is not None:
                return r
snn = {}
for row in find(ev, "timesteps") or []:
    if isinstance(row, dict):
        snn[str(row.get("t", row.get("T")))] = row.get("accuracy")
acc, err = {}, {}
for line in sims:
    p = line.split(" ", 2)
    if len(p) == 3 and p[1] == "error":
        err[p[0]] = p[2]
    elif len(p) == 3:
        acc[(p[0], p[1])] = p[2]
for t in ts:
    a = snn.get(t)
    a = f"{100 * a:.2f}" if isinstance(a, float) and a <= 1 else str(a)
    cells = [acc.get((s, t), "error" if s in err else "-") for s in names]
    print(f"| {name} | {t} | {a} | " + " | ".join(cells) + " |")
for s, e in err.items():
    print(f"<!-- {name}: {s}: {e} -->")
PY
done
echo "first $LIMIT test images; models converted with --target nir --timesteps $T --correct-images $TUNE_IMAGES; NIR 1.0.7 with --nir-avgpool sum"
echo "| model | T | ann2snn eval --as-nir | $(echo "$SIMS" | sed 's/,/ | /g') |"
echo "|---|---|---|$(echo "$SIMS" | sed 's/[^,]*/---/g; s/,/|/g')|"
grep '^|' "$table"
grep '^<!--' "$table" || true
[ -f "$NIRSRC/COMMITS" ] && cat "$NIRSRC/COMMITS"
