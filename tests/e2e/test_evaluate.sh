# End-to-end tests of evaluate_model: classification on Fashion-MNIST, the
# box example on the shapes dataset, and the item selection defaults. The
# expected metrics come from tests/e2e/reference_metrics.py, which reads the
# annotation documents and knows nothing of dlrun.

# Classifies by brightness: the class whose mean pixel value (measured on
# Fashion-MNIST's training set) is nearest the item's. Needs no training;
# load reads an optional offset saved by save, to show which version ran.
write_brightness_classifier() { # file
  cat >"$1" <<'LUA'
local dl = require 'dl'
local MEANS = {
  ['T-shirt/top'] = 80.6, Trouser = 57.1, Pullover = 96.0, Dress = 67.2, Coat = 100.6,
  Sandal = 33.6, Shirt = 86.9, Sneaker = 43.4, Bag = 88.4, ['Ankle boot'] = 76.1,
}
local A = dl.Adapter {
  name = 'brightness', output_type = 'class', configuration = { batch_size = 8 },
  labels = { 'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot' },
}
function A:load(path)
  local f = io.open(path .. '/offset.txt')
  self.offset = f and tonumber(f:read('*a')) or 0
  if f then f:close() end
end
function A:save(path)
  local f = assert(io.open(path .. '/offset.txt', 'w'))
  f:write(tostring(self.configuration.offset or 0))
  f:close()
end
function A:predict(batch)
  local out = {}
  for i = 1, batch.n do
    out[i] = {}
    if batch.ok[i] then -- an item that failed preparation has no image
      local mean = batch[i]:sum() / batch[i]:nelement() + self.offset
      local best, gap
      for _, label in ipairs(self.labels) do
        local d = math.abs(MEANS[label] - mean)
        if not gap or d < gap then best, gap = label, d end
      end
      out[i][1] = dl.classification(best, 0.5)
    end
  end
  return out
end
return A
LUA
}

# Checks, from the PNGs alone, that every /test document holds the label the
# brightness classifier gives (offset added), and nothing of it elsewhere.
check_brightness_predictions() { # dataset root, offset
  /usr/bin/python3 - "$1" "$2" <<'PY'
import glob, json, sys
import numpy as np
from PIL import Image
root, offset = sys.argv[1], float(sys.argv[2])
means = {"T-shirt/top": 80.6, "Trouser": 57.1, "Pullover": 96.0, "Dress": 67.2, "Coat": 100.6,
         "Sandal": 33.6, "Shirt": 86.9, "Sneaker": 43.4, "Bag": 88.4, "Ankle boot": 76.1}
order = [l["tag"] for l in json.load(open(f"{root}/dataset.json"))["labels"]]
docs = sorted(glob.glob(f"{root}/json/*/*.json"))
assert docs
for path in docs:
    doc = json.load(open(path))
    mine = [a for a in doc["annotations"] if a.get("metadata", {}).get("user", {}).get("model", {}).get("name") == "brightness"]
    if not doc["filename"].startswith("/test/"):
        assert mine == [], path
        continue
    pixels = np.asarray(Image.open(f"{root}/items{doc['filename']}"), dtype=np.int64)
    mean = pixels.sum() / pixels.size + offset
    best, gap = None, None
    for label in order:
        d = abs(means[label] - mean)
        if gap is None or d < gap:
            best, gap = label, d
    assert [a["label"] for a in mine] == [best], (path, mine, best)
PY
}

# Checks a PNG: it decodes, and is at least w x h pixels.
check_png() { # path, min width, min height
  /usr/bin/python3 - "$@" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1])
im.load()
assert im.format == "PNG" and im.size[0] >= int(sys.argv[2]) and im.size[1] >= int(sys.argv[3]), (im.format, im.size)
PY
}

