#!/usr/bin/env bash
# Installs the Debian packages dlrun needs to build, test and run its demo.
# Idempotent: it installs only what is missing. As root it runs apt-get;
# otherwise it prints the exact command to run and fails.
#   scripts/install-deps.sh          build + test + demo packages
#   scripts/install-deps.sh bench    also the reference pipelines for `make bench`
#   scripts/install-deps.sh fuzz     also clang's libFuzzer runtime
set -euo pipefail

build_pkgs=(
  gcc make pkg-config
  libluajit-5.1-dev luajit lua-cjson
  libarchive-dev libcurl4-openssl-dev nettle-dev libjansson-dev zlib1g-dev
  libjpeg62-turbo-dev libturbojpeg0-dev libspng-dev
  libopenblas-dev libopenblas0-pthread   # headers; the threaded build dlrun loads, set to one thread
  libcairo2-dev libfontconfig-dev fonts-dejavu-core
)
test_pkgs=(
  lua-busted libcmocka-dev
  nginx-core              # real HTTP store (WebDAV PUT) on loopback for the store tests
  python3 python3-numpy python3-pil   # reference files written by the tests' helper scripts
  dataset-fashion-mnist   # the demo dataset
)
bench_pkgs=(python3-torch python3-torchvision python3-skimage python3-sklearn libjpeg-turbo-progs time)
fuzz_pkgs=(clang libclang-rt-dev)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
for extra in "$@"; do
  case "$extra" in
    bench) want+=("${bench_pkgs[@]}") ;;
    fuzz) want+=("${fuzz_pkgs[@]}") ;;
    *) echo "install-deps: unknown group '$extra' (known: bench, fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "dlrun needs these Debian packages: ${missing[*]}" >&2
  echo "install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A fresh machine may have no package lists yet; refresh once if an install fails.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  apt-get update -q >>"$log" 2>&1 || true
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "install-deps: apt-get failed (log above)" >&2
    exit 1
  fi
fi
echo "install-deps: done" >&2
