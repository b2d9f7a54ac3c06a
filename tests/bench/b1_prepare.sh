#!/usr/bin/env bash
# B1: preparing items, the predict_items hot path (docs/benchmarks.md).
# Run by tests/bench/run.sh, which sets BUILD, DLRUN, BENCH_CORPUS and
# BENCH_RESULTS. Builds the limit program against BUILD's native_ops, then
# measures every column in one invocation (tests/bench/b1.py).
#   BENCH_REPS (5)    measurements per column; the median is reported
#   BENCH_PASSES (2)  timed passes over the corpus per measurement
set -euo pipefail
: "${BUILD:?} ${DLRUN:?} ${BENCH_CORPUS:?} ${BENCH_RESULTS:?}"
HERE=$(cd "$(dirname "$0")" && pwd)

[ -f "$BUILD/libdlnative.a" ] || { echo "b1: $BUILD/libdlnative.a is missing (make BUILD=$BUILD)" >&2; exit 1; }
[ -f "$BUILD/config.mk" ] || { echo "b1: $BUILD/config.mk is missing (make BUILD=$BUILD)" >&2; exit 1; }
libs=$(sed -n 's/^DEPS_LIBS := //p' "$BUILD/config.mk")
work=$BUILD/bench
mkdir -p "$work"
limit=$work/b1_limit
if [ ! -x "$limit" ] || [ "$limit" -ot "$HERE/b1_limit.c" ] || [ "$limit" -ot "$BUILD/libdlnative.a" ]; then
  # shellcheck disable=SC2086 # DEPS_LIBS is a list of flags
  cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -I"$HERE/../../native_ops" "$HERE/b1_limit.c" \
    -o "$limit.tmp" "$BUILD/libdlnative.a" $libs -pthread
  mv "$limit.tmp" "$limit"
fi

list=$work/b1_files.txt
find "$BENCH_CORPUS" -maxdepth 1 -name '*.jpg' | LC_ALL=C sort >"$list"
[ -s "$list" ] || { echo "b1: no JPEGs in $BENCH_CORPUS" >&2; exit 1; }

exec /usr/bin/python3 "$HERE/b1.py" --dlrun "$DLRUN" --limit "$limit" --list "$list" \
  --json "$BENCH_RESULTS/b1.json" --reps "${BENCH_REPS:-5}" --passes "${BENCH_PASSES:-2}"
