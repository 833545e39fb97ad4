#!/usr/bin/env bash
# large224.sh: the large-input measurements of docs/methods.md ("Large
# inputs"): ResNet-18 and MobileNet-V2 at 224x224, converted with 1024
# calibration images and evaluated at T = 32, peak RSS from /usr/bin/time -v,
# and ResNet-18 images/s of the ANN executor, the SNN and onnxruntime.
#
#   calibrate/testdata/large224.sh [OUT]      (default OUT: /tmp/h6)
#   env: ANN2SNN_BIN (default: go build ./cmd/ann2snn into OUT)
#
# Slow on 2 cores (the ResNet-18 conversion alone is minutes); every command
# writes OUT/TAG.out and OUT/TAG.err (the /usr/bin/time -v report).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/h6}
mkdir -p "$out"
cd "$repo"
[[ -f $out/resnet18_op13.onnx && -f $out/mobilenet_v2_op13.onnx ]] ||
  /usr/bin/python3 bench/torchvision/export.py --out "$out" --arch resnet18,mobilenet_v2 --opsets 13 --no-torch-logits
[[ -f $out/calib224_u8.npy && -f $out/test224_u8.npy ]] ||
  /usr/bin/python3 calibrate/testdata/calib224.py --out "$out"
bin=${ANN2SNN_BIN:-}
if [[ -z $bin ]]; then
  bin=$out/ann2snn
  go build -o "$bin" ./cmd/ann2snn
fi
pre=(--mean 0.485,0.456,0.406 --std 0.229,0.224,0.225)
cal=(--data "npy:$out/calib224_u8.npy,$out/calib224_labels.npy" "${pre[@]}")
test=(--data "npy:$out/test224_u8.npy,$out/test224_labels.npy")
t() {
  local tag=$1
  shift
  echo "== $tag: $* (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -v "$@" >"$out/$tag.out" 2>"$out/$tag.err" || echo "$tag failed: see $out/$tag.err"
  tail -n 1 "$out/$tag.out" | cut -c1-300
  grep -E "Maximum resident|Elapsed" "$out/$tag.err"
}
for m in resnet18 mobilenet_v2; do
  t "convert_$m" "$bin" convert "$out/${m}_op13.onnx" "${cal[@]}" --calib 1024 -o "$out/$m.snn"
done
for m in resnet18 mobilenet_v2; do
  t "eval32_$m" "$bin" eval "$out/$m.snn" "${test[@]}" --timesteps 4,8,16,32 --json
done
echo "load before speed: $(cat /proc/loadavg)"
t ann_resnet18 "$bin" eval "$out/resnet18_op13.onnx" "${test[@]}" "${pre[@]}" --json
for th in 2 1; do
  node calibrate/testdata/ort224.cjs "$out/resnet18_op13.onnx" "$out/test224.npy" "$th" 64 2
done
t bench4_resnet18 "$bin" bench "$out/resnet18.snn" "${test[@]}" --limit 16 --timesteps 4 --repeat 1 --json
echo "load after speed: $(cat /proc/loadavg)"
