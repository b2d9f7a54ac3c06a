# End-to-end tests of predict_items on real datasets and files.

# A classifier whose answer is known from the item's name: /x/00007.png -> label 7 % 10.
write_name_classifier() { # file [extra lua]
  cat >"$1" <<LUA
local dl = require 'dl'
local A = dl.Adapter { name = 'namer', input = { size = { 28, 28 }, channels = 1 }, configuration = { batch_size = 8, shift = 0 } }
function A:load() end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do
    local n = tonumber(batch.items[i].name:match('(%d+)')) or 0
    out[i] = { dl.classification(self.labels[(n + self.configuration.shift) % 10 + 1], 0.75) }
  end
  return out
end
${2:-}
return A
LUA
}

import_small() { "$DLRUN" dataset import fashion-mnist fm --limit "${1:-12}" -q >/dev/null; }

# Prints "label-of-model label-of-ground-truth count-of-model-annotations" per document.
doc_summary() { # dataset json dir, model
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, os, sys
root, model = sys.argv[1], sys.argv[2]
for dirpath, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        d = json.load(open(os.path.join(dirpath, f)))
        mine = [a for a in d["annotations"] if a.get("metadata", {}).get("user", {}).get("model", {}).get("name") == model]
        gt = [a for a in d["annotations"] if "model" not in a.get("metadata", {}).get("user", {})]
        print(d["filename"], ",".join(a["label"] for a in mine), ",".join(a["label"] for a in gt), len(mine))
PY
}

test_predict_on_a_dataset_saves_annotations_in_the_documents() {
  import_small 12
  write_name_classifier a.lua
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test
  assert_contains "$OUT" "predict: 12 ok, 0 failed, 0 skipped"
  local labels=("T-shirt/top" "Trouser" "Pullover" "Dress" "Coat" "Sandal" "Shirt" "Sneaker" "Bag" "Ankle boot")
  local summary
  summary=$(doc_summary "$DATALOOP_PATH/datasets/fm/json/test" namer)
  for i in $(seq 1 12); do
    assert_contains "$summary" "$(printf '/test/%05d.png' "$i") ${labels[$((i % 10))]} "
  done
  # only /test was predicted; ground truth stays in every document
  assert_not_contains "$(doc_summary "$DATALOOP_PATH/datasets/fm/json/train" namer)" " 1"
  /usr/bin/python3 - "$DATALOOP_PATH" <<'PY'
import glob, json, sys
home = sys.argv[1]
doc = json.load(open(f"{home}/datasets/fm/json/test/00003.json"))
ann = [a for a in doc["annotations"] if a["metadata"].get("user", {}).get("model")][0]
model = json.load(open(f"{home}/store/models/namer/model.json"))
assert ann["type"] == "class" and ann["metadata"]["user"]["model"] == {"confidence": 0.75, "model_id": model["id"], "name": "namer"}, ann
assert ann["metadata"]["system"]["automated"] is True and len(ann["id"]) == 24
run = glob.glob(f"{home}/runs/*-predict-namer")[0]
s = json.load(open(f"{run}/summary.json"))
assert (s["ok"], s["failed"], s["skipped"]) == (12, 0, 0), s
assert "interrupted" not in s, s
assert open(f"{run}/failures.jsonl").read() == ""
PY
}

test_rerun_replaces_this_models_annotations_and_keeps_the_rest() {
  import_small 5
  write_name_classifier a.lua
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test -q
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test --model other --config shift=3 -q
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test --config shift=1 -q
  local mine others
  mine=$(doc_summary "$DATALOOP_PATH/datasets/fm/json/test" namer)
  others=$(doc_summary "$DATALOOP_PATH/datasets/fm/json/test" other)
  # namer's annotations were replaced (shift 1 now), other's kept, ground truth kept
  assert_contains "$mine" "/test/00001.png Pullover Ankle boot 1"
  assert_contains "$mine" "/test/00002.png Dress Pullover 1"
  assert_contains "$others" "/test/00001.png Coat Ankle boot 1"
  /usr/bin/python3 - "$DATALOOP_PATH/datasets/fm/json/test/00001.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["annotations"]) == 3, d["annotations"]
PY
}

