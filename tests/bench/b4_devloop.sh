#!/usr/bin/env bash
# B4: the developer loop (docs/benchmarks.md): cold start of a predict on one
# photo against Python's `import numpy, PIL`, and --watch reload latency from
# the file write to the printed results on 10 items. Run by tests/bench/run.sh,
# which sets DLRUN, BENCH_CORPUS and BENCH_RESULTS.
#   BENCH_REPS (21)     cold starts of each side; the medians are compared
#   BENCH_RELOADS (21)  timed reloads
set -euo pipefail
: "${DLRUN:?} ${BENCH_CORPUS:?} ${BENCH_RESULTS:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$HERE/b4.py" --dlrun "$DLRUN" --corpus "$BENCH_CORPUS" --json "$BENCH_RESULTS/b4.json" \
  --reps "${BENCH_REPS:-21}" --reloads "${BENCH_RELOADS:-21}"
