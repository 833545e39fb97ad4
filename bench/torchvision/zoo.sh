#!/usr/bin/env bash
# zoo.sh: import / ANN-match / convert status of the torchvision zoo.
#
#   bench/torchvision/zoo.sh [ARCH ...]
#   bench/torchvision/zoo.sh --table      # only print the table of the results so far
#
# For each architecture (default: all of export.py's, ReLU family first) and
# each opset in $OPSETS (default "13 17"):
#   1. export.py writes $OUT/{arch}_op{N}.onnx and PyTorch's logits if
#      missing (and, once, the data);
#   2. `ann2snn inspect` -> import status;
#   3. onnxruntime logits (ort_logits.mjs) and the ANN executor's logits
#      (`ann2snn eval --logits`) on $OUT/x224.npy -> max relative error
#      max|ann-ort| / max|ort| and top-1 agreement (compare.py);
#   4. for opset $CONVERT_OPSET only (default 13; the opsets export the same
#      network): `ann2snn convert` with 64 calibration images at
#      --timesteps 32, then `ann2snn eval X.snn --timesteps 32 --logits` and
#      the SNN's top-1 agreement with the ANN's top-1. The non-ReLU
#      architectures must be refused by convert: the row shows the refusal.
# Each step's result for (arch, opset) goes to $OUT/rows/{arch}_op{N}.{import,
# ann,convert} (results of earlier runs are kept, so single architectures or
# steps can be rerun); at the end the table of all rows present is printed
# (in architecture order) and written to $OUT/zoo.md. Logs of every step are
# in $OUT/logs/. The notes column also gives the SNN's max relative logit
# error vs the ANN (SNN logits summed over T divided by T) and step times.
#
# Environment:
#   OUT=/tmp/tvzoo          models, data, logits, logs
#   OPSETS="13 17"          opsets to check
#   CONVERT_OPSET=13        opset whose model is converted ("" = none)
#   ANN2SNN=                ann2snn binary (default: built into $OUT/ann2snn from the
#                           committed HEAD, exported with git archive to $OUT/src;
#                           BUILD_FROM=tree builds the working tree instead)
#   ANNLOGITS=              fallback for step 3 while `eval --logits` is missing: a
#                           program "ANNLOGITS MODEL X.npy OUT.f32" (float input used as given)
#   THREADS=1               onnxruntime intra-op threads
#   STEP_TIMEOUT=1800       seconds any single step may take
#   SNN_IMAGES=32           images of x224.npy the SNN is evaluated on (the first N;
#                           fewer for the largest models on a slow machine)
#   ANN_IMAGES=32           images the ANN executor is compared on (the first N; fewer
#                           only where the executor is too slow, e.g. MatMul-heavy ViT)
#   STEPS=ann,convert       which steps to run after import (import always runs);
#                           a step's earlier result is kept when it is not rerun
#
# Input preprocessing: x224.npy is already normalised. Before the zoo runs, a
# one-node Flatten model (identity on the input) is evaluated with each
# candidate flag set and the first one whose "logits" reproduce x224.npy
# (max rel err < 1e-6) is used for every eval/convert: "--scale 1 --mean
# 0,0,0 --std 1,1,1" when eval has --scale, else "--mean 0,0,0 --std 1,1,1"
# (float npy used as given), else "--mean 0,0,0 --std 1/255,..." (float npy
# divided by 255 by default, undone by the std).