test_rerun_writes_identical_bytes() {
  import_small 4
  write_name_classifier a.lua
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test -q
  cp -r "$DATALOOP_PATH/datasets/fm/json" first
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test -q
  diff -r first "$DATALOOP_PATH/datasets/fm/json" || fail "a re-run changed the documents"
}

test_loose_items_go_to_out_dir_or_stream() {
  mkdir -p imgs/sub
  /usr/bin/python3 - <<'PY'
from PIL import Image
for i, name in enumerate(["imgs/00001.png", "imgs/sub/00002.png", "imgs/00013.jpg"]):
    Image.new("L", (30 + i, 20), 40 * i).save(name)
PY
  "$DLRUN" model create namer -l a -l b -l c -l d -l e -l f -l g -l h -l i -l j >/dev/null
  write_name_classifier a.lua
  expect_exit 0 "$DLRUN" a.lua predict imgs --out out -q
  assert_file out/00001.json
  assert_file out/sub/00002.json
  assert_file out/00013.json
  /usr/bin/python3 - <<'PY'
import json
d = json.load(open("out/sub/00002.json"))
assert d["filename"] == "/sub/00002.png", d["filename"]
assert d["metadata"]["system"]["width"] == 31 and d["metadata"]["system"]["height"] == 20, d["metadata"]
assert [a["label"] for a in d["annotations"]] == ["c"]
PY
  OUT=$("$DLRUN" a.lua predict imgs/00001.png imgs/00013.jpg --out - -q 2>/dev/null)
  [ "$(echo "$OUT" | wc -l)" -eq 2 ] || fail "expected two JSON lines, got: $OUT"
  echo "$OUT" | /usr/bin/python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin]
assert [l["filename"] for l in lines] == ["/00001.png", "/00013.jpg"], lines
assert lines[1]["annotations"][0]["label"] == "d"
'
}

test_loose_url_items_are_downloaded() {
  local state="$T/http"
  read -r NGINX_PORT _ < <(bash "$ROOT/tests/http/start.sh" "$state" $$)
  trap 'bash "$ROOT/tests/http/stop.sh" "$state"' RETURN
  /usr/bin/python3 -c 'from PIL import Image; Image.new("L", (9, 9), 7).save("'"$state"'/root/00004.png")'
  "$DLRUN" model create namer -l a -l b -l c -l d -l e -l f -l g -l h -l i -l j >/dev/null
  write_name_classifier a.lua
  OUT=$("$DLRUN" a.lua predict "http://127.0.0.1:$NGINX_PORT/00004.png?x=1" -q 2>&1)
  assert_contains "$OUT" '"filename":"/00004.png"'
  assert_contains "$OUT" '"label":"e"'
  # a URL that does not download fails its item; the others run
  expect_exit 3 "$DLRUN" a.lua predict "http://127.0.0.1:$NGINX_PORT/missing.png" "http://127.0.0.1:$NGINX_PORT/00004.png" --out out
  assert_contains "$OUT" "/missing.png failed (download)"
  assert_contains "$OUT" "predict: 1 ok, 1 failed"
  assert_file out/00004.json
  /usr/bin/python3 - "$DATALOOP_PATH" "$NGINX_PORT" <<'PY'
import glob, json, sys
home, port = sys.argv[1], sys.argv[2]
fails = [json.loads(l) for run in glob.glob(f"{home}/runs/*-predict-namer*") for l in open(f"{run}/failures.jsonl")]
assert len(fails) == 1 and fails[0]["filename"] == "/missing.png" and fails[0]["stage"] == "download", fails
assert f"http://127.0.0.1:{port}/missing.png" in fails[0]["message"] and "HTTP 404" in fails[0]["message"], fails
PY
}

# Checks the namer run's failures.jsonl holds exactly one failure, of item
# /test/NNNNN.png at STAGE with MESSAGE in it, and that the documents of the
# given test items hold the model's prediction.
expect_one_failure() { # NNNNN, stage, message part, predicted item numbers...
  /usr/bin/python3 - "$DATALOOP_PATH" "$@" <<'PY'
import glob, json, sys
home, num, stage, part, predicted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
run = glob.glob(f"{home}/runs/*-predict-namer")[0]
fails = [json.loads(l) for l in open(f"{run}/failures.jsonl")]
assert len(fails) == 1 and fails[0]["filename"] == f"/test/{num}.png" and fails[0]["stage"] == stage, fails
assert part in fails[0]["message"], fails
for i in predicted:
    d = json.load(open(f"{home}/datasets/fm/json/test/{int(i):05d}.json"))
    assert any(a["metadata"].get("user", {}).get("model") for a in d["annotations"]), i
PY
}

