#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan, and runs each one for SECONDS, one after another (the machines are
# small). Each corpus starts from the matching test images.
#   bash tests/fuzz/run.sh BUILD_DIR SECONDS
# Exits non-zero when a target finds a crash, a leak or a timeout; the input
# that triggered it is left in BUILD_DIR as crash-*, leak-* or timeout-*.
set -euo pipefail
BUILD=${1:?usage: tests/fuzz/run.sh BUILD_DIR SECONDS}
SECONDS_EACH=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
cd "$ROOT"

CC=${FUZZ_CC:-clang}
FLAGS=(-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -Inative_ops)
# Only what the decoders need: the image files, the tensor core and the error table.
SOURCES=(native_ops/errors.c native_ops/tensor_core.c native_ops/image_*.c)

# fuzz_image_jpeg -> seeds *.jpg, fuzz_image_png -> seeds *.png
failed=0
for target in tests/fuzz/fuzz_*.c; do
  name=$(basename "$target" .c)
  ext=${name##*_}
  [ "$ext" = jpeg ] && ext=jpg
  bin="$BUILD/$name"
  echo "fuzz: building $name"
  "$CC" "${FLAGS[@]}" "$target" "${SOURCES[@]}" -o "$bin" -ljpeg -lspng -lm -pthread
  corpus="$BUILD/corpus_$name"
  mkdir -p "$corpus"
  cp tests/data/images/*."$ext" tests/data/bad/*."$ext" "$corpus"/
  log="$BUILD/$name.log"
  echo "fuzz: running $name for ${SECONDS_EACH}s"
  if (cd "$BUILD" && "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -print_final_stats=1 "$corpus" >"$log" 2>&1); then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz: $name ok: ${SECONDS_EACH}s, $execs runs, $rate exec/s"
  else
    failed=1
    tail -40 "$log"
    echo "fuzz: $name FOUND A PROBLEM (log: $log)"
  fi
done
exit $failed
