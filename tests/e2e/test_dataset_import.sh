# End-to-end tests of `dlrun dataset import` on real files.

test_fashion_mnist_import_writes_pngs_with_class_ground_truth() {
  expect_exit 0 "$DLRUN" dataset import fashion-mnist fm --limit 20 --validation 100 -q
  assert_contains "$OUT" "imported 60 items into dataset 'fm'"
  local ds="$DATALOOP_PATH/datasets/fm"
  assert_file "$ds/dataset.json"
  for split in train validation test; do
    [ "$(ls "$ds/items/$split" | wc -l)" -eq 20 ] || fail "expected 20 items in /$split"
    [ "$(ls "$ds/json/$split" | wc -l)" -eq 20 ] || fail "expected 20 documents in /$split"
  done
  # the PNG is a real 28x28 grayscale image
  /usr/bin/python3 - "$ds/items/train/00001.png" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1])
assert im.size == (28, 28) and im.mode == "L", (im.size, im.mode)
PY
  # The labels of the first training items match the IDX labels.
  /usr/bin/python3 - "$ds" <<'PY'
import gzip, json, sys
ds = sys.argv[1]
labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
raw = gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz").read()[8:]
for i in range(20):
    doc = json.load(open(f"{ds}/json/train/{i + 1:05d}.json"))
    assert doc["filename"] == f"/train/{i + 1:05d}.png", doc["filename"]
    assert doc["metadata"]["system"]["width"] == 28
    (ann,) = doc["annotations"]
    assert ann["type"] == "class" and ann["label"] == labels[raw[i]], (i, ann)
    assert "model" not in ann["metadata"].get("user", {})
# /validation holds the last 100 training items: its first is item 59901
doc = json.load(open(f"{ds}/json/validation/00001.json"))
assert doc["annotations"][0]["label"] == labels[raw[59900]]
meta = json.load(open(f"{ds}/dataset.json"))
assert [l["tag"] for l in meta["labels"]] == labels
assert all(l["color"].startswith("#") for l in meta["labels"])
assert len(meta["id"]) == 24
PY
}

test_import_refuses_an_existing_dataset_unless_overwrite() {
  expect_exit 0 "$DLRUN" dataset import fashion-mnist fm --limit 2 -q
  expect_exit 1 "$DLRUN" dataset import fashion-mnist fm --limit 2 -q
  assert_contains "$OUT" "already exists (pass --overwrite to replace it)"
  expect_exit 0 "$DLRUN" dataset import fashion-mnist fm --limit 3 -q --overwrite
  [ "$(ls "$DATALOOP_PATH/datasets/fm/items/test" | wc -l)" -eq 3 ] || fail "overwrite did not replace the dataset"
}

test_import_of_corrupt_idx_fails_cleanly_and_leaves_nothing() {
  mkdir src
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    cp "/usr/share/datasets/fashion-mnist/$f.gz" src/
  done
  head -c 5000 /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz >src/t10k-images-idx3-ubyte.gz
  expect_exit 1 "$DLRUN" dataset import fashion-mnist fm --source src -q
  assert_contains "$OUT" "t10k-images-idx3-ubyte.gz: truncated or corrupt"
  [ ! -e "$DATALOOP_PATH/datasets/fm" ] || fail "a failed import left a dataset behind"
  [ -z "$(ls -A "$DATALOOP_PATH/datasets")" ] || fail "a failed import left files: $(ls -A "$DATALOOP_PATH/datasets")"
}

test_import_of_idx_claiming_more_than_it_holds_fails_cleanly() {
  # 10,000,000 images of 4096 x 4096 in a 20-byte file: the import used to
  # reserve the claimed 160 TB before reading (found by fuzzing).
  mkdir src
  printf '\x00\x00\x08\x03\x00\x98\x96\x80\x00\x00\x10\x00\x00\x00\x10\x00abcd' >src/train-images-idx3-ubyte.gz
  printf '\x00\x00\x08\x01\x00\x00\x00\x01\x00' >src/train-labels-idx1-ubyte.gz
  cp src/train-images-idx3-ubyte.gz src/t10k-images-idx3-ubyte.gz
  cp src/train-labels-idx1-ubyte.gz src/t10k-labels-idx1-ubyte.gz
  expect_exit 1 "$DLRUN" dataset import fashion-mnist fm --source src -q
  assert_contains "$OUT" "train-images-idx3-ubyte.gz: truncated or corrupt (unexpected end of data)"
}

