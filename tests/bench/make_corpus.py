"""Derives the benchmark corpus: distinct JPEG photos of 0.3-2 MP from a few
real source photos. Deterministic: the same sources and seed give the same
pictures (byte-identical with the same PIL/libjpeg versions).

    make_corpus.py OUT_DIR COUNT SOURCE...

Each output is a random crop (60-100% of each side) of one source, rescaled to
0.3-2 MP with its aspect ratio kept, flipped half of the time, with light
sensor-like noise (the sources are small, and upscaled pictures would
otherwise be unrealistically smooth and cheap to decode), saved as a baseline
4:2:0 JPEG at quality 85-95.
"""
import os
import random
import sys

import numpy as np
from PIL import Image

SEED = 20240601
MIN_PIXELS, MAX_PIXELS = 300_000, 2_000_000


def derive(src, rng, nrng):
    w, h = src.size
    cw = max(64, int(w * rng.uniform(0.6, 1.0)))
    ch = max(64, int(h * rng.uniform(0.6, 1.0)))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    img = src.crop((x, y, x + cw, y + ch))
    target = rng.uniform(MIN_PIXELS, MAX_PIXELS)
    scale = (target / (cw * ch)) ** 0.5
    size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
    img = img.resize(size, Image.LANCZOS)
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    a = np.asarray(img, dtype=np.int16)
    a = a + nrng.normal(0.0, 2.0, a.shape).round().astype(np.int16)
    return Image.fromarray(a.clip(0, 255).astype(np.uint8), 'RGB')


def main():
    if len(sys.argv) < 4:
        sys.exit('usage: make_corpus.py OUT_DIR COUNT SOURCE...')
    out, count, sources = sys.argv[1], int(sys.argv[2]), sorted(sys.argv[3:])
    rng = random.Random(SEED)
    nrng = np.random.default_rng(SEED)
    photos = [Image.open(p).convert('RGB') for p in sources]
    os.makedirs(out, exist_ok=True)
    total = 0
    for i in range(count):
        k = i % len(photos)  # every source used about equally
        img = derive(photos[k], rng, nrng)
        name = '%03d_%s.jpg' % (i, os.path.splitext(os.path.basename(sources[k]))[0])
        path = os.path.join(out, name)
        img.save(path, 'JPEG', quality=rng.randint(85, 95), subsampling='4:2:0', optimize=False)
        total += os.path.getsize(path)
    print('make_corpus: %d JPEGs, %.1f MB, in %s' % (count, total / 1e6, out))


if __name__ == '__main__':
    main()
