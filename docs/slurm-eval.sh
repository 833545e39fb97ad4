#!/bin/bash
# Sharded ann2snn evaluation as a Slurm job array (see docs/sharding.md).
#
# Array task K (SLURM_ARRAY_TASK_ID = K, 0..SHARDS-1) evaluates shard
# K/SHARDS into $OUT/part-K.json and $OUT/logits-K.bin. Submit the array and
# a merge job that runs once every task has succeeded (the command-line
# --array=0 overrides the directive below, so the merge is one task):
#
#   jid=$(sbatch --parsable docs/slurm-eval.sh)
#   sbatch --dependency=afterok:$jid --array=0 --export=ALL,MERGE=1 docs/slurm-eval.sh
#
# Settings come from the environment (sbatch exports it by default):
# SHARDS, MODEL, DATA, FLAGS, OUT; set them the same for both submissions.
# OUT must be a directory every node can write; keep --array=0-(SHARDS-1).
#SBATCH --job-name=ann2snn-eval
#SBATCH --array=0-15
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=ann2snn-eval-%A_%a.log
set -euo pipefail

SHARDS=${SHARDS:-16}
MODEL=${MODEL:-models/vgg16_cifar10.snn}
DATA=${DATA:-cifar10:/data/cifar10}
FLAGS=${FLAGS:---split test --timesteps 1,2,4,8,16,32,64 --batch 64}
OUT=${OUT:-results}
mkdir -p "$OUT"

if [[ ${MERGE:-0} == 1 ]]; then
	# The table to the log, the JSON next to the parts; merge refuses
	# missing, duplicated or mismatched parts and names them.
	ann2snn merge "$OUT"/part-*.json
	ann2snn merge --json "$OUT"/part-*.json >"$OUT/merged.json"
	# The logits of the whole set, in image order.
	for ((k = 0; k < SHARDS; k++)); do cat "$OUT/logits-$k.bin"; done >"$OUT/.logits.bin.tmp"
	mv "$OUT/.logits.bin.tmp" "$OUT/logits.bin"
	exit 0
fi

K=${SLURM_ARRAY_TASK_ID:?run this script with sbatch --array=0-$((SHARDS - 1))}
# ann2snn uses every CPU of the allocation (Go sets GOMAXPROCS from the CPU
# affinity mask Slurm gives the task).
# shellcheck disable=SC2086 # FLAGS is a list of flags
ann2snn eval "$MODEL" --data "$DATA" $FLAGS \
	--shard "$K/$SHARDS" --json --logits "$OUT/logits-$K.bin" >"$OUT/.part-$K.json.tmp"
# Rename once complete, so that merge never reads a half-written part.
mv "$OUT/.part-$K.json.tmp" "$OUT/part-$K.json"
