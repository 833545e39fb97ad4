#!/bin/bash
# Runs every fuzz target of the project for a while (default 10m each),
# two targets at a time with one worker each, and prints one line per
# target: its last progress line and the go test result. Logs go to
# ${FUZZ_LOGS:-/tmp/ann2snn-fuzz}. Long runs belong here, not in the suite.
#
# Each new interesting input is minimised with at most ${FUZZ_MINIMIZE:-100x}
# (100 executions). go test's default, 60s of minimising per new input,
# stalled FuzzReadModel at 8-76 executions a minute (the coordinator counts
# nothing while a worker minimises, and its checksummed inputs found new
# coverage often); 2s still left it at ~11,000 a minute, 100x at ~450,000.
# A crasher is written to the package's testdata/fuzz/: move it out (or
# commit it as a regression seed) before committing.
#
#   bench/fuzz.sh [duration]
set -u
cd "$(dirname "$0")/.."
d=${1:-10m}
mt=${FUZZ_MINIMIZE:-100x}
logs=${FUZZ_LOGS:-/tmp/ann2snn-fuzz}
mkdir -p "$logs"
run() { # package target
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$d" -fuzzminimizetime "$mt" -parallel 1 "./$1" >"$logs/$2.log" 2>&1
	echo "$2 ($1): $(grep 'elapsed:' "$logs/$2.log" | tail -1) => $(tail -1 "$logs/$2.log")"
}
run importer FuzzParse & run importer FuzzTensor & wait
run dataset FuzzIDX & run dataset FuzzCIFAR & wait
run dataset FuzzNPY & run snnrt FuzzReadModel & wait
run dataset FuzzImage & wait
