#!/bin/bash
# Reruns the measurements of docs/methods.md "Fine-tuning at T = 1 and 2:
# the surrogate-gradient error (issue 16)". Outputs go to $OUT (default
# /tmp/issue16): converted models, one JSON per run or report.
# Usage: finetune/testdata/issue16.sh [ann2snn binary]   (from the repository root)
set -eu
B=${1:-ann2snn}
OUT=${OUT:-/tmp/issue16}
mkdir -p "$OUT"
C="--data cifar10:/work/shared/datasets/cifar10"
M="--mean 0.4914,0.4822,0.4465 --std 0.2470,0.2435,0.2616"
for T in 1 2; do
  [ -f "$OUT/vs_t$T.snn" ] || nice -n 10 "$B" convert /work/shared/models/vgg_small_cifar10_relu.onnx $C $M --timesteps $T -o "$OUT/vs_t$T.snn"
done
[ -f "$OUT/lenet_t2.snn" ] || nice -n 10 "$B" convert models/lenet_mnist.onnx --data mnist --timesteps 2 -o "$OUT/lenet_t2.snn"

# Gradient reports at the converted operating point (32 training images, 8 directions, ε = 0.2).
R="--batch 32 --seed 1 --grad-report --json"
S=atan:2,atan:0.5,atan:8,rect:1,sigmoid:4,triangle:1
nice -n 10 "$B" finetune "$OUT/vs_t2.snn" $C --timesteps 2 $R --grad-surrogates $S > "$OUT/rep_t2_surrogates.json"
nice -n 10 "$B" finetune "$OUT/vs_t1.snn" $C --timesteps 1 $R --grad-surrogates $S > "$OUT/rep_t1_surrogates.json"
nice -n 10 "$B" finetune "$OUT/vs_t2.snn" $C --timesteps 2 $R --loss tet > "$OUT/rep_t2_tet.json"
nice -n 10 "$B" finetune "$OUT/vs_t2.snn" $C --timesteps 2 $R --mem-reg 0.5 > "$OUT/rep_t2_memreg.json"
nice -n 10 "$B" finetune "$OUT/vs_t2.snn" $C --timesteps 2 $R --auto-width > "$OUT/rep_t2_auto.json"
# The step ε of the reference (LeNet, T = 2, 16 directions).
for spec in "0.02 32" "0.05 32" "0.2 32" "0.5 32" "0.05 128" "0.2 128"; do
  set -- $spec
  nice -n 10 "$B" finetune "$OUT/lenet_t2.snn" --data mnist --timesteps 2 --batch 32 --seed 1 --grad-report \
    --grad-eps $1 --grad-images $2 --grad-directions 16 > "$OUT/lenet_eps_$1_$2.txt"
done

# Fine-tuning: 2,000 training images (seed 1), 1 epoch, batch 32, Adam 1e-4,
# test accuracy on the first 1,000 CIFAR-10 test images.
D="$C --subset 2000 --epochs 1 --eval-limit 1000 --batch 32 --seed 1 --json"
run() { name=$1; shift; nice -n 10 "$B" finetune "$@" $D -o "$OUT/out_$name.snn" > "$OUT/run_$name.json"; }
run t2_atan "$OUT/vs_t2.snn" --timesteps 2 --eval-before
run t2_tet "$OUT/vs_t2.snn" --timesteps 2 --loss tet
run t2_anneal4 "$OUT/vs_t2.snn" --timesteps 2 --width-anneal 4
run t2_memreg "$OUT/vs_t2.snn" --timesteps 2 --mem-reg 0.5
run t2_auto "$OUT/vs_t2.snn" --timesteps 2 --auto-width
run t1_atan "$OUT/vs_t1.snn" --timesteps 1 --eval-before
run t1_anneal4 "$OUT/vs_t1.snn" --timesteps 1 --width-anneal 4
run t1_tet "$OUT/vs_t1.snn" --timesteps 1 --loss tet
run t1_atan8 "$OUT/vs_t1.snn" --timesteps 1 --surrogate atan:8
# The PNG over training (LeNet, T = 2, report every 10 steps).
nice -n 10 "$B" finetune "$OUT/lenet_t2.snn" --data mnist --timesteps 2 --subset 2000 --epochs 1 --batch 32 \
  --eval-limit 1000 --eval-before --grad-every 10 --grad-plot "$OUT/lenet_grad.png" -o "$OUT/lenet_t2_tuned.snn"

# The same at the per-T conversion defaults (787a66d and later): the models
# converted above with the binary given; before/after with atan:2 and atan:8,
# and the reports.
for T in 1 2; do
  run h_t${T}_atan2 "$OUT/vs_t$T.snn" --timesteps $T --eval-before
  run h_t${T}_atan8 "$OUT/vs_t$T.snn" --timesteps $T --surrogate atan:8
  nice -n 10 "$B" finetune "$OUT/vs_t$T.snn" $C --timesteps $T $R --grad-surrogates atan:2,atan:8 > "$OUT/rep_h_t$T.json"
done
