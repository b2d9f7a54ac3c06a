#!/usr/bin/env python3
"""Writes the starting corpora of the runtime's fuzz targets: OUT/<target>/*.

    python3 tests/fuzz/make_seeds.py OUT

Each seed is a small valid input, or a known hostile one (archives with '..'
entries, links out, hard links), so the fuzzers start from the shapes the
parsers see in practice; seeds named fixed_* once made a target fail, and
stay to show that they no longer do. Inputs of several parts join them with
SEP, as tests/fuzz/support.h says."""
import gzip
import io
import json
import os
import struct
import sys
import tarfile
import zipfile

SEP = b"\n--8<--\n"


def join(*parts):
    return SEP.join(p.encode() if isinstance(p, str) else p for p in parts)


def put(out, target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


GT = {"id": "a1", "type": "class", "label": "cat", "attributes": [], "metadata": {"system": {}}}
PRED = {"type": "box", "label": "dog", "coordinates": [{"x": 1.5, "y": 2, "z": 0}, {"x": 30, "y": 40.25, "z": 0}],
        "attributes": {}, "metadata": {"user": {"model": {"name": "m", "confidence": 0.875}}}}
DOC = {"id": "65a1b2c3d4e5f6a7b8c9d0e1", "filename": "/train/1.png",
       "metadata": {"system": {"mimetype": "image/png", "width": 28, "height": 28, "size": 300}},
       "annotations": [GT, PRED]}


def dataset_filter(out):
    doc = json.dumps(DOC)
    seeds = {
        "dir": ("dir=/train", "/train/1.png"),
        "name": ("name=*.png", "/train/sub/1.png"),
        "label": ("label=cat", "/test/1.png"),
        "annotated": ("annotated=false", "/1.png"),
        "dtlpy": ('{"filter": {"$and": [{"hidden": false}, {"type": "file"}, {"dir": "/train"}]}, '
                  '"resource": "items"}', "/train/1.png"),
        "ops": ('{"$or": [{"label": {"$in": ["cat", "dog"]}}, {"name": {"$ne": "x.png"}}, '
                '{"annotated": {"$eq": true}}]}', "/a/b/c.jpg"),
        "filename": ('{"filter": {"filename": "/train/*.png"}}', "/train/2.png"),
        "string": (json.dumps(json.dumps({"filter": {"dir": "/validation"}})), "/validation/1.png"),
        "join": ('{"filter": {"dir": "/"}, "join": {"filter": {"label": "cat"}}}', "/x.png"),
    }
    for name, (text, path) in seeds.items():
        put(out, "fuzz_dataset_filter", name, join(text, path, doc))


def model_entity(out):
    sha = "0123456789abcdef" * 4
    full = {"id": "65a1b2c3d4e5f6a7b8c9d0e1", "name": "resnet", "status": "trained", "labels": ["cat", "dog"],
            "configuration": {"lr": 0.001, "epochs": 5, "layers": [64, 32], "nested": {"x": None}},
            "inputType": "image", "outputType": "class", "datasetId": "65a1b2c3d4e5f6a7b8c9d0e2",
            "metadata": {"system": {"subsets": {
                "train": {"filter": {"$and": [{"dir": "/train"}]}},
                "validation": json.dumps({"filter": {"dir": "/validation"}})}}},
            "artifacts": [{"type": "archive", "version": 2, "path": "artifacts/v2.tar.gz"},
                          {"type": "link", "url": "https://example.com/w.bin", "filename": "w.bin", "sha256": sha}],
            "versions": [{"version": 1, "sha256": sha, "size": 10, "created": "2026-01-31T12:00:00.000Z"},
                         {"version": 2, "sha256": sha, "size": 12, "created": "2026-02-01T12:00:00.000Z"}],
            "metrics": {"accuracy": 0.9123456789, "loss": [1.5, 0.25]},
            "createdAt": "2026-01-31T12:00:00.000Z", "updatedAt": "2026-02-01T12:00:00.000Z", "extra": "kept"}
    put(out, "fuzz_model_entity", "full", json.dumps(full, indent=2).encode())
    put(out, "fuzz_model_entity", "minimal", b'{"name": "m"}')
    put(out, "fuzz_model_entity", "platform", json.dumps(
        {"_id": "x", "name": "m", "versions": [], "metrics": {"a": 1e-7, "b": 123456789012.5}}).encode())
    put(out, "fuzz_model_entity", "fixed_version_past_int", json.dumps(
        {"name": "m", "versions": [{"version": 2 ** 31, "sha256": sha}]}).encode())
    put(out, "fuzz_model_entity", "fixed_largest_double", b'{"name": "m", "metrics": {"x": 1.7976931348623157e308}}')


def item_doc(out):
    fresh = [dict(PRED, label="bird"), {"type": "class", "label": "cat",
                                        "metadata": {"user": {"model": {"name": "m"}}}}]
    put(out, "fuzz_item_doc", "replace", join(json.dumps(DOC, indent=2), json.dumps(fresh), "m"))
    put(out, "fuzz_item_doc", "other_model", join(json.dumps(DOC), json.dumps(fresh), "other"))
    bare = {"_id": "x", "filename": "/a.jpg", "metadata": {}}
    put(out, "fuzz_item_doc", "bare", join(json.dumps(bare), "[]", "m"))
    put(out, "fuzz_item_doc", "fixed_largest_double",
        join('{"id": "a", "annotations": [{"coordinates": [1.7976931348623157e308]}]}', "[]", "m"))
    put(out, "fuzz_item_doc", "unsorted", join(json.dumps(DOC), json.dumps(
        [{"metadata": {"z": 1, "a": {"y": [1, {"b": 2, "a": 1}]}, "user": {"model": {"name": "m"}}},
          "description": "d", "label": "x", "id": "ignored", "type": "point"}]), "m"))


def tar_bytes(entries, mode="w", fmt=tarfile.USTAR_FORMAT):
    """entries: (name, kind, text) with kind file, dir, sym, hard, chr, fifo."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=fmt) as t:
        for name, kind, text in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o755 if kind == "dir" else 0o644
            data = None
            if kind == "file":
                data = text.encode()
                info.size = len(data)
            else:
                info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                             "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
                if kind in ("sym", "hard"):
                    info.linkname = text
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def artifact_archive(out):
    normal = [("model", "dir", None), ("model/weights.bin", "file", "weights"),
              ("model/config.json", "file", '{"lr": 0.1}'), ("latest", "sym", "model/weights.bin"),
              ("copy.bin", "hard", "model/weights.bin"), ("./model/sub/../notes.txt", "file", "n")]
    seeds = {
        "normal.tar": tar_bytes(normal),
        "normal.tar.gz": tar_bytes(normal, "w:gz"),
        "pax.tar": tar_bytes([("d/" + "long" * 40 + ".bin", "file", "x"), ("d/l", "sym", "../d")],
                             fmt=tarfile.PAX_FORMAT),
        "dotdot.tar": tar_bytes([("ok.txt", "file", "ok"), ("../evil", "file", "x"), ("a/b/../../../c", "file", "y")]),
        "absolute.tar": tar_bytes([("/tmp/evil-abs", "file", "x")]),
        "links_out.tar": tar_bytes([("up", "sym", "../../.."), ("abs", "sym", "/etc"),
                                    ("sub/in", "sym", "../model"), ("dangling", "sym", "missing")]),
        "chain.tar": tar_bytes([("b", "sym", "."), ("escaped", "sym", "b/..")]),
        "hard_out.tar": tar_bytes([("h1", "hard", "../evil"), ("h2", "hard", "/etc/passwd"), ("h3", "hard", "")]),
        "special.tar": tar_bytes([("dev/null", "chr", None), ("pipe", "fifo", None)]),
        "through.tar": tar_bytes([("d", "sym", "inner"), ("inner/x", "file", "x"), ("d/y", "file", "y")]),
        "fixed_link_through_link.tar": tar_bytes([("b", "sym", "."), ("x", "sym", "b/.."), ("x/evil", "sym", ".")]),
    }
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("model/weights.bin", "weights")
        z.writestr("../evil", "x")
    seeds["mixed.zip"] = zbuf.getvalue()
    for name, data in seeds.items():
        put(out, "fuzz_artifact_archive", name, data)


def feature_set(out):
    def meta(dim, count):
        return json.dumps({"name": "fs", "model": "fs", "model_id": "m1", "dim": dim, "count": count,
                           "dtype": "float32", "layout": "row-major, little-endian",
                           "updated": "2026-01-31T12:00:00.000Z"}, indent=2)

    def items(n):
        return "".join(json.dumps({"id": f"id{i}", "filename": f"/train/{i}.png"}) + "\n" for i in range(n))

    def vecs(n, dim):
        return struct.pack(f"<{n * dim}f", *[float(i) for i in range(n * dim)])

    put(out, "fuzz_feature_set", "consistent", join(meta(2, 3), items(3), vecs(3, 2)))
    put(out, "fuzz_feature_set", "killed_mid_put", join(meta(2, 3), items(4) + '{"id": "cut', vecs(5, 2)[:-3]))
    put(out, "fuzz_feature_set", "empty", join(meta(0, 0), "", ""))
    put(out, "fuzz_feature_set", "duplicates", join(meta(1, 2), items(2) + items(2), vecs(4, 1)))
    put(out, "fuzz_feature_set", "fixed_huge_dim", join(meta(2 ** 62, 1), items(1), vecs(1, 1)))


def idx(dims, count, rows=2, cols=2):
    header = struct.pack(">I", 0x800 | dims) + struct.pack(">I", count)
    if dims == 3:
        return header + struct.pack(">II", rows, cols) + bytes(i * 37 % 256 for i in range(count * rows * cols))
    return header + bytes(i % 10 for i in range(count))


def fashion_mnist(out):
    plain = [idx(3, 3), idx(1, 3), idx(3, 2, 3, 1), idx(1, 2)]
    put(out, "fuzz_fashion_mnist", "plain", join(*plain))
    put(out, "fuzz_fashion_mnist", "gzip", join(*(gzip.compress(p, mtime=0) for p in plain)))
    put(out, "fuzz_fashion_mnist", "bad_label", join(idx(3, 2), idx(1, 2)[:-1] + b"\x0b", idx(3, 2), idx(1, 2)))
    claims_160tb = struct.pack(">IIII", 0x803, 10000000, 4096, 4096) + b"abcd"
    put(out, "fuzz_fashion_mnist", "fixed_huge_claim", join(claims_160tb, idx(1, 1), claims_160tb, idx(1, 1)))


def main():
    out = sys.argv[1]
    for make in (dataset_filter, model_entity, item_doc, artifact_archive, feature_set, fashion_mnist):
        make(out)


if __name__ == "__main__":
    main()