test_folder_import_makes_one_class_per_subfolder() {
  mkdir -p src/cat src/dog/puppies
  /usr/bin/python3 - <<'PY'
from PIL import Image
Image.new("RGB", (7, 5), (255, 0, 0)).save("src/cat/a.jpg")
Image.new("RGB", (4, 4), (0, 255, 0)).save("src/dog/b.png")
Image.new("L", (3, 9)).save("src/dog/puppies/c.png")
PY
  echo hello >src/readme.txt
  expect_exit 0 "$DLRUN" dataset import folder src ./pets -q
  assert_contains "$OUT" "imported 4 items"
  /usr/bin/python3 - <<'PY'
import json
meta = json.load(open("pets/dataset.json"))
assert [l["tag"] for l in meta["labels"]] == ["cat", "dog"], meta["labels"]
a = json.load(open("pets/json/cat/a.json"))
assert a["filename"] == "/cat/a.jpg" and a["annotations"][0]["label"] == "cat"
assert a["metadata"]["system"] == {"mimetype": "image/jpeg", "width": 7, "height": 5, "size": a["metadata"]["system"]["size"]}
c = json.load(open("pets/json/dog/puppies/c.json"))
assert c["annotations"][0]["label"] == "dog" and c["metadata"]["system"]["height"] == 9
r = json.load(open("pets/json/readme.json"))
assert r["annotations"] == [] and r["metadata"]["system"]["mimetype"] == "text/plain"
PY
  cmp src/cat/a.jpg pets/items/cat/a.jpg
}

test_folder_import_skips_links_to_files_outside_the_folder() {
  mkdir -p src/cat outside
  /usr/bin/python3 -c 'from PIL import Image; Image.new("L", (4, 4)).save("src/cat/a.png"); Image.new("L", (4, 4)).save("outside/b.png")'
  ln -s /etc/passwd src/cat/passwd.txt
  ln -s "$T/outside/b.png" src/cat/b.png
  ln -s a.png src/cat/same.png # a link inside the folder is imported
  expect_exit 0 "$DLRUN" dataset import folder src pets
  assert_contains "$OUT" "warning: skipping src/cat/passwd.txt: a link to a file outside src"
  assert_contains "$OUT" "warning: skipping src/cat/b.png: a link to a file outside src"
  assert_contains "$OUT" "imported 2 items into dataset 'pets'"
  assert_contains "$OUT" "; skipped 2 files"
  ls "$DATALOOP_PATH/datasets/pets/items/cat" >items.txt
  assert_eq "a.png same.png" "$(echo $(cat items.txt))" "items"
}

test_import_usage_errors() {
  expect_exit 2 "$DLRUN" dataset import cifar x
  assert_contains "$OUT" "unknown dataset kind 'cifar'"
  expect_exit 2 "$DLRUN" dataset import folder onlyone
  expect_exit 2 "$DLRUN" dataset import fashion-mnist fm --limit lots
  assert_contains "$OUT" "--limit must be a count"
  expect_exit 1 "$DLRUN" dataset import folder nowhere dest
  assert_contains "$OUT" "nowhere is not a folder"
}

# Waits (up to 10 s) until an import has written items into its staging folder.
wait_for_staging() { # datasets folder
  local _
  for _ in $(seq 500); do
    [ -n "$(find "$1" -path '*/.fm.tmp-*/items/*' -name '*.png' 2>/dev/null | head -1)" ] && return 0
    sleep 0.02
  done
  fail "the import wrote no staged items"
}

test_ctrl_c_stops_an_import_and_removes_its_staging_folder() {
  mkdir -p "$DATALOOP_PATH/datasets"
  "$DLRUN" dataset import fashion-mnist fm --limit 5000 >out.txt 2>&1 &
  local pid=$! rc=0
  wait_for_staging "$DATALOOP_PATH/datasets"
  kill -INT $pid
  wait $pid || rc=$?
  assert_eq 130 "$rc" "exit code after SIGINT: $(cat out.txt)"
  assert_contains "$(cat out.txt)" "import fashion-mnist stopped by SIGINT; nothing was imported"
  [ -z "$(ls -A "$DATALOOP_PATH/datasets")" ] || fail "the import left: $(ls -A "$DATALOOP_PATH/datasets")"
}

test_an_import_removes_the_staging_folders_of_killed_imports() {
  mkdir -p "$DATALOOP_PATH/datasets"
  "$DLRUN" dataset import fashion-mnist fm --limit 5000 -q >/dev/null 2>&1 &
  local pid=$!
  wait_for_staging "$DATALOOP_PATH/datasets"
  kill -9 $pid
  wait $pid 2>/dev/null || true
  [ -n "$(ls -A "$DATALOOP_PATH/datasets")" ] || fail "kill -9 left no staging folder to test with"
  expect_exit 0 "$DLRUN" dataset import fashion-mnist other --limit 2
  assert_contains "$OUT" "removed 1 staging folders left by interrupted imports"
  assert_eq "other" "$(ls -A "$DATALOOP_PATH/datasets")" "what is left in datasets/"
}
