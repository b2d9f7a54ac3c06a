#!/usr/bin/env bash
# Prints the compiler and linker flags of dlrun's dependencies as make
# variables (the Makefile includes the result as $(BUILD)/config.mk).
#
# Two kinds of dependencies:
#   linked   every run needs them; they are linked as usual.
#   lazy     only some paths need them (HTTP, archives, plots, BLAS). dlrun
#            compiles against their headers but opens them with dlopen on
#            first use (runtime/lazy_lib.h, native_ops/blas.c), which keeps
#            their ~50 shared objects out of every start. Their sonames,
#            read from the libraries compiled against, become -D flags;
#            OpenBLAS is its threaded build, by path (blas.c says why).
set -euo pipefail
linked="luajit libjpeg libturbojpeg spng jansson nettle zlib"
lazy="libcurl libarchive cairo fontconfig openblas"
missing=0
for p in $linked $lazy; do
  pkg-config --exists "$p" || { echo "configure: pkg-config cannot find '$p'" >&2; missing=1; }
done
[ $missing -eq 0 ] || exit 1

# The soname of library lib<name>.so of pkg-config package pkg.
soname() {
  local pkg=$1 name=$2 dir file so
  dir=$(pkg-config --variable=libdir "$pkg")
  file="$dir/lib$name.so"
  [ -e "$file" ] || { echo "configure: $file (of $pkg) not found" >&2; return 1; }
  so=$(objdump -p "$file" | awk '$1 == "SONAME" { print $2 }')
  [ -n "$so" ] || { echo "configure: $file has no SONAME" >&2; return 1; }
  printf '%s' "$so"
}

sonames="-DRT_SONAME_CURL='\"$(soname libcurl curl)\"'"
sonames+=" -DRT_SONAME_ARCHIVE='\"$(soname libarchive archive)\"'"
sonames+=" -DRT_SONAME_CAIRO='\"$(soname cairo cairo)\"'"
sonames+=" -DRT_SONAME_FONTCONFIG='\"$(soname fontconfig fontconfig)\"'"
openblas=$(dpkg-query -L libopenblas0-pthread 2>/dev/null | grep '/libopenblas\.so\.0$' | head -n 1 || true)
[ -n "$openblas" ] || { echo "configure: libopenblas0-pthread is not installed" >&2; exit 1; }
sonames+=" -DDL_OPENBLAS_PATH='\"$openblas\"'"

echo "DEPS_CFLAGS := $(pkg-config --cflags $linked $lazy) $sonames"
echo "DEPS_LIBS := $(pkg-config --libs $linked) -lm"
# For the tests that call those libraries themselves, to check dlrun's output.
echo "LAZY_LIBS := $(pkg-config --libs $lazy)"