test_a_corrupt_document_fails_only_its_item() {
  import_small 6
  printf '{"id": "x", "annotations": [' >"$DATALOOP_PATH/datasets/fm/json/test/00002.json"
  write_name_classifier a.lua
  expect_exit 3 "$DLRUN" a.lua predict --dataset fm --filter dir=/test
  assert_contains "$OUT" "predict: 5 ok, 1 failed"
  expect_one_failure 00002 read "json/test/00002.json:1: not valid JSON" 1 3 4 5 6
  [ "$(cat "$DATALOOP_PATH/datasets/fm/json/test/00002.json")" = '{"id": "x", "annotations": [' ] ||
    fail "the corrupt document was rewritten"
}

test_a_corrupt_document_under_a_label_filter_fails_only_its_item() {
  import_small 6
  local label
  label=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["annotations"][0]["label"])' \
    "$DATALOOP_PATH/datasets/fm/json/test/00001.json")
  printf '{"id": "x", "annotations": [' >"$DATALOOP_PATH/datasets/fm/json/test/00002.json"
  write_name_classifier a.lua
  expect_exit 3 "$DLRUN" a.lua predict --dataset fm --filter dir=/test --filter "label=$label"
  assert_contains "$OUT" "1 failed"
  expect_one_failure 00002 read "json/test/00002.json" 1
}

test_a_corrupt_image_in_the_middle_fails_only_that_item() {
  import_small 6
  local bad="$DATALOOP_PATH/datasets/fm/items/test/00003.png"
  head -c 60 "$bad" >bad.png && mv bad.png "$bad"
  write_name_classifier a.lua
  expect_exit 3 "$DLRUN" a.lua predict --dataset fm --filter dir=/test
  assert_contains "$OUT" "predict: 5 ok, 1 failed"
  expect_one_failure 00003 prepare "00003.png" 1 2 4 5 6
  /usr/bin/python3 - "$DATALOOP_PATH" <<'PY'
import json, sys
d = json.load(open(f"{sys.argv[1]}/datasets/fm/json/test/00003.json"))
assert not any(a["metadata"].get("user", {}).get("model") for a in d["annotations"])
PY
}

test_bad_results_fail_their_items_and_name_the_field() {
  import_small 16
  cat >bad.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'bad', input = { size = { 28, 28 }, channels = 1 }, configuration = { batch_size = 4 } }
function A:load() end
function A:predict(batch)
  local first = tonumber(batch.items[1].name:match('(%d+)'))
  if first == 5 then return {} end                       -- batch 2: wrong count
  if first == 9 then error('model exploded on this batch') end -- batch 3: raises
  local out = {}
  for i = 1, batch.n do
    local n = tonumber(batch.items[i].name:match('(%d+)'))
    if n == 2 then out[i] = { dl.classification('x', 0 / 0) }
    elseif n == 3 then out[i] = { { type = 'cuboid', label = 'x', confidence = 1 } }
    else out[i] = { dl.classification('ok', 0.5) } end
  end
  return out
end
return A
LUA
  expect_exit 3 "$DLRUN" bad.lua predict --dataset fm --filter dir=/test
  assert_contains "$OUT" "predict: 6 ok, 10 failed"
  assert_contains "$OUT" "bad.lua:7: model exploded on this batch"
  /usr/bin/python3 - "$DATALOOP_PATH" <<'PY'
import glob, json, sys
home = sys.argv[1]
run = glob.glob(f"{home}/runs/*-predict-bad")[0]
fails = {f["filename"]: f for f in map(json.loads, open(f"{run}/failures.jsonl"))}
assert sorted(fails) == ["/test/%05d.png" % i for i in (2, 3, 5, 6, 7, 8, 9, 10, 11, 12)], sorted(fails)
assert fails["/test/00002.png"]["stage"] == "validate"
assert "item /test/00002.png: annotation 1 (class): field 'confidence'" in fails["/test/00002.png"]["message"]
assert "NaN" in fails["/test/00002.png"]["message"]
assert "field 'type' unknown annotation type 'cuboid'" in fails["/test/00003.png"]["message"]
assert fails["/test/00005.png"]["stage"] == "validate"
assert fails["/test/00005.png"]["message"] == "predict returned 0 results for a batch of 4 items"
assert fails["/test/00010.png"]["stage"] == "predict" and "bad.lua:7: model exploded" in fails["/test/00010.png"]["message"]
assert "stack traceback" in fails["/test/00010.png"]["message"]
PY
}