set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-/tmp/tvzoo}
OPSETS=${OPSETS:-13 17}
CONVERT_OPSET=${CONVERT_OPSET-13}
THREADS=${THREADS:-1}
STEP_TIMEOUT=${STEP_TIMEOUT:-1800}
STEPS=${STEPS:-ann,convert}
SNN_IMAGES=${SNN_IMAGES:-32}
ANN_IMAGES=${ANN_IMAGES:-32}
PY=/usr/bin/python3
RELU="resnet18 resnet34 resnet50 vgg11 vgg11_bn vgg16 vgg16_bn mobilenet_v2 densenet121 googlenet squeezenet1_1 shufflenet_v2_x0_5 regnet_x_400mf resnext50_32x4d mnasnet0_5"
NONRELU="efficientnet_b0 mobilenet_v3_small convnext_tiny vit_b_16"
ARCHS=("$@")
[ ${#ARCHS[@]} -eq 0 ] && read -r -a ARCHS <<<"$RELU $NONRELU"

mkdir -p "$OUT/rows" "$OUT/logs"

# The table: one row per (arch, opset) with an import result, in
# architecture order, from this and earlier runs.
row() {
	local a=$1 op=$2 R=$OUT/rows/${1}_op$2 imp note e="—" t="—" c="—" s="—" n1="" n2=""
	[ -f "$R.import" ] || return 0
	IFS=$'\t' read -r imp note <"$R.import"
	[ -f "$R.ann" ] && IFS=$'\t' read -r e t n1 <"$R.ann"
	if [ "$op" != "$CONVERT_OPSET" ] && [ -n "$CONVERT_OPSET" ]; then
		c="(op$CONVERT_OPSET)" s="(op$CONVERT_OPSET)"
	elif [ -f "$R.convert" ]; then
		IFS=$'\t' read -r c s n2 <"$R.convert"
	fi
	local notes
	notes=$(printf '%s\n' "$note" "$n1" "$n2" | grep -v '^$' | paste -sd';' | sed "s/;  */; /g; s/;\([^ ]\)/; \1/g; s#ann2snn [a-z]*: $OUT/[^:]*: ##g")
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$a" "$op" "$imp" "$e" "$t" "$c" "$s" "$notes"
}
table() {
	echo "| arch | opset | import | ANN vs ORT max rel err | top-1 agree (ANN vs ORT) | convert | SNN T=32 top-1 agreement with ANN | notes |"
	echo "|---|---|---|---|---|---|---|---|"
	for arch in $RELU $NONRELU; do
		for op in 13 17; do row "$arch" "$op"; done
	done
}

if [ "${ARCHS[0]}" = --table ]; then
	table
	exit 0
fi
X=$OUT/x224.npy Y=$OUT/y224.npy XC=$OUT/x224_calib.npy YC=$OUT/y224_calib.npy

log() { echo "zoo: $*" >&2; }

# firstline FILE: the most telling line of a failed step's log (the last
# non-empty, non-progress line), with | escaped for markdown.
firstline() {
	tr '\r' '\n' <"$1" | grep -v '^\s*$' | grep -v ' ETA ' | tail -n 1 | cut -c1-300 | sed 's/|/\\|/g'
}

json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(d['$1'])"; }

if [ -z "${ANN2SNN:-}" ]; then
	ANN2SNN=$OUT/ann2snn
	if [ "${BUILD_FROM:-head}" = tree ]; then
		SRC=$REPO
	else
		# The committed state: other work in progress in the tree may not build.
		SRC=$OUT/src
		rm -rf "$SRC" && mkdir -p "$SRC" && (cd "$REPO" && git archive HEAD) | tar -x -C "$SRC" || exit 1
	fi
	log "building $ANN2SNN from $SRC ($(cd "$REPO" && git rev-parse --short HEAD) if head)"
	if (cd "$SRC" && go build -o "$ANN2SNN.new" ./cmd/ann2snn) >"$OUT/logs/build.log" 2>&1; then
		mv "$ANN2SNN.new" "$ANN2SNN"
		[ "$SRC" = "$REPO" ] && echo "working tree of $(cd "$REPO" && git rev-parse --short HEAD)" >"$ANN2SNN.commit" ||
			(cd "$REPO" && git rev-parse --short HEAD) >"$ANN2SNN.commit"
	elif [ -x "$ANN2SNN" ]; then
		log "build failed (see $OUT/logs/build.log); using the previous $ANN2SNN"
	else
		log "build failed: $(cat "$OUT/logs/build.log")"
		exit 1
	fi
fi

# Data (models are exported per architecture below).
$PY "$HERE/export.py" --out "$OUT" --arch "${ARCHS[0]}" --opsets "$(echo $OPSETS | tr ' ' ,)" \
	>>"$OUT/logs/export.log" 2>&1 || log "export.py failed: see $OUT/logs/export.log"

HAVE_LOGITS=0
"$ANN2SNN" eval -h 2>&1 | grep -q -- '-logits' && HAVE_LOGITS=1
PRE=()
if [ $HAVE_LOGITS = 1 ]; then
	# Preflight: find the flags that feed x224.npy as given.
	IDM=$OUT/identity224.onnx
	[ -f "$IDM" ] || $PY - "$IDM" <<'EOF'
import sys
from onnx import TensorProto, helper, save
x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])
y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 150528])
g = helper.make_graph([helper.make_node("Flatten", ["input"], ["logits"], axis=1)], "identity224", [x], [y])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
EOF
	S=0.00392156862745098
	CANDS=("--mean 0,0,0 --std 1,1,1" "--mean 0,0,0 --std $S,$S,$S")
	"$ANN2SNN" eval -h 2>&1 | grep -q -- '-scale' && CANDS=("--scale 1 --mean 0,0,0 --std 1,1,1" "${CANDS[@]}")
	for c in "${CANDS[@]}"; do
		read -r -a try <<<"$c"
		rm -f "$OUT/identity.$$.f32"
		if "$ANN2SNN" eval "$IDM" --data "npy:$X,$Y" "${try[@]}" --logits "$OUT/identity.$$.f32" >"$OUT/logs/preflight.log" 2>&1 &&
			err=$($PY "$HERE/compare.py" "$OUT/identity.$$.f32" "$X" --classes 150528 | json max_rel_err) &&
			$PY -c "import sys; sys.exit(0 if float('$err') < 1e-6 else 1)"; then
			PRE=("${try[@]}")
			rm -f "$OUT/identity.$$.f32"
			break
		fi
		rm -f "$OUT/identity.$$.f32"
		log "preflight: flags '$c' do not feed x224.npy as given (err ${err:-?}; $(firstline "$OUT/logs/preflight.log"))"
	done
	if [ ${#PRE[@]} -eq 0 ]; then
		log "preflight: no flag set feeds float .npy images as given; stopping"
		exit 1
	fi
	log "preprocessing flags: ${PRE[*]}"
elif [ -z "${ANNLOGITS:-}" ]; then
	log "ann2snn eval has no --logits and ANNLOGITS is unset: cannot compare logits"
	exit 1
else
	# No --logits, so no preflight: assume the old default (float npy
	# divided by 255) and undo it with the std.
	S=0.00392156862745098
	PRE=(--mean 0,0,0 --std "$S,$S,$S")
	log "no eval --logits: unverified preprocessing flags ${PRE[*]}"
fi
echo "${PRE[*]}" >"$OUT/logs/preprocess_flags.txt"

log "ann2snn: $ANN2SNN ($(cat "$ANN2SNN.commit" 2>/dev/null || echo "commit unknown"))"

# ann_logits MODEL OUT.f32 LOG
ann_logits() {
	if [ $HAVE_LOGITS = 1 ]; then
		timeout "$STEP_TIMEOUT" "$ANN2SNN" eval "$1" --data "npy:$X,$Y" "${PRE[@]}" --limit "$ANN_IMAGES" --batch 8 --logits "$2" >"$3" 2>&1
	else
		timeout "$STEP_TIMEOUT" "$ANNLOGITS" "$1" "$X" "$2" >"$3" 2>&1
	fi
}

fmt_err() { $PY -c "print('%.2e' % float('$1'))"; }
pct() { $PY -c "print('%d/%d' % (round(float('$1')*$2), $2))"; }
# cell DIR KEY CELLS... NOTE: one step's result, tab-separated, last field the note.
cell() {
	local f=$1; shift
	(IFS=$'\t'; echo "$*") >"$f"
}
want() { case ",$STEPS," in *",$1,"*) return 0 ;; esac; return 1; }

for arch in "${ARCHS[@]}"; do
	relu=0
	case " $RELU " in *" $arch "*) relu=1 ;; esac
	$PY "$HERE/export.py" --out "$OUT" --arch "$arch" --opsets "$(echo $OPSETS | tr ' ' ,)" \
		>>"$OUT/logs/export.log" 2>&1 || log "export.py $arch failed: see $OUT/logs/export.log"
	for op in $OPSETS; do
		M=$OUT/${arch}_op$op.onnx L=$OUT/logs/${arch}_op$op R=$OUT/rows/${arch}_op$op
		t0=$SECONDS
		if [ ! -f "$M" ]; then
			cell "$R.import" "no model" "export failed: $(grep "^$arch opset $op" "$OUT/logs/export.log" | tail -1 | cut -c1-200)"
		elif timeout "$STEP_TIMEOUT" "$ANN2SNN" inspect "$M" >"$L.inspect.log" 2>&1; then
			cell "$R.import" ok ""
		else
			cell "$R.import" FAIL "import: $(firstline "$L.inspect.log")"
		fi
		[ "$(cut -f1 "$R.import")" = ok ] || { rm -f "$R.ann" "$R.convert"; continue; }
		if want ann; then
			t0=$SECONDS notes=()
			log "$arch op$op: onnxruntime"
			err="" top1=""
			if ! [ "$OUT/${arch}_op$op.ort.f32" -nt "$M" ] && ! node "$HERE/ort_logits.mjs" "$X" "$M" "$OUT/${arch}_op$op.ort.f32" --threads "$THREADS" >"$L.ort.log" 2>&1; then
				err="no ORT" notes+=("onnxruntime: $(firstline "$L.ort.log")")
			fi
			log "$arch op$op: ANN executor"
			rm -f "$OUT/${arch}_op$op.ann.f32"
			if ! ann_logits "$M" "$OUT/${arch}_op$op.ann.f32" "$L.ann.log"; then
				err=FAIL top1="—" notes+=("ANN: $(firstline "$L.ann.log")")
			elif [ -z "$err" ]; then
				c=$($PY "$HERE/compare.py" "$OUT/${arch}_op$op.ann.f32" "$OUT/${arch}_op$op.ort.f32" --images "$ANN_IMAGES" 2>&1)
				if e=$(echo "$c" | json max_rel_err 2>/dev/null); then
					err=$(fmt_err "$e")
					top1=$(pct "$(echo "$c" | json top1_agree)" "$ANN_IMAGES")
					$PY -c "import sys; sys.exit(0 if float('$e') <= 1e-4 else 1)" || err="$err ✗"
					[ "$(echo "$c" | json finite)" = True ] || notes+=("non-finite logits")
					notes+=("ORT argmax: $(echo "$c" | json ref_distinct_top1) distinct classes")
					[ "$ANN_IMAGES" = 32 ] || notes+=("ANN on the first $ANN_IMAGES images only")
				else
					err="compare failed" notes+=("$c")
				fi
			fi
			notes+=("ANN+ORT $((SECONDS - t0)) s")
			cell "$R.ann" "${err:-—}" "${top1:-—}" "$(IFS=';'; echo "${notes[*]}" | sed 's/;/; /g')"
		fi
		if want convert && [ "$op" = "$CONVERT_OPSET" ]; then
			t0=$SECONDS notes=() conv="" snn=""
			S=$OUT/$arch.snn
			rm -f "$S" "$OUT/$arch.snn.f32"
			log "$arch op$op: convert"
			if timeout "$STEP_TIMEOUT" "$ANN2SNN" convert "$M" --data "npy:$XC,$YC" "${PRE[@]}" --calib 64 --timesteps 32 -o "$S" >"$L.convert.log" 2>&1; then
				if [ $relu = 1 ]; then conv=ok; else conv="ACCEPTED (should refuse)"; fi
				notes+=("convert $((SECONDS - t0)) s")
				t1=$SECONDS
				log "$arch op$op: SNN eval"
				if [ $HAVE_LOGITS = 0 ]; then
					snn="n/a (no --logits)"
				elif timeout "$STEP_TIMEOUT" "$ANN2SNN" eval "$S" --data "npy:$X,$Y" "${PRE[@]}" --limit "$SNN_IMAGES" --batch 8 --timesteps 32 --logits "$OUT/$arch.snn.f32" >"$L.snneval.log" 2>&1; then
					if [ -s "$OUT/${arch}_op$op.ann.f32" ]; then
						c=$($PY "$HERE/compare.py" "$OUT/$arch.snn.f32" "$OUT/${arch}_op$op.ann.f32" --got-scale 0.03125 --images "$SNN_IMAGES" 2>&1)
						snn=$(pct "$(echo "$c" | json top1_agree 2>/dev/null || echo nan)" "$SNN_IMAGES")
						notes+=("SNN/T vs ANN logits max rel err $(fmt_err "$(echo "$c" | json max_rel_err 2>/dev/null || echo nan)"), ANN top-1 margin (median) $(fmt_err "$(echo "$c" | json ref_margin_median 2>/dev/null || echo nan)") of max\\|logit\\|")
					else
						snn="no ANN logits"
					fi
				else
					snn=FAIL notes+=("SNN eval: $(firstline "$L.snneval.log")")
				fi
				notes+=("SNN eval $((SECONDS - t1)) s")
			else
				if [ $relu = 1 ]; then conv=FAIL; else conv=refused; fi
				notes+=("convert: $(firstline "$L.convert.log")")
			fi
			cell "$R.convert" "$conv" "${snn:-—}" "$(IFS=';'; echo "${notes[*]}" | sed 's/;/; /g')"
		fi
	done
done

table >"$OUT/zoo.md.$$" && mv "$OUT/zoo.md.$$" "$OUT/zoo.md"
echo
cat "$OUT/zoo.md"
