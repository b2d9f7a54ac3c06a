#!/usr/bin/env bash
# Starts the store tests' HTTP servers (see servers.py) and waits until they
# answer. Prints "NGINX_PORT FAULT_PORT".
#   tests/http/start.sh STATE_DIR [OWNER_PID]
# OWNER_PID (default: the caller) is the process whose exit stops the
# servers; tests/http/stop.sh STATE_DIR stops them earlier.
set -euo pipefail
state=${1:?usage: start.sh STATE_DIR [OWNER_PID]}
owner=${2:-$PPID}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$state"
state=$(cd "$state" && pwd)
rm -f "$state/ready"
# setsid: the servers must not share the caller's terminal signals or hold
# its output open; they stop by themselves (see servers.py).
setsid /usr/bin/python3 "$here/servers.py" "$state" "$owner" </dev/null >"$state/servers.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  if [ -f "$state/ready" ]; then
    echo "$(cat "$state/nginx.port") $(cat "$state/fault.port")"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "start.sh: the test servers did not start:" >&2
cat "$state/servers.log" "$state/error.log" >&2 2>/dev/null || true
kill "$pid" 2>/dev/null || true
exit 1
