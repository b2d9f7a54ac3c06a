# End-to-end tests of the host: CLI, adapter loading and validation, errors.
# Run by tests/e2e/harness.sh: each test_* runs in a fresh temp dir ($T).

write_adapter() { # file, body: a minimal adapter around the given functions
  cat >"$1" <<LUA
local dl = require 'dl'
local A = dl.Adapter { name = 'demo', configuration = { batch_size = 4, opt = { lr = 0.1, beta = 0.9 } } }
$2
return A
LUA
}

test_help_lists_every_command_and_the_exit_codes() {
  expect_exit 0 "$DLRUN" --help
  for c in predict embed train evaluate load save new test similar "dataset import" "model list"; do
    assert_contains "$OUT" "$c"
  done
  assert_contains "$OUT" "3  the run completed but some items failed"
}

test_command_help_lists_options_and_exit_codes() {
  expect_exit 0 "$DLRUN" x.lua predict --help
  assert_contains "$OUT" "--config KEY=VALUE"
  assert_contains "$OUT" "--model NAME[@vN]"
  assert_contains "$OUT" "Exit codes:"
  expect_exit 0 "$DLRUN" model --help
  assert_contains "$OUT" "model delete"
}

test_version() {
  expect_exit 0 "$DLRUN" --version
  [[ "$OUT" =~ ^dlrun\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "bad version line: $OUT"
}

test_unknown_option_is_a_usage_error() {
  write_adapter a.lua 'function A:load() end function A:predict() end'
  expect_exit 2 "$DLRUN" a.lua predict --bogus
  assert_contains "$OUT" "unknown option '--bogus' for 'predict'"
  expect_exit 2 "$DLRUN" --bogus
  expect_exit 2 "$DLRUN" frobnicate
  assert_contains "$OUT" "unknown command 'frobnicate'"
}

test_missing_argument_is_a_usage_error() {
  write_adapter a.lua 'function A:load() end'
  expect_exit 2 "$DLRUN" a.lua load --model
  assert_contains "$OUT" "option '--model' needs a value"
  expect_exit 2 "$DLRUN" a.lua
  assert_contains "$OUT" "missing a command after 'a.lua'"
  expect_exit 2 "$DLRUN" model show
  expect_exit 2 "$DLRUN" predict
  assert_contains "$OUT" "dlrun ADAPTER.lua predict"
}

test_syntax_error_shows_file_and_line() {
  printf 'local dl = require "dl"\nlocal A = dl.Adapter{}\nfunction A:load( end\nreturn A\n' >broken.lua
  expect_exit 1 "$DLRUN" broken.lua load
  assert_contains "$OUT" "dlrun: broken.lua:3:"
}

test_error_in_load_shows_file_line_and_traceback() {
  write_adapter a.lua '
local function read_weights(path)
  error("no weights in " .. path)
end
function A:load(path)
  read_weights(path)
end'
  expect_exit 1 "$DLRUN" a.lua load
  assert_contains "$OUT" "dlrun: a.lua:5: no weights in"
  assert_contains "$OUT" "stack traceback:"
  assert_contains "$OUT" "a.lua:8: in function"
}

test_missing_predict_names_what_the_adapter_defines() {
  write_adapter a.lua 'function A:load() end function A:train() end'
  expect_exit 1 "$DLRUN" a.lua predict x.png
  assert_contains "$OUT" "'predict' needs the user functions load, predict"
  assert_contains "$OUT" "does not define predict (it defines: load, train)"
}

test_adapter_must_return_a_dl_adapter() {
  echo 'return { predict = function() end }' >plain.lua
  expect_exit 1 "$DLRUN" plain.lua predict x.png
  assert_contains "$OUT" "plain.lua must return a dl.Adapter, but it returned a plain table"
  echo 'local x = 1' >nothing.lua
  expect_exit 1 "$DLRUN" nothing.lua predict x.png
  assert_contains "$OUT" "returned nothing"
}

test_missing_adapter_file() {
  expect_exit 1 "$DLRUN" nowhere.lua load
  assert_contains "$OUT" "cannot open adapter nowhere.lua"
}

test_config_merging_from_the_command_line() {
  write_adapter a.lua '
local cjson = require "cjson"
function A:load(path)
  local c = self.configuration
  print(string.format("batch_size=%s lr=%s beta=%s eps=%s name=%s", tostring(c.batch_size), tostring(c.opt.lr),
    tostring(c.opt.beta), tostring(c.opt.eps), tostring(c.name)))
end'
  expect_exit 0 "$DLRUN" a.lua load --config batch_size=8 -c opt.lr=0.01 -c opt.eps=1e-6 -c 'name=my model'
  assert_contains "$OUT" "batch_size=8 lr=0.01 beta=0.9 eps=1e-06 name=my model"
  expect_exit 2 "$DLRUN" a.lua load --config nokey
  assert_contains "$OUT" "--config 'nokey' must look like KEY=VALUE"
}

test_a_mistyped_config_is_a_usage_error_before_anything_is_created() {
  write_adapter a.lua 'function A:load() print("loaded") end'
  expect_exit 2 "$DLRUN" a.lua load --config batch_size=4o
  assert_contains "$OUT" "--config 'batch_size=4o': batch_size is a number in the configuration (4), but '4o' is a string"
  assert_not_contains "$OUT" "traceback"
  assert_not_contains "$OUT" "loaded"
  expect_exit 2 "$DLRUN" a.lua load --config opt.lr.x=1
  assert_contains "$OUT" "'opt.lr' is a number, not a table"
  expect_exit 0 "$DLRUN" model list
  assert_contains "$OUT" "no models"
}

test_adapter_can_require_a_sibling_module_from_another_directory() {
  mkdir -p proj
  echo 'return { answer = 42 }' >proj/helpers.lua
  write_adapter proj/a.lua 'local helpers = require "helpers"
function A:load() print("answer", helpers.answer) end'
  mkdir elsewhere && cd elsewhere
  expect_exit 0 "$DLRUN" ../proj/a.lua load
  assert_contains "$OUT" "answer	42"
}

test_load_receives_the_working_copy_under_the_home() {
  write_adapter a.lua 'function A:load(path) print("path=" .. path) end'
  expect_exit 0 "$DLRUN" a.lua load --home "$T/h2"
  assert_contains "$OUT" "path=$T/h2/models/demo"
  [ -d "$T/h2/models/demo" ] || fail "working copy not created"
  expect_exit 0 "$DLRUN" a.lua load --model other
  assert_contains "$OUT" "path=$DATALOOP_PATH/models/other"
}

test_installed_copy_finds_its_lua_package() {
  make -s -C "$ROOT" install PREFIX="$T/prefix" BUILD="$(dirname "$(dirname "$DLRUN")")" >/dev/null
  write_adapter a.lua 'function A:load() print("loaded from " .. package.searchpath("dl", package.path)) end'
  expect_exit 0 "$T/prefix/bin/dlrun" a.lua load
  assert_contains "$OUT" "loaded from $T/prefix/share/dlrun/lua/dl/init.lua"
}

test_run_executes_a_script_with_the_dl_package() {
  cat >s.lua <<'LUA'
local dl = require 'dl'
print('args', ...)
print('arg0', arg[0])
print('sum', dl.tensor.from_table({ 1, 2, 3 }):sum())
LUA
  expect_exit 0 "$DLRUN" run s.lua one --two
  assert_contains "$OUT" "args	one	--two"
  assert_contains "$OUT" "arg0	s.lua"
  assert_contains "$OUT" "sum	6"
  printf 'local function f() error("boom") end\nf()\n' >bad.lua
  expect_exit 1 "$DLRUN" run bad.lua
  assert_contains "$OUT" "dlrun: bad.lua:1: boom"
  assert_contains "$OUT" "stack traceback:"
}

test_help_of_an_adapter_command_without_an_adapter() {
  expect_exit 0 "$DLRUN" predict --help
  assert_contains "$OUT" "Usage: dlrun ADAPTER.lua predict"
  expect_exit 0 "$DLRUN" any.lua --help
  assert_contains "$OUT" "Adapter commands"
}

test_help_command_and_make_help() {
  expect_exit 0 "$DLRUN" help similar
  assert_contains "$OUT" "Usage: dlrun similar"
  expect_exit 2 "$DLRUN" help nosuch
  assert_contains "$OUT" "no command 'nosuch'"
  OUT=$(make -s -C "$ROOT" help BUILD="$(dirname "$(dirname "$DLRUN")")")
  assert_contains "$OUT" "  make test     build, then run cmocka, busted and end-to-end tests"
  echo "$OUT" | grep -v '^  make [a-z]* ' | grep . && fail "make help printed something else: $OUT"
  true
}
