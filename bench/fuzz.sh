#!/bin/bash
# Runs every fuzz target of the project for a while (default 10m each),
# two targets at a time with one worker each, and prints one line per
# target: its last progress line and the go test result. Logs go to
# ${FUZZ_LOGS:-/tmp/ann2snn-fuzz}. Long runs belong here, not in the suite.
#
# Each new interesting input is minimised for at most ${FUZZ_MINIMIZE:-2s}
# (go test's default, 60s, stalled FuzzReadModel at 8-76 executions a
# minute: its inputs are checksummed files of a few KB, and every new input
# was minimised for the full minute while no fuzzing happened).
#
#   bench/fuzz.sh [duration]
set -u
cd "$(dirname "$0")/.."
d=${1:-10m}
mt=${FUZZ_MINIMIZE:-2s}
logs=${FUZZ_LOGS:-/tmp/ann2snn-fuzz}
mkdir -p "$logs"
run() { # package target
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$d" -fuzzminimizetime "$mt" -parallel 1 "./$1" >"$logs/$2.log" 2>&1
	echo "$2 ($1): $(grep 'elapsed:' "$logs/$2.log" | tail -1) => $(tail -1 "$logs/$2.log")"
}
run importer FuzzParse & run importer FuzzTensor & wait
run dataset FuzzIDX & run dataset FuzzCIFAR & wait
run dataset FuzzNPY & run snnrt FuzzReadModel & wait