test_resume_skips_items_that_have_this_models_annotations() {
  import_small 10
  write_name_classifier a.lua
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test --filter 'name=0000[1-4].png' -q
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --filter dir=/test --resume
  assert_contains "$OUT" "predict: 6 ok, 0 failed, 4 skipped"
  expect_exit 2 "$DLRUN" a.lua predict x.png --resume
  assert_contains "$OUT" "--resume needs a dataset or --out DIR"
}

# A slow adapter (a pause per batch) for interruption tests.
write_slow_classifier() {
  write_name_classifier "$1" '
local predict = A.predict
function A:predict(batch)
  local t = os.clock() + 0.05
  while os.clock() < t do end
  return predict(self, batch)
end'
}

predicted_count() { # dataset json folder
  grep -l '"model_id"' -r "$1" 2>/dev/null | wc -l
}

test_kill_9_then_resume_ends_identical_to_an_uninterrupted_run() {
  import_small 40
  cp -r "$DATALOOP_PATH/datasets/fm" "$DATALOOP_PATH/datasets/fm2"
  write_slow_classifier a.lua
  "$DLRUN" a.lua predict --dataset fm -q >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 200); do
    [ "$(predicted_count "$DATALOOP_PATH/datasets/fm/json")" -ge 16 ] && break
    sleep 0.02
  done
  kill -9 $pid
  wait $pid 2>/dev/null || true
  local done_before
  done_before=$(predicted_count "$DATALOOP_PATH/datasets/fm/json")
  [ "$done_before" -ge 16 ] && [ "$done_before" -lt 120 ] || fail "kill landed at $done_before of 120 items"
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --resume -q
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm2 -q
  diff -r "$DATALOOP_PATH/datasets/fm/json" "$DATALOOP_PATH/datasets/fm2/json" || fail "resumed run differs"
  # no temp files left behind
  [ -z "$(find "$DATALOOP_PATH/datasets/fm" -name '.*tmp*')" ] || fail "temp files left: $(find "$DATALOOP_PATH/datasets/fm" -name '.*tmp*')"
}

test_sigint_finishes_the_batch_and_exits_resumable() {
  import_small 40
  write_slow_classifier a.lua
  "$DLRUN" a.lua predict --dataset fm >out.txt 2>&1 &
  local pid=$!
  for _ in $(seq 200); do
    [ "$(predicted_count "$DATALOOP_PATH/datasets/fm/json")" -ge 8 ] && break
    sleep 0.02
  done
  kill -INT $pid
  local rc=0
  wait $pid || rc=$?
  assert_eq 130 "$rc" "exit code after SIGINT"
  OUT=$(cat out.txt)
  assert_contains "$OUT" "stopping after the current batch"
  assert_contains "$OUT" "interrupted; run the same command with --resume"
  local n
  n=$(predicted_count "$DATALOOP_PATH/datasets/fm/json")
  [ $((n % 8)) -eq 0 ] || fail "a whole number of batches of 8 should be saved, got $n"
  /usr/bin/python3 - "$DATALOOP_PATH" "$n" <<'PY'
import glob, json, sys
s = json.load(open(glob.glob(f"{sys.argv[1]}/runs/*-predict-namer/summary.json")[0]))
assert s["interrupted"] == "SIGINT" and s["ok"] == int(sys.argv[2]), s
PY
  expect_exit 0 "$DLRUN" a.lua predict --dataset fm --resume -q
  assert_eq 120 "$(predicted_count "$DATALOOP_PATH/datasets/fm/json")" "items predicted after resume"
}

