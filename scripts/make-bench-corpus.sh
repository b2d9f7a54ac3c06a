#!/usr/bin/env bash
# Builds the benchmark corpus: about 200 JPEG photos of 0.3-2 MP derived from
# the real photos that Debian's python3-skimage and python3-sklearn ship.
#   scripts/make-bench-corpus.sh [CACHE_DIR]     (default: build/bench-cache)
# The packages are fetched with `apt-get download` and unpacked with
# `dpkg -x` into CACHE_DIR/debs (nothing is installed); the pictures go to
# CACHE_DIR/corpus/photos/ (one class folder, so torchvision's ImageFolder
# reads it as is). Idempotent: a corpus built by the same recipe is kept.
# Needs /usr/bin/python3 with python3-pil and python3-numpy.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${1:-$ROOT/build/bench-cache}
COUNT=${BENCH_CORPUS_COUNT:-200}
PY=/usr/bin/python3
RECIPE=$ROOT/tests/bench/make_corpus.py
CORPUS=$CACHE/corpus

die() { echo "make-bench-corpus: $*" >&2; exit 1; }

# The real photos among the packages' data files (the rest are test patterns,
# textures and tiny fixtures).
SKIMAGE_PHOTOS=(astronaut.png camera.png chelsea.png coffee.png hubble_deep_field.jpg ihc.png moon.png
                motorcycle_left.png motorcycle_right.png retina.jpg rocket.jpg)
SKLEARN_PHOTOS=(china.jpg flower.jpg)

stamp="recipe=$(sha256sum "$RECIPE" | cut -c1-16) count=$COUNT"
if [ -f "$CORPUS/.complete" ] && [ "$(cat "$CORPUS/.complete")" = "$stamp" ]; then
  echo "make-bench-corpus: $CORPUS is up to date ($COUNT photos)" >&2
  exit 0
fi

"$PY" -c 'import PIL, numpy' 2>/dev/null || die "$PY needs python3-pil and python3-numpy (scripts/install-deps.sh)"
command -v apt-get >/dev/null || die "apt-get not found: the corpus is derived from Debian packages"

# Fetch and unpack the two packages (kept in the cache for later runs).
mkdir -p "$CACHE/debs"
unpacked=$CACHE/debs/root
if [ ! -f "$unpacked/.complete" ]; then
  rm -rf "$unpacked"
  mkdir -p "$unpacked"
  (
    cd "$CACHE/debs"
    rm -f ./*.deb
    # As root, apt warns that its sandbox user cannot write here; harmless.
    if ! apt-get download python3-skimage python3-sklearn 2>apt.log; then
      cat apt.log >&2
      die "apt-get download failed (run apt-get update first?)"
    fi
    for deb in ./*.deb; do dpkg -x "$deb" "$unpacked"; done
  )
  touch "$unpacked/.complete"
fi

sources=()
for f in "${SKIMAGE_PHOTOS[@]}"; do sources+=("$unpacked/usr/lib/python3/dist-packages/skimage/data/$f"); done
for f in "${SKLEARN_PHOTOS[@]}"; do sources+=("$unpacked/usr/lib/python3/dist-packages/sklearn/datasets/images/$f"); done
for s in "${sources[@]}"; do [ -f "$s" ] || die "expected photo $s is missing from the unpacked packages"; done

# Build into a fresh folder and move it into place, so an interrupted run
# never leaves a partial corpus that looks complete.
tmp=$CACHE/corpus.tmp
rm -rf "$tmp"
"$PY" "$RECIPE" "$tmp/photos" "$COUNT" "${sources[@]}"
printf '%s\n' "$stamp" >"$tmp/.complete"
rm -rf "$CORPUS"
mv "$tmp" "$CORPUS"
