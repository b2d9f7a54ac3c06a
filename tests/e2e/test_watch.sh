# End-to-end tests of --watch (hot reload). Run by tests/e2e/harness.sh: each
# test_* runs in a fresh temp dir ($T). dlrun runs in the background; the
# tests edit files the way editors save them and wait (bounded) for the runs
# to show up in its output. The watcher is stopped when a test ends, also
# when it fails.

# An adapter whose load writes a line to stderr (so loads can be counted) and
# sets self.scale, and whose predict labels every item LABEL with confidence
# self.scale.
write_adapter() { # file label [scale]
  cat >"$1" <<LUA
local dl = require 'dl'
local A = dl.Adapter { name = 'watched', labels = { 'red', 'blue' }, configuration = { batch_size = 2 } }
function A:load(path)
  io.stderr:write('LOAD CALLED\n')
  self.scale = ${3:-0.9}
end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { dl.classification('$2', self.scale) } end
  return out
end
return A
LUA
}

make_items() {
  mkdir -p items
  cp "$ROOT/tests/data/images/rgb8.png" items/a.png
  cp "$ROOT/tests/data/images/gray8.png" items/b.png
  cp "$ROOT/tests/data/images/photo.png" items/c.png
}

# start_watch ARGS...: dlrun ARGS in the background, output in watch.out and
# watch.err; stopped (Ctrl-C, then KILL) when the test ends.
start_watch() {
  "$DLRUN" "$@" >watch.out 2>watch.err &
  WATCH_PID=$!
  trap stop_watch EXIT
}

stop_watch() {
  [ -n "${WATCH_PID:-}" ] || return 0
  kill -INT "$WATCH_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$WATCH_PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$WATCH_PID" 2>/dev/null || true
  wait "$WATCH_PID" 2>/dev/null || true
  WATCH_PID=
}

# wait_for FILE TEXT [COUNT]: until FILE holds TEXT on COUNT lines (10 s at most).
wait_for() {
  local want=${3:-1} n deadline=$((SECONDS + 10))
  while :; do
    n=$(grep -cF -- "$2" "$1" 2>/dev/null || true)
    [ "${n:-0}" -ge "$want" ] && return 0
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$WATCH_PID" 2>/dev/null; then
      fail "waited for [$2] x$want in $1; got:
$(cat watch.out)
--- stderr:
$(cat watch.err)"
    fi
    sleep 0.05
  done
}

# runs_done N: the watcher finished N runs and waits for changes.
runs_done() { wait_for watch.err "dlrun: watch: watching" "$1"; }

count() { grep -cF -- "$2" "$1" || true; }

test_edit_changes_the_output_without_loading_again() {
  make_items
  write_adapter a.lua red
  start_watch a.lua predict --watch items
  runs_done 1
  assert_contains "$(cat watch.out)" "/a.png: class red 0.90"
  assert_contains "$(cat watch.out)" "/c.png: class red 0.90"
  write_adapter a.lua blue
  runs_done 2
  assert_contains "$(cat watch.out)" "/a.png: class blue 0.90"
  assert_eq 3 "$(count watch.out 'class blue 0.90')" "items predicted by the new version"
  assert_contains "$(cat watch.err)" "a.lua changed, running again"
  # only predict changed: load ran once, its self.scale was carried over
  assert_eq 1 "$(count watch.err 'LOAD CALLED')" "load calls"
  assert_contains "$(cat watch.err)" "load skipped: kept the model state of the last load"
  assert_contains "$(cat watch.err)" "dlrun: watch: done in "
}

test_syntax_error_shows_file_line_keeps_the_last_version_and_resumes() {
  make_items
  write_adapter a.lua red
  start_watch a.lua predict --watch items
  runs_done 1
  sed -i 's/local out = {}/local out = = {}/' a.lua
  runs_done 2
  assert_contains "$(cat watch.err)" "dlrun: a.lua:8: unexpected symbol near '='"
  assert_contains "$(cat watch.err)" "the run failed (above), the last good model state is kept"
  assert_eq 3 "$(count watch.out 'class red')" "result lines (none from the broken version)"
  kill -0 "$WATCH_PID" || fail "the watcher exited on a syntax error"
  write_adapter a.lua blue
  runs_done 3
  assert_contains "$(cat watch.out)" "/b.png: class blue 0.90"
  # the fix resumed with the model state of the last good load
  assert_eq 1 "$(count watch.err 'LOAD CALLED')" "load calls"
}

