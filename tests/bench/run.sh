#!/usr/bin/env bash
# Runs the benchmarks of docs/benchmarks.md; `make bench` calls it.
#   tests/bench/run.sh BUILD_DIR [b1 b2 ...]     (or BENCH="b1" in the environment)
# With no names, every tests/bench/bN_*.sh runs, in order.
#
# Each benchmark is one script, tests/bench/bN_<what>.sh, run with these
# variables set:
#   BUILD          the build folder (absolute), with bin/dlrun and libdlnative.a
#   DLRUN          BUILD/bin/dlrun
#   BENCH_CORPUS   the folder of corpus photos (scripts/make-bench-corpus.sh)
#   BENCH_RESULTS  where it writes bN.json (BUILD/bench-results)
# It prints one table and exits non-zero only when the benchmark itself is
# broken (a column failed, outputs disagree), never for a missed target:
# targets are reported in the table and the JSON, not asserted.
set -euo pipefail

usage() { echo "usage: tests/bench/run.sh BUILD_DIR [b1 b2 ...]  (or BENCH=b1)" >&2; exit 2; }
[ $# -ge 1 ] || usage
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ -d "$1" ] || { echo "bench: build folder $1 not found (run make BUILD=$1 first)" >&2; exit 1; }
BUILD=$(cd "$1" && pwd)
shift
wanted=("$@")
if [ ${#wanted[@]} -eq 0 ] && [ -n "${BENCH:-}" ]; then read -r -a wanted <<<"$BENCH"; fi

export BUILD DLRUN="$BUILD/bin/dlrun"
export BENCH_RESULTS="$BUILD/bench-results"
[ -x "$DLRUN" ] || { echo "bench: $DLRUN not found (run make BUILD=$BUILD first)" >&2; exit 1; }

scripts=()
for s in "$ROOT"/tests/bench/b[0-9]*_*.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$s"); name=${name%%_*}
  if [ ${#wanted[@]} -gt 0 ]; then
    hit=0
    for w in "${wanted[@]}"; do [ "${w,,}" = "$name" ] && hit=1; done
    [ $hit -eq 1 ] || continue
  fi
  scripts+=("$s")
done
for w in "${wanted[@]}"; do
  found=0
  for s in "${scripts[@]}"; do [ "$(basename "$s" | cut -d_ -f1)" = "${w,,}" ] && found=1; done
  [ $found -eq 1 ] || { echo "bench: no benchmark named '$w' (tests/bench/${w,,}_*.sh)" >&2; exit 2; }
done
[ ${#scripts[@]} -gt 0 ] || { echo "bench: no benchmarks in tests/bench" >&2; exit 1; }

bash "$ROOT/scripts/install-deps.sh" bench
bash "$ROOT/scripts/make-bench-corpus.sh" "$ROOT/build/bench-cache" >&2
export BENCH_CORPUS="$ROOT/build/bench-cache/corpus/photos"
mkdir -p "$BENCH_RESULTS"

broken=()
for s in "${scripts[@]}"; do
  name=$(basename "$s" .sh)
  echo "== ${name}" >&2
  if ! bash "$s"; then broken+=("$name"); fi
done
echo
if [ ${#broken[@]} -gt 0 ]; then
  echo "bench: broken: ${broken[*]}" >&2
  exit 1
fi
echo "bench: ${#scripts[@]} benchmark(s) ran; results in $BENCH_RESULTS"
