#!/usr/bin/env bash
# B2: predict_items end to end (docs/benchmarks.md). Run by tests/bench/run.sh.
# Imports the corpus photos as a dataset once (1x) and ten times over (10x,
# hard-linked copies), then alternates B1's dlrun column with whole
# `dlrun b2_noop.lua predict` runs over both datasets (tests/bench/b2.py).
set -euo pipefail
: "${BUILD:?} ${DLRUN:?} ${BENCH_CORPUS:?} ${BENCH_RESULTS:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
work=$BUILD/bench/b2
home=$work/home
mkdir -p "$work"
if [ ! -f "$home/datasets/b2x10/dataset.json" ]; then
  rm -rf "$home" "$work/x1" "$work/x10"
  mkdir -p "$work/x1/photos"
  for f in "$BENCH_CORPUS"/*.jpg; do ln "$f" "$work/x1/photos/" 2>/dev/null || cp "$f" "$work/x1/photos/"; done
  for k in $(seq 0 9); do
    mkdir -p "$work/x10/photos$k"
    for f in "$work"/x1/photos/*.jpg; do ln "$f" "$work/x10/photos$k/" 2>/dev/null || cp "$f" "$work/x10/photos$k/"; done
  done
  "$DLRUN" dataset import folder "$work/x1" b2x1 --home "$home" -q >&2
  "$DLRUN" dataset import folder "$work/x10" b2x10 --home "$home" -q >&2
fi
list=$work/b1_files.txt
find "$BENCH_CORPUS" -maxdepth 1 -name '*.jpg' | LC_ALL=C sort >"$list"
exec /usr/bin/python3 "$HERE/b2.py" --dlrun "$DLRUN" --home "$home" --adapter "$HERE/b2_noop.lua" \
  --b1 "$HERE/b1_dlrun.lua" --list "$list" --json "$BENCH_RESULTS/b2.json" --reps "${BENCH_REPS:-3}"
