# End-to-end tests of `dlrun ADAPTER.lua train` (train_model) on a small
# Fashion-MNIST import, with the example MLP adapter.

MLP="$ROOT/adapters_lua/fashion_mlp.lua"

# A small Fashion-MNIST: N items (default 100) in /train and /test, 50 in /validation.
import_small() {
  "$DLRUN" dataset import fashion-mnist fm --limit "${1:-100}" --validation 50 -q >/dev/null
}

model_json() { cat "$DATALOOP_PATH/store/models/$1/model.json"; }

test_train_mlp_records_epochs_saves_a_version_and_predicts_better_than_chance() {
  import_small 400
  expect_exit 0 "$DLRUN" "$MLP" train --dataset fm -c epochs=3
  assert_contains "$OUT" "train 400 items validation 50 items"
  assert_contains "$OUT" "epoch 1/3  loss="
  assert_contains "$OUT" "epoch 3/3  loss="
  assert_contains "$OUT" "val_accuracy="
  assert_contains "$OUT" "trained fashion-mlp@v1"
  model_json fashion-mlp | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
ds = json.load(open(sys.argv[1]))
assert m["datasetId"] == ds["id"]
assert m["status"] == "trained", m["status"]
assert [v["version"] for v in m["versions"]] == [1], m["versions"]
epochs = m["metrics"]["train"]
assert [e["epoch"] for e in epochs] == [1, 2, 3], epochs
assert all(e["epochs"] == 3 for e in epochs)
for e in epochs:
    for k in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
        assert isinstance(e[k], (int, float)), (k, e)
# training lowers the loss
assert epochs[2]["loss"] < epochs[0]["loss"], epochs
' "$DATALOOP_PATH/datasets/fm/dataset.json"
  # the version holds the weights A:save wrote into output_path
  tar tzf "$DATALOOP_PATH/store/models/fashion-mlp/artifacts/v1.tar.gz" >list.txt
  assert_contains "$(cat list.txt)" "model.safetensors"

  # predict loads v1: far better than the 10% of chance on /test
  expect_exit 0 "$DLRUN" "$MLP" predict --dataset fm --filter dir=/test -q
  /usr/bin/python3 - "$DATALOOP_PATH/datasets/fm/json/test" <<'PY'
import json, os, sys
d = sys.argv[1]
right = total = 0
for name in os.listdir(d):
    doc = json.load(open(os.path.join(d, name)))
    gt = [a["label"] for a in doc["annotations"] if "model" not in a["metadata"].get("user", {})]
    pred = [a for a in doc["annotations"] if a["metadata"].get("user", {}).get("model", {}).get("name") == "fashion-mlp"]
    assert len(gt) == 1 and len(pred) == 1, doc
    right += gt[0] == pred[0]["label"]
    total += 1
assert total == 400, total
assert right / total > 0.5, right / total
PY
}