test_progress_prints_lines_when_not_a_terminal_and_quiet_silences_it() {
  import_small 20
  write_slow_classifier a.lua
  OUT=$(DLRUN_PROGRESS_INTERVAL=0.02 "$DLRUN" a.lua predict --dataset fm --filter dir=/test 2>&1 >/dev/null)
  assert_contains "$OUT" "predict: 8/20 items"
  assert_contains "$OUT" "items/s, ETA"
  OUT=$(DLRUN_PROGRESS_INTERVAL=0.02 "$DLRUN" a.lua predict --dataset fm --filter dir=/test --quiet 2>&1 >/dev/null)
  assert_not_contains "$OUT" "items/s, ETA"
}

test_prepare_item_and_default_inputs() {
  import_small 3
  cat >p.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'prep' }
function A:load() end
function A:prepare_item(item)
  if item.name == '00002.png' then error('cannot prepare ' .. item.name) end
  return dl.image.load(item.local_path):size()
end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do
    out[i] = batch.ok[i] and { dl.classification(string.format('%dx%d', batch[i][1], batch[i][2]), 1) } or {}
  end
  return out
end
return A
LUA
  expect_exit 3 "$DLRUN" p.lua predict --dataset fm --filter dir=/test
  assert_contains "$OUT" "predict: 2 ok, 1 failed"
  assert_contains "$(doc_summary "$DATALOOP_PATH/datasets/fm/json/test" prep)" "/test/00001.png 28x28 "
  cat >d.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'plain' }
function A:load() end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do
    local img = batch[i]
    out[i] = { dl.classification(img:type() .. ':' .. table.concat(img:size(), 'x'), 1) }
  end
  return out
end
return A
LUA
  expect_exit 0 "$DLRUN" d.lua predict --dataset fm --filter dir=/test -q
  assert_contains "$(doc_summary "$DATALOOP_PATH/datasets/fm/json/test" plain)" "/test/00003.png u8:28x28x1 "
}

# The pipeline starts on the items while load() runs; when load() changes the
# input or the batch size, the batches follow the adapter as load() left it.
test_load_may_change_the_input_and_the_batch_size() {
  import_small 5
  cat >s.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'sizer', input = { size = { 28, 28 }, channels = 1 }, configuration = { batch_size = 4 } }
function A:load()
  self.input = { size = { 12, 10 }, channels = 3 }
  self.configuration.batch_size = 2
end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do
    out[i] = { dl.classification(table.concat(batch.tensor:size(), 'x'), 1) }
  end
  return out
end
return A
LUA
  expect_exit 0 "$DLRUN" s.lua predict --dataset fm --filter dir=/test -q
  local summary
  summary=$(doc_summary "$DATALOOP_PATH/datasets/fm/json/test" sizer)
  assert_contains "$summary" "/test/00001.png 2x3x10x12 "
  assert_contains "$summary" "/test/00005.png 1x3x10x12 "
}

test_usage_errors_of_predict() {
  write_name_classifier a.lua
  expect_exit 2 "$DLRUN" a.lua predict
  assert_contains "$OUT" "nothing to run on"
  expect_exit 2 "$DLRUN" a.lua predict x.png --dataset fm
  expect_exit 1 "$DLRUN" a.lua predict --dataset nope
  assert_contains "$OUT" "nope"
  expect_exit 1 "$DLRUN" a.lua predict missing.png
  assert_contains "$OUT" "missing.png: no such file or folder"
  import_small 2
  expect_exit 2 "$DLRUN" a.lua predict --dataset fm --filter dir=/test --filter 'size=3'
  assert_contains "$OUT" "--filter: "
  assert_contains "$OUT" "size=3"
  expect_exit 2 "$DLRUN" a.lua predict --dataset fm --threads 0
  expect_exit 2 "$DLRUN" a.lua predict imgs --filter dir=/test
  assert_contains "$OUT" "--filter selects items of a dataset; give --dataset too"
  # --out must be a folder: checked once, not at every item
  mkdir imgs
  /usr/bin/python3 -c 'from PIL import Image; Image.new("L", (8, 8)).save("imgs/00001.png")'
  touch afile
  expect_exit 2 "$DLRUN" a.lua predict imgs --out /dev/null
  assert_contains "$OUT" "--out /dev/null is not a folder"
  expect_exit 2 "$DLRUN" a.lua predict imgs --out afile
  assert_contains "$OUT" "--out afile is not a folder"
  expect_exit 1 "$DLRUN" a.lua predict imgs --out afile/sub
  assert_contains "$OUT" "a file is in the way"
  [ -z "$(ls -A "$DATALOOP_PATH/runs" 2>/dev/null)" ] || fail "usage errors made run folders"
}

