#!/usr/bin/env bash
# Runs the test_* functions of one end-to-end test file and reports TAP.
#   bash tests/e2e/harness.sh tests/e2e/test_cli.sh [NAME_FILTER]
# Each test runs in its own subshell with `set -e`, inside a fresh temp dir
# ($T, also the cwd) with DATALOOP_PATH=$T/home, so tests never share state.
# Helpers for the test files: fail, assert_eq, assert_contains,
# assert_not_contains, assert_file, expect_exit, and $DLRUN, $ROOT.
set -uo pipefail
file=${1:?usage: harness.sh TEST_FILE [NAME_FILTER]}
filter=${2:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ROOT
: "${DLRUN:=$ROOT/build/bin/dlrun}"
export DLRUN

fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { # expected actual [what]
  [ "$1" == "$2" ] || fail "${3:-value}: expected [$1], got [$2]"
}
assert_contains() { # haystack needle
  [[ "$1" == *"$2"* ]] || fail "expected to find [$2] in:
$1"
}
assert_not_contains() {
  [[ "$1" != *"$2"* ]] || fail "did not expect [$2] in:
$1"
}
assert_file() { [ -f "$1" ] || fail "missing file $1"; }
# expect_exit CODE cmd... : runs cmd, stores stdout+stderr in $OUT, checks the code.
expect_exit() {
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>&1) || rc=$?
  [ "$rc" -eq "$want" ] || fail "exit code: expected $want, got $rc from: $*
$OUT"
}

# shellcheck source=/dev/null
source "$file"
names=$(declare -F | awk '{print $3}' | grep '^test_' | grep -e "$filter" || true)
n=0
total=$(echo "$names" | grep -c . || true)
echo "1..$total"
for name in $names; do
  n=$((n + 1))
  T=$(mktemp -d "${TMPDIR:-/tmp}/dlrun-e2e.XXXXXX")
  log="$T.log"
  (
    set -e
    export T DATALOOP_PATH="$T/home"
    cd "$T"
    "$name"
  ) >"$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name"
    sed 's/^/#   /' "$log" | tail -40
  fi
  rm -rf "$T" "$log"
done
