#!/usr/bin/env bash
# compare.sh: ann2snn (GOMAXPROCS=1 and 2) against onnxruntime CPU
# (intraOpNumThreads 1 and 2) on one ONNX model, same data, same batch.
#
#   bench/compare.sh MODEL.onnx DATA [IMAGES]
#     DATA    mnist | fashion-mnist | cifar10[:DIR] (bare cifar10: $ANN2SNN_CIFAR10_DIR
#             or ~/.cache/ann2snn/cifar10, as ann2snn's dataset.CIFAR10Dir)
#     IMAGES  number of test images (default: the whole test set)
#   env: ANN2SNN_BIN (a built ann2snn binary; default: go build ./cmd/ann2snn),
#        BATCH (default 64),
#        REPEAT (default 1: each tool runs the test set REPEAT times per core
#        count and the fastest run counts; use 3+ on a busy machine),
#        MEAN, STD (comma lists; passed to both tools as --mean/--std),
#        ANN2SNN_ARGS (extra flags for `ann2snn eval`),
#        ORT_ARGS (extra flags for ort_bench.mjs)
#
# Both tools take preprocessing from the model's ann2snn.* metadata. For a
# cifar10 model without ann2snn.mean (the models in /work/shared/models)
# MEAN/STD default to the values of /work/shared/models/README.md, so that
# both tools see the same inputs.
#
# Prints the load average before and after, every JSON result line, then a
# table with ann2snn 2-core / 1-core and ann2snn / onnxruntime at 1 and at 2
# threads (same run, so compare ratios, not absolute numbers, on a busy
# machine).
# The ann2snn CLI is built once (go build) so compilation is not timed;
# `ann2snn eval MODEL --data D --batch B --json` must print
#   {"model","kind","data","images","accuracy","images_per_s"}.
# If ./cmd/ann2snn is missing or fails, only the onnxruntime half runs.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: bench/compare.sh MODEL.onnx mnist|fashion-mnist|cifar10[:DIR] [IMAGES]" >&2
  exit 2
fi
model=$(realpath "$1")
data=$2
images=${3:-}
batch=${BATCH:-64}
repeat=${REPEAT:-1}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if [[ ! -d bench/node_modules/onnxruntime-node ]]; then
  echo "compare.sh: run (cd bench && npm ci --ignore-scripts) first" >&2
  exit 1
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
echo "compare.sh: load average before: $load_before" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl

mean=${MEAN:-} std=${STD:-}
if [[ $data == cifar10* && -z $mean ]] &&
  ! node bench/ort_bench.mjs --meta "$model" | grep -q '"ann2snn.mean"'; then
  mean=0.4914,0.4822,0.4465 std=0.2470,0.2435,0.2616
  echo "compare.sh: $1 has no ann2snn.mean metadata; using CIFAR-10 mean $mean std $std" >&2
fi
pre=()
[[ -n $mean ]] && pre+=(--mean "$mean")
[[ -n $std ]] && pre+=(--std "$std")
ort_img=() ann_img=()
[[ -n $images ]] && ort_img=(--images "$images") && ann_img=(--limit "$images")

for t in 1 2; do
  # shellcheck disable=SC2086 # ORT_ARGS is a flag list
  node bench/ort_bench.mjs "$model" --data "$data" --batch "$batch" --threads "$t" \
    --repeat "$repeat" "${ort_img[@]}" "${pre[@]}" ${ORT_ARGS:-} | tee -a "$results"
done

ann_ok=0
bin=$tmp/ann2snn
if [[ -n ${ANN2SNN_BIN:-} ]]; then
  bin=$ANN2SNN_BIN
elif [[ ! -d cmd/ann2snn ]] || ! go build -o "$bin" ./cmd/ann2snn; then
  bin=
fi
if [[ -n $bin ]]; then
  ann_ok=1
  for p in 1 2; do
    for ((r = 0; r < repeat; r++)); do
      # shellcheck disable=SC2086 # ANN2SNN_ARGS is a flag list
      if ! out=$(GOMAXPROCS=$p "$bin" eval "$model" --data "$data" --batch "$batch" --json \
        "${ann_img[@]}" "${pre[@]}" ${ANN2SNN_ARGS:-}); then
        echo "compare.sh: ann2snn eval failed with GOMAXPROCS=$p" >&2
        ann_ok=0
        break 2
      fi
      # Keep the last JSON line, tag it with runtime and core count.
      line=$(printf '%s\n' "$out" | grep '^{' | tail -n 1)
      printf '%s\n' "$line"
      node -e 'const r=JSON.parse(process.argv[1]); r.runtime="ann2snn"; r.threads=+process.argv[2]; console.log(JSON.stringify(r))' \
        "$line" "$p" >>"$tmp/ann.jsonl"
    done
  done
  # Fastest run per core count.
  [[ -f $tmp/ann.jsonl ]] && node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    for (const t of [1, 2]) {
      const rs = rows.filter((r) => r.threads === t);
      if (rs.length) console.log(JSON.stringify(rs.reduce((a, b) => (b.images_per_s > a.images_per_s ? b : a))));
    }' "$tmp/ann.jsonl" >>"$results"
else
  echo "compare.sh: ./cmd/ann2snn not available; onnxruntime only" >&2
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
node - "$results" "$load_before" "$load_after" <<'EOF'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const pick = (rt, t) => rows.find((r) => (rt === 'ort' ? r.runtime.startsWith('onnxruntime') : r.runtime === 'ann2snn') && r.threads === t);
const f = (x, d) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
console.log('\n| runtime | cores | images | accuracy | images/s |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const name = r.runtime === 'ann2snn' ? `ann2snn${r.kind ? ' (' + r.kind + ')' : ''}` : r.runtime;
  console.log(`| ${name} | ${r.threads} | ${r.images} | ${f(r.accuracy, 4)} | ${f(r.images_per_s, 1)} |`);
}
const o1 = pick('ort', 1), o2 = pick('ort', 2), a1 = pick('ann', 1), a2 = pick('ann', 2);
const ratio = (x, y) => (x && y ? x.images_per_s / y.images_per_s : null);
console.log('');
console.log(`onnxruntime 2-thread / 1-thread: ${f(ratio(o2, o1), 2)}`);
console.log(`ann2snn 2-core / 1-core:         ${f(ratio(a2, a1), 2)}`);
console.log(`ann2snn / onnxruntime (1 core):  ${f(ratio(a1, o1), 3)}`);
console.log(`ann2snn / onnxruntime (2 cores): ${f(ratio(a2, o2), 3)}`);
console.log(`load average before / after:    ${process.argv[3]} / ${process.argv[4]}`);
if (a2 && o2) {
  console.log(`accuracy ann2snn - onnxruntime:  ${f(a2.accuracy - o2.accuracy, 4)}`);
  if (a2.images !== o2.images) console.log(`WARNING: image counts differ (ann2snn ${a2.images}, onnxruntime ${o2.images})`);
}
EOF
[[ $ann_ok == 1 ]] || echo "compare.sh: no ann2snn numbers" >&2