test_commands_that_fail_early_create_no_model() {
  import_small 2
  write_name_classifier a.lua
  expect_exit 1 "$DLRUN" a.lua predict --dataset fm --model ghost@v9
  assert_contains "$OUT" "model 'ghost' does not exist in the store $DATALOOP_PATH/store, so it has no version 9"
  write_name_classifier zero.lua
  sed -i 's/size = { 28, 28 }/size = { 0, 28 }/' zero.lua
  expect_exit 1 "$DLRUN" zero.lua predict --dataset fm
  assert_contains "$OUT" "zero.lua: adapter namer: input.size[1] (width) must be a positive integer (got 0)"
  [ -z "$(ls -A "$DATALOOP_PATH/store/models" 2>/dev/null)" ] || fail "models were created: $(ls -A "$DATALOOP_PATH/store/models")"
}

test_progress_is_a_bar_on_a_terminal() {
  import_small 20
  write_name_classifier a.lua
  # script(1) runs the command on a pseudo-terminal
  script -q -e -c "\"$DLRUN\" a.lua predict --dataset fm --filter dir=/test" tty.log >/dev/null
  OUT=$(tr '\r' '\n' <tty.log)
  assert_contains "$OUT" $'\033[Kpredict [##############################] 20/20'
  assert_contains "$OUT" "items/s  took"
  assert_contains "$OUT" "failed 0"
  assert_not_contains "$OUT" "items/s, ETA" # the plain lines are for logs, not terminals
}

test_loose_items_on_a_terminal_print_short_lines() {
  mkdir imgs
  /usr/bin/python3 -c 'from PIL import Image; [Image.new("L", (8, 8)).save(f"imgs/{n:05d}.png") for n in (1, 2)]'
  "$DLRUN" model create namer -l a -l b -l c -l d -l e -l f -l g -l h -l i -l j >/dev/null
  write_name_classifier a.lua
  script -q -e -c "\"$DLRUN\" a.lua predict imgs -q" tty.log >/dev/null
  OUT=$(tr -d '\r' <tty.log)
  assert_contains "$OUT" "/00001.png: class b 0.75"
  assert_contains "$OUT" "/00002.png: class c 0.75"
  assert_not_contains "$OUT" '"annotations"'
}

test_models_predicting_one_dataset_at_once_keep_each_others_annotations() {
  import_small 100
  write_name_classifier a.lua
  # four runs, batches of 2 and 3 items, each merging its annotations into the same 300 documents
  local pids=() m
  for m in m1 m2 m3 m4; do
    "$DLRUN" a.lua predict --dataset fm --model $m -c batch_size=$(( ${m#m} % 2 + 2 )) -q >$m.log 2>&1 &
    pids+=($!)
  done
  local i rc
  for i in 0 1 2 3; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    assert_eq 0 "$rc" "exit code of run m$((i + 1)): $(cat m$((i + 1)).log)"
  done
  /usr/bin/python3 - "$DATALOOP_PATH/datasets/fm/json" <<'PY'
import json, os, sys
lost, n = [], 0
for dirpath, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f.startswith("."):
            continue
        n += 1
        d = json.load(open(os.path.join(dirpath, f)))
        models = {a["metadata"]["user"]["model"]["name"] for a in d["annotations"] if "model" in a["metadata"].get("user", {})}
        if models != {"m1", "m2", "m3", "m4"}:
            lost.append((d["filename"], sorted(models)))
assert n == 300, n
assert not lost, f"{len(lost)} of {n} documents lost a model's annotations: {lost[:5]}"
PY
}

test_a_folder_with_a_trailing_slash_names_its_files_without_a_double_slash() {
  mkdir bad
  printf 'not a png' >bad/bomb.png
  write_name_classifier a.lua
  expect_exit 3 "$DLRUN" a.lua predict bad/ --out - -q
  local fails
  fails=$(cat "$DATALOOP_PATH"/runs/*-predict-namer/failures.jsonl)
  assert_contains "$fails" '"message":"bad/bomb.png: not a JPEG or PNG'
  assert_not_contains "$fails" "bad//"
}
