# End-to-end tests of the model store through the CLI: artifact versions over
# file:// and over HTTP (a real nginx with WebDAV on loopback, and a fault
# server in front of it), and archives that try to escape.

# An adapter whose weights are a counter in weights.txt: save writes n + 1.
write_counter() {
  cat >"$1" <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'counter' }
function A:load(path)
  local f = io.open(path .. '/weights.txt')
  self.n = f and tonumber(f:read('*a')) or 0
  if f then f:close() end
  print('loaded n=' .. self.n)
end
function A:save(path)
  local f = assert(io.open(path .. '/weights.txt', 'w'))
  f:write(tostring(self.n + 1))
  f:close()
end
return A
LUA
}

start_servers() {
  STATE="$T/http"
  read -r NGINX_PORT FAULT_PORT < <(bash "$ROOT/tests/http/start.sh" "$STATE" $$)
}
stop_servers() { bash "$ROOT/tests/http/stop.sh" "$STATE"; }

test_versions_over_a_file_store() {
  write_counter a.lua
  local store="file://$T/elsewhere"
  expect_exit 0 "$DLRUN" a.lua save --store "$store"
  assert_contains "$OUT" "saved counter@v1"
  expect_exit 0 "$DLRUN" a.lua save --store "$store"
  assert_contains "$OUT" "loaded n=1"
  assert_contains "$OUT" "saved counter@v2"
  assert_file "$T/elsewhere/models/counter/artifacts/v2.tar.gz"
  expect_exit 0 "$DLRUN" a.lua load --store "$store" --model counter@v1
  assert_contains "$OUT" "loaded n=1"
  expect_exit 0 "$DLRUN" a.lua load --store "$store"
  assert_contains "$OUT" "loaded n=2"
  expect_exit 1 "$DLRUN" a.lua load --store "$store" --model counter@v7
  assert_contains "$OUT" "has no version v7 (the latest is v2)"
  # the recorded sha256 is the archive's
  /usr/bin/python3 - "$T/elsewhere/models/counter" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/model.json"))
for v in m["versions"]:
    data = open(f"{d}/artifacts/v{v['version']}.tar.gz", "rb").read()
    assert v["sha256"] == hashlib.sha256(data).hexdigest() and v["size"] == len(data), v
PY
}

test_versions_over_http_with_a_500_then_success_and_a_404() {
  start_servers
  trap stop_servers RETURN
  write_counter a.lua
  local store="http://127.0.0.1:$NGINX_PORT/store/"
  expect_exit 0 "$DLRUN" a.lua save --store "$store"
  assert_contains "$OUT" "saved counter@v1"
  expect_exit 0 "$DLRUN" a.lua save --store "$store"
  assert_contains "$OUT" "saved counter@v2"
  [ -f "$STATE/root/store/models/counter/artifacts/v2.tar.gz" ] || fail "v2 was not PUT to the server"
  # through the fault server: every path answers 500 once, then succeeds
  rm -rf "$DATALOOP_PATH/models"
  expect_exit 0 "$DLRUN" a.lua load --store "http://127.0.0.1:$FAULT_PORT/fail/1/store/" --model counter@v1
  assert_contains "$OUT" "loaded n=1"
  local hits
  hits=$(curl -s "http://127.0.0.1:$FAULT_PORT/_hits/GET/fail/1/store/models/counter/artifacts/v1.tar.gz")
  assert_eq 2 "$hits" "GETs of the archive (one 500, one success)"
  # a version whose archive is gone from the server: a clear 404 error
  rm "$STATE/root/store/models/counter/artifacts/v2.tar.gz"
  rm -rf "$DATALOOP_PATH/models"
  expect_exit 1 "$DLRUN" a.lua load --store "$store"
  assert_contains "$OUT" "HTTP 404"
  assert_contains "$OUT" "v2.tar.gz"
  [ ! -e "$DATALOOP_PATH/models/counter/weights.txt" ] || fail "a failed load left a working copy"
}

test_an_archive_with_escaping_entries_is_refused() {
  write_counter a.lua
  expect_exit 0 "$DLRUN" a.lua save
  expect_exit 0 "$DLRUN" a.lua load
  local dir="$DATALOOP_PATH/store/models/counter"
  /usr/bin/python3 - "$dir" <<'PY'
import hashlib, io, json, sys, tarfile
d = sys.argv[1]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    data = b"pwned"
    info = tarfile.TarInfo("../../escaped.txt")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
open(f"{d}/artifacts/v2.tar.gz", "wb").write(buf.getvalue())
m = json.load(open(f"{d}/model.json"))
m["versions"].append({"version": 2, "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
                      "size": len(buf.getvalue()), "created": "2026-01-01T00:00:00.000Z"})
json.dump(m, open(f"{d}/model.json", "w"))
PY
  expect_exit 1 "$DLRUN" a.lua load
  assert_contains "$OUT" "../../escaped.txt"
  [ ! -e "$DATALOOP_PATH/escaped.txt" ] && [ ! -e "$DATALOOP_PATH/models/escaped.txt" ] || fail "an entry escaped"
  # the previous working copy (v1) is still whole
  assert_eq 1 "$(cat "$DATALOOP_PATH/models/counter/weights.txt")" "working copy"
}

test_a_tampered_archive_fails_its_checksum() {
  write_counter a.lua
  expect_exit 0 "$DLRUN" a.lua save
  echo garbage >>"$DATALOOP_PATH/store/models/counter/artifacts/v1.tar.gz"
  rm -rf "$DATALOOP_PATH/models"
  expect_exit 1 "$DLRUN" a.lua load
  assert_contains "$OUT" "sha256"
}

test_model_commands() {
  expect_exit 0 "$DLRUN" model create m1 -l cat -l dog
  assert_contains "$OUT" "created model 'm1'"
  expect_exit 1 "$DLRUN" model create m1
  expect_exit 0 "$DLRUN" model list
  assert_contains "$OUT" "m1"
  assert_contains "$OUT" "created"
  expect_exit 0 "$DLRUN" model show m1
  assert_contains "$OUT" '"labels": ['
  write_counter a.lua
  expect_exit 0 "$DLRUN" a.lua save --model m1
  expect_exit 0 "$DLRUN" model list
  assert_contains "$OUT" "v1"
  expect_exit 0 "$DLRUN" model delete m1
  [ ! -e "$DATALOOP_PATH/store/models/m1" ] && [ ! -e "$DATALOOP_PATH/models/m1" ] || fail "model delete left files"
  expect_exit 1 "$DLRUN" model show m1
  assert_contains "$OUT" "not found"
}
