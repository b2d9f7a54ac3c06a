#!/usr/bin/env python3
"""Writes and checks safetensors files independently of dlrun, with numpy only.

It follows the published format and the choices of the reference
implementation (huggingface/safetensors, safetensors/src/tensor.rs):
  - 8 bytes: N, the header length, a little-endian u64;
  - N bytes: a compact JSON object (no spaces, '/' and non-ASCII unescaped):
    "__metadata__" first when present, then one entry per tensor,
    {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}, in data order;
    padded with spaces so that N is a multiple of 8;
  - the tensors' bytes, C order, little-endian, back to back from offset 0,
    sorted by descending dtype alignment (I64, F32, I32, U8 here), then by
    name (byte order).
The reference keeps __metadata__ in a hash map (any key order); this script
sorts its keys so that files are reproducible, and so does dlrun.

Usage (Debian's /usr/bin/python3 has numpy):
  make_reference.py write OUT   writes the reference file the specs read
  make_reference.py check FILE  parses FILE, checks the layout rules, writes
                                the same tensors again and compares the bytes
Both first check this writer against the byte layouts that the reference
implementation's unit tests expect.
"""
import json
import struct
import sys

import numpy as np

# dtype name -> (numpy dtype, rank in the reference's alignment order)
DTYPES = {
    "U8": (np.dtype("<u1"), 1),
    "I32": (np.dtype("<i4"), 9),
    "F32": (np.dtype("<f4"), 11),
    "I64": (np.dtype("<i8"), 13),
}
NAME_OF = {np.dtype(v[0]).str: k for k, v in DTYPES.items()}


def reference_tensors():
    """The tensors of the committed reference file, with edge cases: a
    scalar, an empty tensor, -0.0, i64 beyond 2^32, names with '/', a quote
    and non-ASCII letters."""
    return {
        "linear.weight": np.array([[0.5, -1.25, 3.0], [1e-3, -0.0, 65504.0]], dtype="<f4"),
        "linear.bias": np.array([0.25, -0.75], dtype="<f4"),
        "conv/0.weight": np.arange(24, dtype="<f4").reshape(2, 3, 2, 2) / 8.0,
        "labels": np.array([0, 9, -1, 2**40 + 3], dtype="<i8"),
        "counts": np.array([[-7, 2147483647], [-2147483648, 0]], dtype="<i4"),
        "mask": np.array([[0, 255, 1]], dtype="<u1"),
        "scale": np.array(2.5, dtype="<f4"),
        "empty": np.zeros((0, 3), dtype="<f4"),
        'caf\u00e9 "q"': np.array([1, 2], dtype="<u1"),
    }


REFERENCE_METADATA = {"format": "pt", "source": "make_reference.py"}


def serialize(tensors, metadata):
    def key(item):
        name, array = item
        return (-DTYPES[NAME_OF[array.dtype.str]][1], name.encode("utf-8"))

    header, chunks, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata, key=lambda s: s.encode("utf-8"))}
    for name, array in sorted(tensors.items(), key=key):
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {
            "dtype": NAME_OF[array.dtype.str],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def parse(blob):
    """Tensors and metadata of a file, after checking the layout rules."""
    if len(blob) < 8:
        raise ValueError("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n % 8 or 8 + n > len(blob):
        raise ValueError("header length %d is not a multiple of 8 or exceeds the file" % n)
    text = blob[8 : 8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("header does not start with '{'")
    header = json.loads(text)
    metadata = header.pop("__metadata__", None)
    data = blob[8 + n :]
    tensors, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = info["data_offsets"]
        dtype = DTYPES[info["dtype"]][0]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if begin != end or stop - begin != count * dtype.itemsize:
            raise ValueError("tensor %r: offsets [%d, %d) do not follow on from %d" % (name, begin, stop, end))
        tensors[name] = np.frombuffer(data[begin:stop], dtype=dtype).reshape(info["shape"])
        end = stop
    if end != len(data):
        raise ValueError("%d bytes of data after the last tensor" % (len(data) - end))
    return tensors, metadata


def selftest():
    """This writer against the bytes the reference implementation's own unit
    tests expect (header text shown; data is 0..5 as f32)."""
    f32 = np.arange(6, dtype="<f4")
    one = b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'
    two = b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + b" " * 7
    cases = [
        ({"attn.0": f32.reshape(1, 2, 3)}, None, struct.pack("<Q", 64) + one + f32.tobytes()),
        ({"attn0": f32.reshape(1, 1, 2, 3)}, None, struct.pack("<Q", 72) + two + f32.tobytes()),
        ({}, None, struct.pack("<Q", 8) + b"{}" + b" " * 6),
        ({}, {"framework": "pt"}, struct.pack("<Q", 40) + b'{"__metadata__":{"framework":"pt"}}' + b" " * 5),
    ]
    for tensors, metadata, expected in cases:
        if serialize(tensors, metadata) != expected:
            raise AssertionError("make_reference.py disagrees with the reference layout for %r" % sorted(tensors))


def main(argv):
    selftest()
    if len(argv) == 3 and argv[1] == "write":
        with open(argv[2], "wb") as f:
            f.write(serialize(reference_tensors(), REFERENCE_METADATA))
        return 0
    if len(argv) == 3 and argv[1] == "check":
        with open(argv[2], "rb") as f:
            blob = f.read()
        try:
            tensors, metadata = parse(blob)
        except (ValueError, KeyError, TypeError) as e:
            print("%s: not a valid safetensors file: %s" % (argv[2], e))
            return 1
        again = serialize(tensors, metadata)
        if again != blob:
            at = next((i for i, (a, b) in enumerate(zip(again, blob)) if a != b), min(len(again), len(blob)))
            print("%s: differs from the reference layout at byte %d (%d vs %d bytes)"
                  % (argv[2], at, len(blob), len(again)))
            print("  expected header: %s" % again[8 : 8 + struct.unpack("<Q", again[:8])[0]].decode("utf-8"))
            return 1
        print("%s: %d tensors, byte-identical to the reference layout" % (argv[2], len(tensors)))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