test_train_copies_subsets_with_ground_truth_only_and_cleanup_removes_them() {
  import_small
  # a model prediction in a training document must not reach the training copy
  /usr/bin/python3 - "$DATALOOP_PATH/datasets/fm/json/train/00001.json" <<'PY'
import json, sys
p = sys.argv[1]
doc = json.load(open(p))
doc["annotations"].append({"id": "p1", "type": "class", "label": "Bag", "attributes": [],
    "metadata": {"system": {"automated": True, "model": {"name": "other"}},
                 "user": {"model": {"name": "other", "model_id": "x", "confidence": 0.9}}}})
json.dump(doc, open(p, "w"))
PY
  expect_exit 0 "$DLRUN" "$MLP" train --dataset fm -c epochs=1 -q
  local runs=("$DATALOOP_PATH"/model_data/*_fashion-mlp/*)
  [ ${#runs[@]} -eq 1 ] || fail "expected one model_data folder, got: ${runs[*]}"
  local id
  id=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$DATALOOP_PATH/datasets/fm/dataset.json")
  local data="${runs[0]}/datasets/$id"
  [ "$(ls "$data/train/items/train" | wc -l)" -eq 100 ] || fail "train items"
  [ "$(ls "$data/train/json/train" | wc -l)" -eq 100 ] || fail "train documents"
  [ "$(ls "$data/validation/items/validation" | wc -l)" -eq 50 ] || fail "validation items"
  [ ! -e "$data/test" ] || fail "/test is not a training subset"
  assert_file "${runs[0]}/output/model.safetensors"
  cmp "$data/train/items/train/00007.png" "$DATALOOP_PATH/datasets/fm/items/train/00007.png" || fail "item differs"
  /usr/bin/python3 - "$data/train/json/train/00001.json" "$DATALOOP_PATH/datasets/fm/json/train/00001.json" <<'PY'
import json, sys
copy, orig = (json.load(open(p)) for p in sys.argv[1:])
assert len(orig["annotations"]) == 2
assert [a["id"] for a in copy["annotations"]] == [orig["annotations"][0]["id"]], copy["annotations"]
assert copy["filename"] == "/train/00001.png"
PY
  # a second run gets its own folder (suffixed when in the same second); --cleanup removes only that one
  expect_exit 0 "$DLRUN" "$MLP" train -c epochs=1 --cleanup
  assert_contains "$OUT" "removed $DATALOOP_PATH/model_data/"
  local after=("$DATALOOP_PATH"/model_data/*_fashion-mlp/*)
  assert_eq "${runs[0]}" "${after[*]}" "model_data after --cleanup"
  model_json fashion-mlp | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
assert [v["version"] for v in m["versions"]] == [1, 2], m["versions"]
assert len(m["metrics"]["train"]) == 1, "metrics.train holds the latest run"
'
}

test_train_rejects_an_empty_subset_naming_its_filter() {
  import_small
  expect_exit 0 "$DLRUN" "$MLP" train --dataset fm -c epochs=1 -q
  /usr/bin/python3 - "$DATALOOP_PATH/store/models/fashion-mlp/model.json" <<'PY'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m["metadata"]["system"]["subsets"]["validation"] = {"filter": {"$and": [{"dir": "/holdout"}]}}
json.dump(m, open(p, "w"))
PY
  expect_exit 1 "$DLRUN" "$MLP" train -q --cleanup
  assert_contains "$OUT" "subset 'validation' selects no items of dataset 'fm'"
  assert_contains "$OUT" '{"filter":{"$and":[{"dir":"/holdout"}]}}'
  assert_eq failed "$(model_json fashion-mlp | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
  # nothing was trained, so nothing new was saved
  assert_eq 1 "$(model_json fashion-mlp | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))')"
}

test_train_stops_on_a_corrupt_ground_truth_document_naming_it() {
  import_small 20
  printf '{"annotations": [' >"$DATALOOP_PATH/datasets/fm/json/train/00003.json"
  expect_exit 1 "$DLRUN" "$MLP" train --dataset fm -c epochs=1 -q --cleanup
  assert_contains "$OUT" "datasets/fm/json/train/00003.json:1: not valid JSON"
  assert_contains "$OUT" "training needs the ground truth of item /train/00003.png: fix the file or move the item"
  assert_eq failed "$(model_json fashion-mlp | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
  [ "$(cat "$DATALOOP_PATH/datasets/fm/json/train/00003.json")" = '{"annotations": [' ] || fail "the document was rewritten"
  [ -z "$(ls -A "$DATALOOP_PATH/model_data" 2>/dev/null)" ] || fail "model_data: $(ls -R "$DATALOOP_PATH/model_data")"
}

test_train_that_raises_saves_its_output_and_marks_the_model_failed() {
  import_small
  cat >diverge.lua <<'EOF'
local dl = require 'dl'
local A = dl.Adapter { name = 'diverge', labels = { 'a' } }
function A:load(local_path) end
function A:save(local_path)
  local f = assert(io.open(local_path .. '/state.txt', 'w'))
  f:write('state after the failure')
  f:close()
end
function A:train(data_path, output_path, opts)
  local f = assert(io.open(output_path .. '/checkpoint.txt', 'w'))
  f:write('epoch 1')
  f:close()
  opts.on_epoch_end(1, 2, { loss = 1.5 })
  error('loss diverged in epoch 2')
end
return A
EOF
  expect_exit 1 "$DLRUN" diverge.lua train --dataset fm
  assert_contains "$OUT" "diverge.lua:14: loss diverged in epoch 2"
  assert_contains "$OUT" "stack traceback:"
  assert_contains "$OUT" "epoch 1/2  loss=1.5"
  assert_contains "$OUT" "the output of the failed run was saved as diverge@v1"
  model_json diverge | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["status"] == "failed", m["status"]
assert [v["version"] for v in m["versions"]] == [1]
assert [e["loss"] for e in m["metrics"]["train"]] == [1.5]
'
  tar xzf "$DATALOOP_PATH/store/models/diverge/artifacts/v1.tar.gz"
  assert_eq "epoch 1" "$(cat checkpoint.txt)"
  assert_eq "state after the failure" "$(cat state.txt)"
}

test_train_without_dataset_or_datasetId_is_an_error() {
  expect_exit 1 "$DLRUN" "$MLP" train -q
  assert_contains "$OUT" "model 'fashion-mlp' does not exist yet, so it records no datasetId; give --dataset NAME"
  [ ! -e "$DATALOOP_PATH/store/models/fashion-mlp" ] || fail "a failed train created the model"
  "$DLRUN" model create fashion-mlp >/dev/null
  expect_exit 1 "$DLRUN" "$MLP" train -q
  assert_contains "$OUT" "model 'fashion-mlp' records no datasetId; give --dataset NAME"
}

test_on_epoch_end_misuse_names_the_argument() {
  import_small
  cat >bad.lua <<'EOF'
local dl = require 'dl'
local A = dl.Adapter { name = 'bad', labels = { 'a' } }
function A:load(local_path) end
function A:save(local_path) end
function A:train(data_path, output_path, opts)
  opts.on_epoch_end(1, 1, { loss = 0 / 0 })
end
return A
EOF
  expect_exit 1 "$DLRUN" bad.lua train --dataset fm -q
  assert_contains "$OUT" "bad.lua:6: bad argument #3 to 'on_epoch_end' (metric loss must be a finite number, got nan)"
}

# Starts slow.lua train in the background (200 epochs of 50 ms each, saving
# the number of epochs done) and returns once epoch 2 is printed; sets $pid.
start_slow_training() {
  cat >slow.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'slow', configuration = { epochs = 200 } }
function A:load() end
function A:save(path)
  local f = assert(io.open(path .. '/weights.txt', 'w'))
  f:write(tostring(self.epochs_done or 0))
  f:close()
end
function A:train(data_path, output_path, opts)
  for epoch = 1, self.configuration.epochs do
    local t = os.clock() + 0.05
    while os.clock() < t do end
    self.epochs_done = epoch
    opts.on_epoch_end(epoch, self.configuration.epochs, { loss = 1 / epoch })
  end
end
return A
LUA
  "$DLRUN" slow.lua train --dataset fm >out.txt 2>&1 &
  pid=$!
  for _ in $(seq 200); do grep -q "epoch 2/200" out.txt && break; sleep 0.02; done
}

test_ctrl_c_stops_training_at_an_epoch_end_and_saves_the_output() {
  import_small 50
  local pid
  start_slow_training
  kill -INT $pid
  local rc=0
  wait $pid || rc=$?
  assert_eq 130 "$rc" "exit code after SIGINT"
  OUT=$(cat out.txt)
  assert_contains "$OUT" "training stopped by SIGINT at the end of this epoch"
  assert_contains "$OUT" "the output of the failed run was saved as slow@v1"
  model_json slow | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["status"] == "failed", m["status"]
assert 2 <= len(m["metrics"]["train"]) < 200, len(m["metrics"]["train"])
'
  # the run folder has the log and a summary of what happened
  local run
  run=$(ls -d "$DATALOOP_PATH"/runs/*-train-slow)
  /usr/bin/python3 - "$run/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["command"] == "train" and s["status"] == "failed" and s["version"] == 1, s
assert s["interrupted"] == "SIGINT", s
assert len(s["epochs"]) >= 2, s
PY
}

test_a_training_killed_hard_reads_interrupted_and_trains_again() {
  import_small 50
  local pid
  start_slow_training
  kill -KILL $pid
  wait $pid 2>/dev/null || true
  expect_exit 0 "$DLRUN" model list
  assert_contains "$OUT" "slow                             interrupted"
  expect_exit 0 "$DLRUN" model show slow
  assert_contains "$OUT" "its training process on this host is gone (killed?)"
  assert_contains "$OUT" '"status": "training"'
  expect_exit 0 "$DLRUN" slow.lua train --dataset fm -c epochs=2
  expect_exit 0 "$DLRUN" model list
  assert_contains "$OUT" "slow                             trained"
  model_json slow | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["status"] == "trained" and "trainer" not in m["metadata"]["system"], m
'
}

test_ctrl_c_while_loading_marks_the_model_failed_and_prepares_nothing() {
  import_small 50
  cat >slowload.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'slowload' }
function A:load()
  io.stderr:write('loading\n')
  local t = os.clock() + 3
  while os.clock() < t do end
end
function A:save() end
function A:train() end
return A
LUA
  "$DLRUN" slowload.lua train --dataset fm >out.txt 2>&1 &
  local pid=$! rc=0
  for _ in $(seq 200); do grep -q loading out.txt && break; sleep 0.02; done
  kill -INT $pid
  wait $pid || rc=$?
  assert_eq 130 "$rc" "exit code after SIGINT: $(cat out.txt)"
  assert_contains "$(cat out.txt)" "training stopped by SIGINT before preparing the data"
  model_json slowload | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["status"] == "failed", m["status"]
assert m["versions"] == [], m["versions"]
'
  [ -z "$(ls -A "$DATALOOP_PATH/model_data" 2>/dev/null)" ] || fail "model_data: $(ls -R "$DATALOOP_PATH/model_data")"
}

test_train_removes_the_temp_folders_of_killed_runs() {
  import_small 20
  local dead="$DATALOOP_PATH/tmp/.fashion-mlp.tmp-99999999-AbCdEf" copy="$DATALOOP_PATH/models/.fashion-mlp.tmp-99999999-XyZ123"
  mkdir -p "$dead" "$copy"
  echo partial >"$dead/artifact.tar.gz"
  echo partial >"$copy/model.safetensors"
  expect_exit 0 "$DLRUN" "$MLP" train --dataset fm -c epochs=1
  assert_contains "$OUT" "removed 1 temp folders left by an interrupted run in $DATALOOP_PATH/tmp"
  assert_contains "$OUT" "removed 1 temp folders left by an interrupted run in $DATALOOP_PATH/models"
  [ ! -e "$dead" ] && [ ! -e "$copy" ] || fail "stale temp folders stayed"
}
