#!/usr/bin/env bash
# snn_bench.sh: time ann2snn's SNN runtime (event-driven and dense) against
# the ANN executor and the recorded peers, on converted models.
#
#   bench/snn_bench.sh [-T 4] [-b 64] [-n 256] [-r 3] MODEL.snn[:DATA] ...
#
# For each model it runs
#   ann2snn bench MODEL --timesteps T --batch B --limit N --repeat R --scaling --json [--data DATA]
# (all engines alternate inside one process, so the ratios compare them under
# the same machine load) and prints one table row per model with the ratios,
# plus the ratio to SpikingJelly's recorded throughput where
# /work/shared/peer/RESULTS.md lists one (vgg16h_cifar10: 168 img/s at T=4;
# lenet_mnist: 2,332 img/s at T=4, both batch 100 on 2 threads).
# Needs go and node (for the JSON); nothing here is part of the Go tests.
set -euo pipefail
T=4 B=64 N=256 R=3
while getopts "T:b:n:r:" o; do
  case $o in
    T) T=$OPTARG ;; b) B=$OPTARG ;; n) N=$OPTARG ;; r) R=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 1 ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || { sed -n '2,16p' "$0"; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/ann2snn" ./cmd/ann2snn)
for arg in "$@"; do
  model=${arg%%:*} data=
  [[ $arg == *:* ]] && data=${arg#*:}
  extra=()
  [[ -n $data ]] && extra=(--data "$data")
  echo "== $model (T=$T, batch $B, $N images, $R passes)" >&2
  "$tmp/ann2snn" bench "$model" --timesteps "$T" --batch "$B" --limit "$N" --repeat "$R" \
    --scaling --json "${extra[@]}" >>"$tmp/results.jsonl"
done
node -e '
const fs = require("fs");
const peers = { "vgg16h": { 4: 168 }, "lenet": { 4: 2332 } }; // SpikingJelly img/s, RESULTS.md
const rows = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const f = (x, d = 2) => (x == null || !isFinite(x) ? "-" : x.toFixed(d));
console.log("| model | T | SNN img/s | dense img/s | ANN img/s | SNN/dense | SNN/ANN | SNN/dense (CPU s) | SNN/ANN (CPU s) | 2 workers/1 | SNN/SpikingJelly | ns/SOP | allocs/step | peak RSS MiB | agreement with dense |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const key = Object.keys(peers).find((k) => r.model.includes(k));
  const sj = key && peers[key][r.timesteps];
  console.log(`| ${r.model} | ${r.timesteps} | ${f(r.snn_images_per_s, 1)} | ${f(r.dense_images_per_s, 1)} | ${f(r.ann_images_per_s, 1)} | ${f(r.snn_over_dense)} (${f(r.snn_over_dense_range[0])}..${f(r.snn_over_dense_range[1])}) | ${f(r.snn_over_ann)} (${f(r.snn_over_ann_range[0])}..${f(r.snn_over_ann_range[1])}) | ${f(r.snn_over_dense_cpu)} | ${f(r.snn_over_ann_cpu)} | ${f(r.scaling)} (${f(r.scaling_range[0])}..${f(r.scaling_range[1])}) | ${sj ? f(r.snn_images_per_s / sj) : "-"} | ${f(r.ns_per_sop, 3)} | ${f(r.allocs_per_step)} | ${f(r.peak_rss_bytes / 1048576, 0)} | ${f(100 * r.prediction_agreement_with_dense, 1)}% |`);
}' "$tmp/results.jsonl"
