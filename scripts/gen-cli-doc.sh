#!/usr/bin/env bash
# Refreshes the generated parts of docs/cli.md from dlrun's own --help texts,
# so that the CLI reference cannot drift from the binary.
#   scripts/gen-cli-doc.sh [--check] [DLRUN]     (DLRUN default: build/bin/dlrun)
#
# docs/cli.md marks each generated part with two comments:
#   <!-- generated: dlrun ADAPTER.lua predict --help -->
#   ...the command's output, in a text fence...
#   <!-- end generated -->
# and the prose around them is written by hand. The script runs each command
# (dlrun replaced by DLRUN, in an empty folder) and puts its output between
# the markers. --check changes nothing and exits 1 when a part is out of date,
# or when a command listed by `dlrun --help` has no part; the end-to-end test
# tests/e2e/test_docs.sh runs it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
DLRUN=${1:-$ROOT/build/bin/dlrun}
DLRUN=$(cd "$(dirname "$DLRUN")" && pwd)/$(basename "$DLRUN")
[ -x "$DLRUN" ] || { echo "gen-cli-doc.sh: $DLRUN is not an executable (build it with make)" >&2; exit 2; }
DOC="$ROOT/docs/cli.md"
EMPTY=$(mktemp -d)
OUT=$(mktemp)
trap 'rm -rf "$EMPTY" "$OUT"' EXIT

# The output of one marker's command, in a text fence.
generate() { # command line from the marker
  local words
  read -ra words <<<"$1"
  [ "${words[0]}" = dlrun ] || { echo "gen-cli-doc.sh: '$1' does not start with dlrun" >&2; exit 2; }
  words[0]=$DLRUN
  echo '```text'
  # DATALOOP_PATH and HOME are unset so that no default can show a local path
  (cd "$EMPTY" && env -u DATALOOP_PATH HOME=/nonexistent "${words[@]}" 2>&1) || true
  echo '```'
}

inside=0
markers=()
while IFS= read -r line || [ -n "$line" ]; do
  if [[ "$line" =~ ^\<\!--\ generated:\ (.*)\ --\>$ ]]; then
    [ $inside -eq 0 ] || { echo "gen-cli-doc.sh: docs/cli.md: a generated part is not closed before: $line" >&2; exit 2; }
    printf '%s\n' "$line"
    generate "${BASH_REMATCH[1]}"
    markers+=("${BASH_REMATCH[1]}")
    inside=1
  elif [ "$line" = "<!-- end generated -->" ]; then
    printf '%s\n' "$line"
    inside=0
  elif [ $inside -eq 0 ]; then
    printf '%s\n' "$line"
  fi
done <"$DOC" >"$OUT"
[ $inside -eq 0 ] || { echo "gen-cli-doc.sh: docs/cli.md: the last generated part is not closed" >&2; exit 2; }

# Every command of `dlrun --help` has its part.
missing=()
while IFS= read -r cmd; do
  found=0
  for m in "${markers[@]}"; do
    [[ " $m " == *" $cmd --help "* ]] && found=1
  done
  [ $found -eq 1 ] || missing+=("$cmd")
done < <("$DLRUN" --help | awk '/^(Adapter|Other) commands/ { on = 1; next } /^$/ { on = 0 } on' |
  sed -E 's/^  ([a-z]+( [a-z]+)?)  .*/\1/')

if [ $check -eq 1 ]; then
  rc=0
  if ! diff -u "$DOC" "$OUT" >&2; then
    echo "gen-cli-doc.sh: docs/cli.md differs from the --help texts (above); run scripts/gen-cli-doc.sh" >&2
    rc=1
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "gen-cli-doc.sh: docs/cli.md has no generated part for: ${missing[*]}" >&2
    rc=1
  fi
  exit $rc
fi
cp "$OUT" "$DOC"
if [ ${#missing[@]} -gt 0 ]; then
  echo "gen-cli-doc.sh: add a part (<!-- generated: dlrun ... --help -->) for: ${missing[*]}" >&2
  exit 1
fi
echo "gen-cli-doc.sh: docs/cli.md is up to date with $DLRUN"
