#!/usr/bin/env bash
# Prints the compiler and linker flags of dlrun's dependencies as make
# variables (the Makefile includes the result as $(BUILD)/config.mk).
set -euo pipefail
pkgs="luajit libarchive libcurl libcrypto libjpeg libturbojpeg spng openblas jansson cairo fontconfig zlib"
if ! pkg-config --exists $pkgs; then
  for p in $pkgs; do pkg-config --exists "$p" || echo "configure: pkg-config cannot find '$p'" >&2; done
  exit 1
fi
echo "DEPS_CFLAGS := $(pkg-config --cflags $pkgs)"
echo "DEPS_LIBS := $(pkg-config --libs $pkgs) -lm"