test_runtime_error_shows_file_line_and_traceback_then_resumes() {
  make_items
  write_adapter a.lua red
  start_watch a.lua predict --watch items
  runs_done 1
  sed -i "s/for i = 1, batch.n do/local boom = nil; boom.x = 1\n  for i = 1, batch.n do/" a.lua
  runs_done 2
  assert_contains "$(cat watch.err)" "a.lua:9: attempt to index local 'boom'"
  assert_contains "$(cat watch.err)" "stack traceback:"
  write_adapter a.lua blue
  runs_done 3
  assert_contains "$(cat watch.out)" "/c.png: class blue 0.90"
}

test_editing_a_required_module_reloads() {
  make_items
  mkdir -p lib
  echo "return { label = 'red' }" >lib_label.lua
  cat >a.lua <<'LUA'
local dl = require 'dl'
local names = require 'lib_label'
local A = dl.Adapter { name = 'watched', configuration = { batch_size = 8 } }
function A:load() end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { dl.classification(names.label, 0.5) } end
  return out
end
return A
LUA
  start_watch a.lua predict --watch items
  runs_done 1
  assert_contains "$(cat watch.out)" "/a.png: class red 0.50"
  echo "return { label = 'green' }" >lib_label.lua
  runs_done 2
  assert_contains "$(cat watch.err)" "lib_label.lua changed, running again"
  assert_contains "$(cat watch.out)" "/a.png: class green 0.50"
}

test_save_by_rename_reloads() {
  make_items
  write_adapter a.lua red
  start_watch a.lua predict --watch items
  runs_done 1
  # vim and VS Code write a new file and rename it over the old one
  write_adapter .a.lua.swp blue
  mv .a.lua.swp a.lua
  runs_done 2
  assert_contains "$(cat watch.out)" "/a.png: class blue 0.90"
  # and again: the watch survives the replaced inode
  write_adapter .a.lua.swp red 0.8
  mv .a.lua.swp a.lua
  runs_done 3
  assert_contains "$(cat watch.out)" "/a.png: class red 0.80"
}

test_load_runs_again_when_load_changes() {
  make_items
  write_adapter a.lua red 0.9
  start_watch a.lua predict --watch items
  runs_done 1
  write_adapter a.lua red 0.7
  runs_done 2
  assert_eq 2 "$(count watch.err 'LOAD CALLED')" "load calls"
  assert_contains "$(cat watch.err)" "load ran: load changed"
  assert_contains "$(cat watch.out)" "/a.png: class red 0.70"
}

test_reload_model_loads_on_every_run() {
  make_items
  write_adapter a.lua red
  start_watch a.lua predict --watch --reload-model items
  runs_done 1
  write_adapter a.lua blue
  runs_done 2
  assert_eq 2 "$(count watch.err 'LOAD CALLED')" "load calls"
  assert_contains "$(cat watch.err)" "load ran: --reload-model"
}

test_state_load_cannot_keep_makes_load_run_every_time() {
  make_items
  cat >a.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'watched', configuration = { batch_size = 8 } }
function A:load()
  io.stderr:write('LOAD CALLED\n')
  self.label_of = function() return 'red' end
end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { dl.classification(self.label_of(), 0.5) } end
  return out
end
return A
LUA
  start_watch a.lua predict --watch items
  runs_done 1
  assert_contains "$(cat watch.err)" "load() will run on every reload: self.label_of is a function"
  sed -i 's/0.5)/0.6)/' a.lua
  runs_done 2
  assert_eq 2 "$(count watch.err 'LOAD CALLED')" "load calls"
  assert_contains "$(cat watch.out)" "/a.png: class red 0.60"
}