run_dir() { ls -d "$DATALOOP_PATH"/runs/*-evaluate-"$1"* | tail -1; }

test_classification_metrics_match_the_documents() {
  "$DLRUN" dataset import fashion-mnist fm --limit 30 -q >/dev/null
  write_brightness_classifier b.lua
  expect_exit 0 "$DLRUN" b.lua evaluate --dataset fm
  # the table is printed, the summary counts the 30 /test items
  assert_contains "$OUT" "Evaluation of 30 items"
  assert_contains "$OUT" "class: accuracy"
  assert_contains "$OUT" "confusion matrix"
  assert_contains "$OUT" "evaluate: 30 ok, 0 failed, 0 skipped"
  check_brightness_predictions "$DATALOOP_PATH/datasets/fm" 0
  local run
  run=$(run_dir brightness)
  check_png "$run/confusion_matrix.png" 400 300
  [ ! -e "$run/pr_curve.png" ] || fail "a classifier has no precision/recall curve"
  /usr/bin/python3 "$ROOT/tests/e2e/reference_metrics.py" "$DATALOOP_PATH/datasets/fm/json/test" brightness >ref.json
  /usr/bin/python3 - "$run/metrics.json" ref.json "$DATALOOP_PATH" <<'PY'
import json, sys
m, ref, home = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
c = m["class"]
assert ref["n_items"] == m["n_items"] == 30
assert abs(c["accuracy"] - ref["class"]["accuracy"]) < 1e-9, (c["accuracy"], ref)
assert 0 < c["accuracy"] < 1, c["accuracy"]
got = {}
for i, row in enumerate(c["confusion_matrix"]):
    for j, n in enumerate(row):
        if n:
            got[c["labels"][i] + "|" + c["labels"][j]] = n
assert got == ref["class"]["confusion"], (got, ref["class"]["confusion"])
# per-label recall from the same counts
for e in c["per_label"]:
    support = sum(n for k, n in ref["class"]["confusion"].items() if k.split("|")[0] == e["label"])
    hits = ref["class"]["confusion"].get(e["label"] + "|" + e["label"], 0)
    assert e["support"] == support, e
    if support:
        assert abs(e["recall"] - hits / support) < 1e-9, e
assert m["filters"] == ["dir=/test"] and m["model"] == "brightness" and m["dataset"]["name"] == "fm"
entity = json.load(open(f"{home}/store/models/brightness/model.json"))
ev = entity["metrics"]["evaluate"]
assert abs(ev["class"]["accuracy"] - c["accuracy"]) < 1e-12, ev
assert ev["n_items"] == 30 and ev["run"] == sys.argv[1].split("/")[-2], ev
PY
}

test_box_example_ap_matches_an_independent_computation() {
  expect_exit 0 "$DLRUN" dataset import shapes shapes --limit 40 -q
  assert_contains "$OUT" "imported 120 items into dataset 'shapes'"
  expect_exit 0 "$DLRUN" "$ROOT/adapters_lua/shape_boxes.lua" evaluate --dataset shapes
  assert_contains "$OUT" "box: mAP@0.5"
  assert_contains "$OUT" "evaluate: 40 ok, 0 failed, 0 skipped"
  local run
  run=$(run_dir shape-boxes)
  check_png "$run/pr_curve.png" 400 300
  [ ! -e "$run/confusion_matrix.png" ] || fail "boxes have no confusion matrix"
  /usr/bin/python3 "$ROOT/tests/e2e/reference_metrics.py" "$DATALOOP_PATH/datasets/shapes/json/test" shape-boxes >ref.json
  /usr/bin/python3 - "$run/metrics.json" ref.json "$DATALOOP_PATH" <<'PY'
import json, sys
m, ref, home = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
b, rb = m["box"], ref["box"]
close = lambda x, y: abs(x - y) < 1e-8
assert close(b["map50"], rb["map50"]) and close(b["map50_95"], rb["map50_95"]), (b["map50"], b["map50_95"], rb)
for e in b["per_label"]:
    r = rb["per_label"][e["label"]]
    assert close(e["ap50"], r["ap50"]) and close(e["ap50_95"], r["ap50_95"]), (e["label"], e["ap50"], r)
assert sorted(e["label"] for e in b["per_label"]) == ["ellipse", "rectangle", "triangle"]
# the detector is good, not perfect: noise and partly hidden shapes cost it
assert 0.8 < b["map50_95"] < 1 and b["map50_95"] <= b["map50"], b
entity = json.load(open(f"{home}/store/models/shape-boxes/model.json"))
assert close(entity["metrics"]["evaluate"]["box"]["map50"], b["map50"]), entity["metrics"]
assert entity["outputType"] == "box"
PY
}

test_shapes_import_is_exact_and_repeatable() {
  "$DLRUN" dataset import shapes all -q >/dev/null
  "$DLRUN" dataset import shapes few --limit 5 -q >/dev/null
  local ds="$DATALOOP_PATH/datasets"
  for split in train validation test; do
    cmp "$ds/all/items/$split/00005.png" "$ds/few/items/$split/00005.png" || fail "--limit changed /$split/00005.png"
  done
  [ "$(ls "$ds/all/items/test" | wc -l)" -eq 100 ] || fail "expected 100 test items"
  # On plain backgrounds the pixels that differ from the background span
  # exactly the union of the ground-truth boxes (a hidden part of a shape
  # is covered by another shape, so it differs from the background too).
  /usr/bin/python3 - "$ds/all" <<'PY'
import glob, json, sys
import numpy as np
from PIL import Image
root, checked = sys.argv[1], 0
for path in sorted(glob.glob(f"{root}/json/test/*.json")):
    doc = json.load(open(path))
    img = np.asarray(Image.open(f"{root}/items{doc['filename']}").convert("RGB")).astype(int)
    assert img.shape == (96, 128, 3) and doc["metadata"]["system"]["width"] == 128
    boxes = [(a["coordinates"][0]["x"], a["coordinates"][0]["y"], a["coordinates"][1]["x"], a["coordinates"][1]["y"])
             for a in doc["annotations"]]
    assert 1 <= len(boxes) <= 4 and all(a["type"] == "box" for a in doc["annotations"]), doc
    assert {a["label"] for a in doc["annotations"]} <= {"rectangle", "ellipse", "triangle"}
    corners = [tuple(img[y, x]) for y in (0, 95) for x in (0, 127)]
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    if len(np.unique(border.reshape(-1, 3), axis=0)) > 2:
        continue  # a noisy background
    bg = max(set(corners), key=corners.count)
    ys, xs = np.nonzero((img != bg).any(axis=2))
    union = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == union, (path, union)
    for l, t, r, b in boxes:  # every box is tight: its edges touch non-background pixels
        inside = (img[t:b, l:r] != bg).any(axis=2)
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any(), (path, l, t, r, b)
    checked += 1
assert checked >= 30, checked
PY
}

test_dataset_and_subset_default_to_the_models() {
  "$DLRUN" dataset import fashion-mnist fm --limit 6 -q >/dev/null
  write_brightness_classifier b.lua
  # a model without a dataset cannot choose its items, and is not created
  expect_exit 1 "$DLRUN" b.lua evaluate
  assert_contains "$OUT" "model 'brightness' does not exist yet, so it records no datasetId; give --dataset NAME"
  [ ! -e "$DATALOOP_PATH/store/models/brightness" ] || fail "a failed evaluate created the model"
  # created with --dataset, the model remembers it; its test subset is dir=/test
  expect_exit 0 "$DLRUN" b.lua evaluate --dataset fm --model bm -q
  expect_exit 0 "$DLRUN" b.lua evaluate --model bm -q
  assert_contains "$OUT" "Evaluation of 6 items"
  # a test subset in model.json wins over dir=/test and is named when it selects nothing
  /usr/bin/python3 - "$DATALOOP_PATH/store/models/bm/model.json" '{"filter": {"$and": [{"dir": "/validation"}]}}' <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["metadata"]["system"]["subsets"]["test"] = json.loads(sys.argv[2])
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
  expect_exit 0 "$DLRUN" b.lua evaluate --model bm -q
  local run
  run=$(run_dir bm)
  /usr/bin/python3 - "$run/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["n_items"] == 6 and m["filters"] == ['{"filter":{"$and":[{"dir":"/validation"}]}}'], m["filters"]
PY
  assert_contains "$(cat "$DATALOOP_PATH"/datasets/fm/json/validation/00001.json)" '"name": "bm"'
  /usr/bin/python3 - "$DATALOOP_PATH/store/models/bm/model.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["metadata"]["system"]["subsets"]["test"] = {"filter": {"$and": [{"dir": "/holdout"}]}}
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
  expect_exit 1 "$DLRUN" b.lua evaluate --model bm -q
  assert_contains "$OUT" "the test subset of model 'bm' ({\"filter\":{\"\$and\":[{\"dir\":\"/holdout\"}]}}) selects no items"
  # --filter overrides the subset
  expect_exit 0 "$DLRUN" b.lua evaluate --model bm --filter dir=/train --filter name=0000[12].png
  assert_contains "$OUT" "Evaluation of 2 items"
}

test_save_then_evaluate_then_predict() {
  "$DLRUN" dataset import fashion-mnist fm --limit 10 -q >/dev/null
  write_brightness_classifier b.lua
  # a model that needs no training: save stores its one parameter as v1
  expect_exit 0 "$DLRUN" b.lua save --config offset=12
  expect_exit 0 "$DLRUN" b.lua evaluate --dataset fm -q
  check_brightness_predictions "$DATALOOP_PATH/datasets/fm" 12
  /usr/bin/python3 - "$DATALOOP_PATH" <<'PY'
import json, sys
m = json.load(open(f"{sys.argv[1]}/store/models/brightness/model.json"))
assert m["metrics"]["evaluate"]["modelVersion"] == 1, m["metrics"]
PY
  expect_exit 0 "$DLRUN" b.lua predict --dataset fm --filter dir=/validation -q
  assert_contains "$OUT" "predict: 10 ok, 0 failed"
  assert_contains "$(cat "$DATALOOP_PATH"/datasets/fm/json/validation/00003.json)" '"name": "brightness"'
}

test_failed_items_exit_3_and_are_not_scored() {
  "$DLRUN" dataset import fashion-mnist fm --limit 8 -q >/dev/null
  write_brightness_classifier b.lua
  head -c 60 "$DATALOOP_PATH/datasets/fm/items/test/00004.png" >cut.png
  mv cut.png "$DATALOOP_PATH/datasets/fm/items/test/00004.png"
  expect_exit 3 "$DLRUN" b.lua evaluate --dataset fm
  assert_contains "$OUT" "Evaluation of 7 items"
  assert_contains "$OUT" "evaluate: 7 ok, 1 failed"
  local run
  run=$(run_dir brightness)
  assert_contains "$(cat "$run/failures.jsonl")" '"filename":"/test/00004.png"'
  # a resumed run predicts nothing new and scores every item that has predictions
  expect_exit 3 "$DLRUN" b.lua evaluate --dataset fm --resume
  assert_contains "$OUT" "evaluate: 0 ok, 1 failed, 7 skipped"
  assert_contains "$OUT" "Evaluation of 7 items"
}

test_bad_ground_truth_fails_its_item_and_names_it() {
  "$DLRUN" dataset import fashion-mnist fm --limit 5 -q >/dev/null
  write_brightness_classifier b.lua
  /usr/bin/python3 - "$DATALOOP_PATH/datasets/fm/json/test/00002.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["annotations"].append({"type": "box", "label": "Bag", "coordinates": [{"x": 1, "y": 2}]})
json.dump(doc, open(sys.argv[1], "w"))
PY
  expect_exit 3 "$DLRUN" b.lua evaluate --dataset fm
  assert_contains "$OUT" "Evaluation of 4 items"
  assert_contains "$OUT" "evaluate: 4 ok, 1 failed, 0 skipped"
  assert_contains "$(cat "$(run_dir brightness)/failures.jsonl")" \
    '"filename":"/test/00002.png","stage":"evaluate","message":"item /test/00002.png, ground truth 1: a box'"'"'s coordinates must be two points'
}

test_evaluate_usage() {
  write_brightness_classifier b.lua
  expect_exit 2 "$DLRUN" b.lua evaluate --out x
  assert_contains "$OUT" "unknown option '--out' for 'evaluate'"
  expect_exit 2 "$DLRUN" b.lua evaluate some.png
  expect_exit 0 "$DLRUN" b.lua evaluate --help
  assert_contains "$OUT" "default: the model's test subset"
  assert_contains "$OUT" "confusion_matrix.png"
  echo 'local dl = require "dl" local A = dl.Adapter { name = "x" } function A:load() end return A' >noload.lua
  expect_exit 1 "$DLRUN" noload.lua evaluate
  assert_contains "$OUT" "'evaluate' needs the user functions load, predict"
}
