# End-to-end tests of embed_items and `dlrun similar`.

# Embeds a 28x28 image as its 4 quadrant means: images that are copies of
# each other get the same vector.
write_quadrant_embedder() {
  cat >"$1" <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'quad', input = { size = { 28, 28 }, channels = 1, dtype = 'f32' },
  configuration = { batch_size = 8 } }
function A:load() end
function A:embed(batch)
  local out = {}
  for i = 1, batch.n do
    local img = batch[i]:select(1, 1)
    local v = {}
    for q = 0, 3 do
      local r, c = math.floor(q / 2) * 14 + 1, (q % 2) * 14 + 1
      v[q + 1] = img:narrow(1, r, 14):narrow(2, c, 14):mean()
    end
    out[i] = v
  end
  return out
end
return A
LUA
}

test_embed_stores_vectors_and_similar_finds_a_duplicate() {
  "$DLRUN" dataset import fashion-mnist fm --limit 10 -q >/dev/null
  # make /test/00007.png a copy of /test/00002.png: its nearest neighbour
  cp "$DATALOOP_PATH/datasets/fm/items/test/00002.png" "$DATALOOP_PATH/datasets/fm/items/test/00007.png"
  write_quadrant_embedder a.lua
  expect_exit 0 "$DLRUN" a.lua embed --dataset fm
  assert_contains "$OUT" "embed: 30 ok, 0 failed"
  assert_contains "$OUT" "feature set 'quad': 30 vectors of 4 dimensions"
  local fs="$DATALOOP_PATH/feature_sets/quad"
  [ "$(stat -c %s "$fs/vectors.f32")" -eq $((30 * 4 * 4)) ] || fail "vectors.f32 has the wrong size"
  [ "$(wc -l <"$fs/items.jsonl")" -eq 30 ] || fail "items.jsonl should have 30 lines"
  # the stored vectors are the quadrant means, computed independently from the PNG
  /usr/bin/python3 - "$DATALOOP_PATH" <<'PY'
import json, struct, sys
from PIL import Image
import numpy as np
home = sys.argv[1]
fs = f"{home}/feature_sets/quad"
rows = [json.loads(l) for l in open(f"{fs}/items.jsonl")]
vec = np.frombuffer(open(f"{fs}/vectors.f32", "rb").read(), dtype="<f4").reshape(-1, 4)
i = [r["filename"] for r in rows].index("/test/00005.png")
px = np.asarray(Image.open(f"{home}/datasets/fm/items/test/00005.png"), dtype=np.float32) / 255
want = [px[r:r + 14, c:c + 14].mean() for r in (0, 14) for c in (0, 14)]
assert np.allclose(vec[i], want, atol=1e-5), (vec[i], want)
meta = json.load(open(f"{fs}/meta.json"))
assert meta["dim"] == 4 and meta["count"] == 30 and meta["dtype"] == "float32"
PY
  expect_exit 0 "$DLRUN" similar --model quad /test/00002.png -k 3
  assert_contains "$OUT" "neighbours of /test/00002.png"
  echo "$OUT" | grep -E '^ +1 +1\.0000 .* /test/00007\.png$' >/dev/null || fail "the copy should rank first with cosine 1:
$OUT"
  OUT=$("$DLRUN" similar --model quad --all -k 1)
  [ "$(echo "$OUT" | wc -l)" -eq 30 ] || fail "--all should print one line per vector"
  echo "$OUT" | grep '"filename":"/test/00007.png","neighbours":\[{"id":"[0-9a-f]*","filename":"/test/00002.png"' >/dev/null ||
    fail "the copy's neighbour should be the original"
  echo '[0.5, 0.5, 0.5, 0.5]' >v.json
  expect_exit 0 "$DLRUN" similar --model quad --vector v.json -k 2 --json
  assert_contains "$OUT" '"neighbours":[{"id"'
}