test_model_objects_keep_their_weights_and_get_the_new_methods() {
  make_items
  mkdir -p models
  cat >models/scaler.lua <<'LUA'
local Scaler = {}
Scaler.__index = Scaler
local M = {}
function M.new(w) return setmetatable({ w = w }, Scaler) end
function Scaler:score() return self.w:get(1) end
return M
LUA
  cat >a.lua <<'LUA'
local dl = require 'dl'
local scaler = require 'models.scaler'
local A = dl.Adapter { name = 'watched', configuration = { batch_size = 8 } }
function A:load()
  io.stderr:write('LOAD CALLED\n')
  self.model = scaler.new(dl.tensor.from_table({ 0.25, 0.75 }))
end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { dl.classification('red', self.model:score()) } end
  return out
end
return A
LUA
  start_watch a.lua predict --watch items
  runs_done 1
  assert_contains "$(cat watch.out)" "/a.png: class red 0.25"
  sed -i 's/self.w:get(1)/self.w:get(2)/' models/scaler.lua
  runs_done 2
  assert_contains "$(cat watch.out)" "/a.png: class red 0.75"
  assert_eq 1 "$(count watch.err 'LOAD CALLED')" "load calls"
}

test_embed_watch_prints_vectors_and_reloads() {
  make_items
  cat >e.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'emb', configuration = { batch_size = 8 } }
function A:load() end
function A:embed(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { 1, 0, 0 } end
  return out
end
return A
LUA
  start_watch e.lua embed --watch items
  runs_done 1
  assert_contains "$(cat watch.out)" "/a.png: 3-d [1.000, 0.000, 0.000] norm 1.000"
  sed -i 's/{ 1, 0, 0 }/{ 0, 3, 4 }/' e.lua
  runs_done 2
  assert_contains "$(cat watch.out)" "/b.png: 3-d [0.000, 3.000, 4.000] norm 5.000"
}

test_ctrl_c_exits_cleanly() {
  make_items
  write_adapter a.lua red
  start_watch a.lua predict --watch items
  runs_done 1
  kill -INT "$WATCH_PID"
  local rc=0
  for _ in $(seq 100); do kill -0 "$WATCH_PID" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$WATCH_PID" 2>/dev/null && fail "still running 5 s after Ctrl-C"
  wait "$WATCH_PID" || rc=$?
  WATCH_PID=
  assert_eq 0 "$rc" "exit code after Ctrl-C"
  assert_contains "$(cat watch.err)" "dlrun: watch: stopped"
}

test_watch_does_not_combine_with_resume() {
  make_items
  write_adapter a.lua red
  expect_exit 2 "$DLRUN" a.lua predict --watch --resume --out res items
  assert_contains "$OUT" "--watch runs every item again on each save: drop --resume"
}

test_evaluate_watch_reports_new_metrics() {
  # a dataset with ground truth, written by dl.testing
  cat >make_dataset.lua <<'LUA'
local dl = require 'dl'
local testing = require 'dl.testing'
local items = {}
for i, c in ipairs({ { 'red', { 200, 30, 30 } }, { 'blue', { 30, 30, 200 } }, { 'red', { 220, 40, 20 } } }) do
  items[i] = { filename = string.format('/test/%d.png', i), image = testing.image { color = c[2] },
    annotations = { dl.classification(c[1], 1) } }
end
testing.dataset { name = 'colors', labels = { 'red', 'blue' }, items = items, dir = arg[1] }
LUA
  "$DLRUN" run make_dataset.lua "$T/colors"
  cat >a.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'watched', labels = { 'red', 'blue' } }
function A:load() end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { dl.classification('red', 0.9) } end
  return out
end
return A
LUA
  start_watch a.lua evaluate --dataset "$T/colors" --watch
  runs_done 1
  assert_contains "$(cat watch.out)" "class: accuracy 0.667"
  sed -i "s/classification('red', 0.9)/classification(batch[i]:get(1, 1, 1) > 100 and 'red' or 'blue', 0.9)/" a.lua
  runs_done 2
  assert_contains "$(cat watch.out)" "class: accuracy 1.000"
  assert_contains "$(cat watch.out)" "/test/2.png: class blue 0.90"
}
