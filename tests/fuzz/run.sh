#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan and runs each one for SECONDS, one after another (the machines are
# small); then runs the safetensors loader's fuzzer (fuzz_safetensors.lua)
# inside an ASan build of dlrun for as long.
#   bash tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# TARGETs (fuzz_item_doc, fuzz_safetensors, ...) pick some; default: all.
# Prints runs, exec/s and the result of each target. Exits non-zero when one
# finds a crash, a leak or a timeout; the input that triggered it is left in
# BUILD_DIR as crash-*, leak-* or timeout-* (safetensors-crash-* for Lua).
#
# Corpora start from tests/data (images) and tests/fuzz/make_seeds.py (the
# runtime's inputs, with those that once failed), and grow in
# BUILD_DIR/corpus_TARGET from one run to the next.
set -euo pipefail
BUILD=${1:?usage: tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
SECONDS_EACH=${2:-60}
shift $(($# < 2 ? $# : 2))
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
cd "$ROOT"

CC=${FUZZ_CC:-clang}
LIB="$BUILD/lib"
# The runtime and native ops, instrumented for coverage and sanitized, through
# the Makefile's own rules; this also builds the ASan dlrun the Lua fuzzer uses.
echo "fuzz: building the instrumented library and dlrun in $LIB"
make --no-print-directory -j"$(nproc)" BUILD="$LIB" CC="$CC" SAN=1 CFLAGS=-fsanitize=fuzzer-no-link all \
  >"$BUILD/lib.log" 2>&1 || { tail -40 "$BUILD/lib.log"; exit 1; }
runtime_objs=()
for src in runtime/*.c; do
  [ "$src" = runtime/main.c ] || runtime_objs+=("$LIB/${src%.c}.o")
done
rm -f "$LIB/libdlruntime.a"
ar rcs "$LIB/libdlruntime.a" "${runtime_objs[@]}" "$LIB/gen/native_cdef.o"
DEPS_CFLAGS=$(sed -n 's/^DEPS_CFLAGS := //p' "$LIB/config.mk")
DEPS_LIBS=$(sed -n 's/^DEPS_LIBS := //p' "$LIB/config.mk")
FLAGS=(-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2
       -Inative_ops -Iruntime -Itests/fuzz)

rm -rf "$BUILD/seeds"
python3 tests/fuzz/make_seeds.py "$BUILD/seeds"

SELECTED=("$@")
wanted() { [ ${#SELECTED[@]} -eq 0 ] || [[ " ${SELECTED[*]} " == *" $1 "* ]]; }
failed=0

# Fills the corpus of target $1.
seed_corpus() {
  local name=$1 corpus="$BUILD/corpus_$1"
  mkdir -p "$corpus"
  case "$name" in
    fuzz_image_jpeg) cp tests/data/images/*.jpg tests/data/bad/*.jpg "$corpus"/ ;;
    fuzz_image_png) cp tests/data/images/*.png tests/data/bad/*.png "$corpus"/ ;;
    *) cp "$BUILD/seeds/$name"/* "$corpus"/ ;;
  esac
}

for target in tests/fuzz/fuzz_*.c; do
  name=$(basename "$target" .c)
  wanted "$name" || continue
  bin="$BUILD/$name"
  echo "fuzz: building $name"
  # shellcheck disable=SC2086 # the dependency flags are word lists
  "$CC" "${FLAGS[@]}" $DEPS_CFLAGS "$target" tests/fuzz/support.c -o "$bin" \
    "$LIB/libdlruntime.a" "$LIB/libdlnative.a" $DEPS_LIBS -pthread
  seed_corpus "$name"
  # Each target's scratch files live in a tmpfs when there is one: feature
  # sets and datasets fsync, which a disk would make the slowest part.
  scratch=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "$BUILD" )/dlrun-fuzz.XXXXXX")
  log="$BUILD/$name.log"
  echo "fuzz: running $name for ${SECONDS_EACH}s"
  if (cd "$BUILD" && TMPDIR="$scratch" "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
        -max_len=65536 -print_final_stats=1 "$BUILD/corpus_$name" >"$log" 2>&1); then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz: $name ok: ${SECONDS_EACH}s, $execs runs, $rate exec/s"
  else
    failed=1
    tail -40 "$log"
    echo "fuzz: $name FOUND A PROBLEM (log: $log)"
  fi
  rm -rf "$scratch"
done

if wanted fuzz_safetensors; then
  log="$BUILD/fuzz_safetensors.log"
  echo "fuzz: running fuzz_safetensors for ${SECONDS_EACH}s"
  if "$LIB/bin/dlrun" run tests/fuzz/fuzz_safetensors.lua \
       tests/data/safetensors/reference.safetensors "$BUILD" "$SECONDS_EACH" >"$log" 2>&1; then
    tail -1 "$log"
  else
    failed=1
    tail -40 "$log"
    echo "fuzz: fuzz_safetensors FOUND A PROBLEM (log: $log)"
  fi
fi
exit $failed
