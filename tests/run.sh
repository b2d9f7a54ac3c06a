#!/usr/bin/env bash
# Runs every test kind and ends with one line: "N passed, N failed".
#   tests/run.sh BUILD_DIR [cmocka|busted|e2e ...]   (default: all three)
# cmocka binaries report in TAP, busted specs run inside dlrun with -o TAP,
# end-to-end scripts use tests/e2e/harness.sh; this script sums the three.
set -uo pipefail
BUILD=${1:?usage: tests/run.sh BUILD_DIR [kinds...]}
shift
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(cmocka busted e2e)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
cd "$ROOT"
export DLRUN="$BUILD/bin/dlrun"
passed=0 failed=0
failed_names=()

# Reads TAP on stdin, echoes it, and adds its ok/not ok lines to the totals.
count_tap() {
  local label=$1 line
  while IFS= read -r line; do
    printf '%s\n' "$line"
    case "$line" in
      "not ok"*) failed=$((failed + 1)); failed_names+=("$label: ${line#not ok }") ;;
      "ok"*) passed=$((passed + 1)) ;;
    esac
  done
}

run_tap() { # label, command...: a command whose crash or silent exit must also count
  local label=$1 out rc
  shift
  out=$(mktemp)
  "$@" >"$out" 2>&1
  rc=$?
  local before=$((passed + failed)) failed_before=$failed
  count_tap "$label" <"$out"
  if [ $rc -ne 0 ] && [ $failed -eq $failed_before ]; then
    failed=$((failed + 1)); failed_names+=("$label: exited $rc without reporting a failing test")
  elif [ $((passed + failed)) -eq $before ]; then
    failed=$((failed + 1)); failed_names+=("$label: reported no tests")
  fi
  rm -f "$out"
}

for kind in "${kinds[@]}"; do
  case "$kind" in
    cmocka)
      for t in "$BUILD"/tests/native_ops/test_* "$BUILD"/tests/runtime/test_*; do
        [ -x "$t" ] || continue
        [[ "$t" == *.d ]] && continue
        echo "# cmocka: ${t#"$BUILD"/tests/}"
        CMOCKA_MESSAGE_OUTPUT=TAP run_tap "cmocka ${t##*/}" "$t"
      done ;;
    busted)
      echo "# busted: spec/"
      run_tap "busted" "$DLRUN" test -o TAP spec ;;
    e2e)
      for t in "$ROOT"/tests/e2e/test_*.sh; do
        [ -f "$t" ] || continue
        echo "# e2e: ${t##*/}"
        run_tap "e2e ${t##*/}" bash "$ROOT/tests/e2e/harness.sh" "$t"
      done ;;
    *) echo "tests/run.sh: unknown kind '$kind' (cmocka, busted, e2e)" >&2; exit 2 ;;
  esac
done

if [ ${#failed_names[@]} -gt 0 ]; then
  echo "# failures:"
  printf '#   %s\n' "${failed_names[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
