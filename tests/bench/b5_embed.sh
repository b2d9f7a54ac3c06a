#!/usr/bin/env bash
# B5: embeddings (docs/benchmarks.md). Run by tests/bench/run.sh. Embeds the
# Fashion-MNIST test set (10,000 images), then times a top-10 cosine query of
# every vector against all the others: `dlrun similar --all` against numpy's
# brute force (X @ X.T, argpartition) on the same vectors (tests/bench/b5.py).
set -euo pipefail
: "${BUILD:?} ${DLRUN:?} ${BENCH_RESULTS:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
home=$BUILD/bench/b5/home
if [ ! -f "$home/datasets/fashion-mnist/dataset.json" ]; then
  # the test split in full; 1 training item keeps the import short
  "$DLRUN" dataset import fashion-mnist fashion-mnist --home "$home" --limit 10000 --validation 1 -q >&2
fi
exec /usr/bin/python3 "$HERE/b5.py" --dlrun "$DLRUN" --home "$home" --adapter "$HERE/b5_embed.lua" \
  --json "$BENCH_RESULTS/b5.json" --reps "${BENCH_REPS:-3}"
