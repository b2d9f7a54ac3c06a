# End-to-end tests of `dlrun new`: each template's scaffold passes its own
# specs and runs on its sample images out of the box. Run by
# tests/e2e/harness.sh: each test_* runs in a fresh temp dir ($T).

# The JSON lines of a predict run as "filename label" lines (python3 reads them).
labels_of() {
  /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(d["filename"], " ".join(a["label"] for a in d["annotations"]))'
}

test_classifier_scaffold_passes_its_specs_and_predicts_the_samples() {
  expect_exit 0 "$DLRUN" new cats
  assert_contains "$OUT" "dlrun cats.lua predict samples/"
  for f in cats.lua spec/cats_spec.lua README.md .luarc.json samples/red.png samples/green.png samples/blue.png; do
    assert_file "$f"
  done
  assert_contains "$(cat README.md)" "dlrun cats.lua predict samples/"
  expect_exit 0 "$DLRUN" test
  assert_contains "$OUT" "3 successes / 0 failures / 0 errors"
  "$DLRUN" cats.lua predict samples/ >out.jsonl 2>err.txt || fail "predict failed: $(cat err.txt)"
  assert_eq "/blue.png blue
/green.png green
/red.png red" "$(labels_of <out.jsonl)" "labels of the samples"
}

test_classifier_save_then_predict_reads_the_saved_weights() {
  expect_exit 0 "$DLRUN" new cats
  # swap the weights' red and blue columns: red images now read as blue
  sed -i 's/{ { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } }/{ { 0, 0, 1 }, { 0, 1, 0 }, { 1, 0, 0 } }/' cats.lua
  expect_exit 0 "$DLRUN" cats.lua save
  assert_contains "$OUT" "v1"

  sed -i "s/{ { 0, 0, 1 }, { 0, 1, 0 }, { 1, 0, 0 } }/{ { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } }/" cats.lua
  "$DLRUN" cats.lua predict samples/red.png >out.jsonl 2>err.txt || fail "predict failed: $(cat err.txt)"
  assert_eq "/red.png blue" "$(labels_of <out.jsonl)" "label from the saved weights"
}

test_detector_scaffold_passes_its_specs_and_boxes_the_samples() {
  expect_exit 0 "$DLRUN" new boxes --template detector
  expect_exit 0 "$DLRUN" test
  assert_contains "$OUT" "2 successes / 0 failures / 0 errors"
  "$DLRUN" boxes.lua predict samples/ >out.jsonl 2>err.txt || fail "predict failed: $(cat err.txt)"
  # the samples hold one bright rectangle each, drawn at known places
  /usr/bin/python3 - out.jsonl <<'PY' || fail "boxes: $(cat out.jsonl)"
import json, sys
got = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    got[d["filename"]] = [[(p["x"], p["y"]) for p in a["coordinates"]] for a in d["annotations"]]
want = {"/one.png": [[(20, 14), (56, 38)]], "/two.png": [[(50, 30), (80, 60)]], "/empty.png": []}
assert got == want, got
PY
}

test_embedder_scaffold_passes_its_specs_and_embeds_the_samples() {
  expect_exit 0 "$DLRUN" new emb --template embedder --dir project
  assert_contains "$OUT" "cd project"
  cd project
  expect_exit 0 "$DLRUN" test
  assert_contains "$OUT" "2 successes / 0 failures / 0 errors"
  expect_exit 0 "$DLRUN" emb.lua embed samples/
  assert_contains "$OUT" "3 vectors of 12 dimensions"
}

test_luarc_points_at_the_dl_package() {
  expect_exit 0 "$DLRUN" new cats
  lib=$(/usr/bin/python3 -c 'import json; print(json.load(open(".luarc.json"))["workspace.library"][0])')
  assert_file "$lib/dl/init.lua"
  assert_file "$lib/dl/adapter.lua"
}

test_an_existing_adapter_is_never_overwritten() {
  echo "-- mine" >cats.lua
  expect_exit 1 "$DLRUN" new cats
  assert_contains "$OUT" "./cats.lua exists already"
  assert_eq "-- mine" "$(cat cats.lua)" "the existing file"
  [ ! -e spec/cats_spec.lua ] || fail "wrote the spec although the adapter exists"
}

test_a_second_adapter_keeps_the_shared_files() {
  expect_exit 0 "$DLRUN" new cats
  echo "my notes" >>README.md
  expect_exit 0 "$DLRUN" new dogs --template detector
  assert_contains "$OUT" "Kept as they were:"
  assert_contains "$(cat README.md)" "my notes"
  assert_file dogs.lua
  assert_file spec/dogs_spec.lua
  expect_exit 0 "$DLRUN" test
  assert_contains "$OUT" "5 successes / 0 failures / 0 errors"
}

test_bad_names_and_templates_are_usage_errors() {
  expect_exit 2 "$DLRUN" new 9lives
  assert_contains "$OUT" "adapter name '9lives'"
  expect_exit 2 "$DLRUN" new ok --template segmenter
  assert_contains "$OUT" "unknown template 'segmenter' (classifier, detector or embedder)"
  [ ! -e ok.lua ] || fail "wrote ok.lua for an unknown template"
}