test_embed_again_replaces_rows_and_resume_skips() {
  "$DLRUN" dataset import fashion-mnist fm --limit 5 -q >/dev/null
  write_quadrant_embedder a.lua
  expect_exit 0 "$DLRUN" a.lua embed --dataset fm --filter dir=/test -q
  cp "$DATALOOP_PATH/feature_sets/quad/vectors.f32" first.f32
  expect_exit 0 "$DLRUN" a.lua embed --dataset fm -q
  [ "$(wc -l <"$DATALOOP_PATH/feature_sets/quad/items.jsonl")" -eq 15 ] || fail "expected 15 rows after embedding all"
  cmp -n $((5 * 16)) first.f32 "$DATALOOP_PATH/feature_sets/quad/vectors.f32" || fail "re-embedded rows changed"
  expect_exit 0 "$DLRUN" a.lua embed --dataset fm --resume
  assert_contains "$OUT" "embed: 0 ok, 0 failed, 15 skipped"
}

test_bad_vectors_fail_their_items() {
  "$DLRUN" dataset import fashion-mnist fm --limit 6 -q >/dev/null
  cat >bad.lua <<'LUA'
local dl = require 'dl'
local A = dl.Adapter { name = 'badvec', input = { size = { 4, 4 }, channels = 1 }, configuration = { batch_size = 3, embeddings_size = 3 } }
function A:load() end
function A:embed(batch)
  local out = {}
  for i = 1, batch.n do
    local n = tonumber(batch.items[i].name:match('(%d+)'))
    if n == 2 then out[i] = { 1, 2 }
    elseif n == 3 then out[i] = { 1, 0 / 0, 3 }
    else out[i] = dl.tensor.from_table({ n, 1, 0 }) end
  end
  if batch.items[1].name == '00004.png' then return { out[1] } end
  return out
end
return A
LUA
  expect_exit 3 "$DLRUN" bad.lua embed --dataset fm --filter dir=/test
  assert_contains "$OUT" "embed: 1 ok, 5 failed"
  /usr/bin/python3 - "$DATALOOP_PATH" <<'PY'
import glob, json, sys
run = glob.glob(f"{sys.argv[1]}/runs/*-embed-badvec")[0]
fails = {f["filename"]: f["message"] for f in map(json.loads, open(f"{run}/failures.jsonl"))}
assert fails["/test/00002.png"] == "item /test/00002.png: vector has 2 values, but embeddings_size is 3", fails
assert "value 2 of the vector is nan" in fails["/test/00003.png"], fails
assert fails["/test/00004.png"] == "embed returned 1 vectors for a batch of 3 items", fails
PY
}

test_similar_usage_and_missing_feature_set() {
  expect_exit 2 "$DLRUN" similar x
  assert_contains "$OUT" "--model NAME is required"
  expect_exit 2 "$DLRUN" similar --model m
  assert_contains "$OUT" "give exactly one of ITEM, --vector FILE or --all"
  expect_exit 2 "$DLRUN" similar --model m x -k 0
  expect_exit 1 "$DLRUN" similar --model m x
  assert_contains "$OUT" "feature set 'm' not found"
}

test_fashion_embedder_puts_garments_of_a_kind_together() {
  "$DLRUN" dataset import fashion-mnist fm --limit 400 --validation 50 -q >/dev/null
  expect_exit 0 "$DLRUN" "$ROOT/adapters_lua/fashion_mlp.lua" train --dataset fm -c epochs=3 -q
  expect_exit 0 "$DLRUN" "$ROOT/adapters_lua/fashion_embedder.lua" embed --model fashion-mlp --dataset fm \
    --filter dir=/test
  assert_contains "$OUT" "feature set 'fashion-mlp': 400 vectors of 128 dimensions"
  OUT=$("$DLRUN" similar --model fashion-mlp --all -k 1)
  # the nearest neighbour mostly has the same ground-truth label (chance: about 10%)
  echo "$OUT" | /usr/bin/python3 -c '
import json, sys
home = sys.argv[1]
def label(f):
    doc = json.load(open(home + "/datasets/fm/json" + f.replace(".png", ".json")))
    return [a["label"] for a in doc["annotations"] if "model" not in a["metadata"].get("user", {})][0]
rows = [json.loads(l) for l in sys.stdin]
same = sum(label(r["filename"]) == label(r["neighbours"][0]["filename"]) for r in rows)
assert len(rows) == 400 and same / len(rows) > 0.5, (len(rows), same)
' "$DATALOOP_PATH"
}
