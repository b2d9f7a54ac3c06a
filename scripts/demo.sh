#!/usr/bin/env bash
# `make demo`: the main job on the embedded default store ($DATALOOP_PATH, else
# ~/.dataloop): import Fashion-MNIST, train the example MLP, evaluate it on
# /test, predict with it, embed /test and query the nearest neighbours.
# Re-running skips the import and trains anew.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DLRUN="$ROOT/$BUILD/bin/dlrun"
ADAPTER="$ROOT/adapters_lua/fashion_mlp.lua"
home=${DATALOOP_PATH:-$HOME/.dataloop}

step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

echo "dlrun demo on the store at $home"
if [ -f "$home/datasets/fashion-mnist/dataset.json" ]; then
  echo "== 1. dataset: fashion-mnist is already imported"
else
  step "1. import Fashion-MNIST (70,000 PNGs with class ground truth)" \
    "$DLRUN" dataset import fashion-mnist fashion-mnist
fi
step "2. train the MLP on /train and /validation (train_model)" \
  "$DLRUN" "$ADAPTER" train --dataset fashion-mnist --cleanup
step "3. evaluate it on /test (evaluate_model)" \
  "$DLRUN" "$ADAPTER" evaluate --dataset fashion-mnist
step "4. predict a few test items as JSON Lines (predict_items)" \
  "$DLRUN" "$ADAPTER" predict -q --out - "$home"/datasets/fashion-mnist/items/test/0000{1,2,3}.png

step "5. embed /test with the trained MLP's last hidden layer (embed_items)" \
  "$DLRUN" "$ROOT/adapters_lua/fashion_embedder.lua" embed --model fashion-mlp --dataset fashion-mnist --filter dir=/test
step "6. the nearest neighbours of /test/00001.png (cosine, over the feature set)" \
  "$DLRUN" similar --model fashion-mlp /test/00001.png -k 5

run=$(ls -d "$home"/runs/*-evaluate-fashion-mlp* | tail -n 1)
accuracy=$(/usr/bin/python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["class"]["accuracy"])' \
  "$run/metrics.json")
printf '\n== done\ntest accuracy: %s\nconfusion matrix: %s\nmodel: %s\n' "$accuracy" "$run/confusion_matrix.png" \
  "$("$DLRUN" model list --home "$home" | grep fashion-mlp)"
