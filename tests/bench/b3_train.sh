#!/usr/bin/env bash
# B3: training (docs/benchmarks.md). Run by tests/bench/run.sh, which sets
# BUILD, DLRUN and BENCH_RESULTS. Imports Fashion-MNIST once into
# build/bench-cache/fashion-mnist (PNG items for dlrun; PyTorch reads the same
# IDX files), then tests/bench/b3.py trains the example MLP and CNN in dlrun
# and the same networks in PyTorch CPU, one epoch each in turn.
#   B3_MLP_EPOCHS (5), B3_CNN_EPOCHS (2)   epochs per network; the README's
#                                          recipes use 15 and 10
set -euo pipefail
: "${BUILD:?} ${DLRUN:?} ${BENCH_RESULTS:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
IDX=/usr/share/datasets/fashion-mnist
cache=$ROOT/build/bench-cache/fashion-mnist
[ -f "$IDX/train-images-idx3-ubyte.gz" ] || { echo "b3: $IDX is missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }

# train/ and test/ subset folders (items/ + json/), hard links into one import
if [ ! -d "$cache/test/json" ]; then
  rm -rf "$cache"
  mkdir -p "$cache"
  "$DLRUN" dataset import fashion-mnist "$cache/dataset" --validation 0 --home "$cache/home" -q >&2
  for split in train test; do
    mkdir -p "$cache/$split.tmp/items" "$cache/$split.tmp/json"
    cp -al "$cache/dataset/items/$split" "$cache/$split.tmp/items/"
    cp -al "$cache/dataset/json/$split" "$cache/$split.tmp/json/"
    mv "$cache/$split.tmp" "$cache/$split"
  done
fi

cd "$ROOT" # the dlrun worker loads the adapters from adapters_lua/
exec /usr/bin/python3 "$HERE/b3.py" --dlrun "$DLRUN" --data "$cache" --idx "$IDX" \
  --json "$BENCH_RESULTS/b3.json" --mlp-epochs "${B3_MLP_EPOCHS:-5}" --cnn-epochs "${B3_CNN_EPOCHS:-2}"
