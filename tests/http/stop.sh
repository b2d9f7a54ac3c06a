#!/usr/bin/env bash
# Stops the servers that tests/http/start.sh STATE_DIR started, and waits
# until they are gone.
#   tests/http/stop.sh STATE_DIR
set -uo pipefail
state=${1:?usage: stop.sh STATE_DIR}
[ -f "$state/servers.pid" ] || exit 0
pid=$(cat "$state/servers.pid")
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || exit 0
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null
exit 0
