"""B1's Python reference columns, with Debian's python3-pil, python3-numpy,
python3-torch and python3-torchvision:

    /usr/bin/python3 b1_python.py MODE LIST_FILE PASSES

MODE is one of
  dtlpy        as dtlpy's BaseModelAdapter prepares items: a ThreadPoolExecutor
               of 16 maps each batch of 32 paths through PIL open,
               convert('RGB'), resize((224, 224), BILINEAR), a numpy
               normalize to C×H×W, then np.stack;
  draft        the same, with Image.draft('RGB', (224, 224)) first, so
               libjpeg scales by 1/2, 1/4 or 1/8 in the DCT domain;
  torchvision  a DataLoader with one worker process per core over an
               ImageFolder of the corpus, Resize((224, 224)) + ToTensor +
               Normalize, batch_size 32 (persistent workers, so worker start-up
               is paid in the untimed pass).

Every file of LIST_FILE (one path a line) becomes a 3×224×224 float32 row of
N×C×H×W batches of 32. One untimed pass warms up and computes a checksum (the
mean of every output value); then PASSES timed passes. Prints one JSON line.
"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

SIZE = 224
BATCH = 32
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def prepare(path, draft):
    img = Image.open(path)
    if draft:
        img.draft('RGB', (SIZE, SIZE))
    img = img.convert('RGB').resize((SIZE, SIZE), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = (a - MEAN) / STD
    return a.transpose(2, 0, 1)


def pil_batches(paths, draft):
    with ThreadPoolExecutor(16) as pool:
        for start in range(0, len(paths), BATCH):
            chunk = paths[start:start + BATCH]
            yield np.stack(list(pool.map(lambda p: prepare(p, draft), chunk)))


def torchvision_batches(paths):
    import torch
    from torchvision import datasets, transforms

    root = os.path.dirname(os.path.dirname(paths[0]))
    tf = transforms.Compose([
        transforms.Resize((SIZE, SIZE)),  # bilinear, antialiased on PIL images
        transforms.ToTensor(),
        transforms.Normalize(MEAN.tolist(), STD.tolist()),
    ])
    ds = datasets.ImageFolder(root, transform=tf)
    if sorted(p for p, _ in ds.samples) != sorted(paths):
        sys.exit('b1_python: ImageFolder(%s) does not hold exactly the listed files' % root)
    loader = torch.utils.data.DataLoader(ds, batch_size=BATCH, num_workers=len(os.sched_getaffinity(0)),
                                         persistent_workers=True)

    def epoch():
        for x, _ in loader:
            yield x.numpy()
    return epoch


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ('dtlpy', 'draft', 'torchvision'):
        sys.exit('usage: b1_python.py dtlpy|draft|torchvision LIST_FILE PASSES')
    mode, passes = sys.argv[1], int(sys.argv[3])
    with open(sys.argv[2]) as f:
        paths = [line.strip() for line in f if line.strip()]
    if mode == 'torchvision':
        epoch = torchvision_batches(paths)
    else:
        def epoch():
            return pil_batches(paths, mode == 'draft')

    total, n = 0.0, 0
    for x in epoch():
        assert x.shape[1:] == (3, SIZE, SIZE) and x.dtype == np.float32, x.shape
        total += float(x.sum(dtype=np.float64))
        n += x.shape[0]
    if n != len(paths):
        sys.exit('b1_python: %s made %d rows for %d files' % (mode, n, len(paths)))

    images = 0
    t0 = time.perf_counter()
    for _ in range(passes):
        for x in epoch():
            images += x.shape[0]
    secs = time.perf_counter() - t0
    print(json.dumps({'images': images, 'seconds': round(secs, 6), 'images_per_s': round(images / secs, 3),
                      'checksum': total / (n * 3 * SIZE * SIZE), 'failed': 0}))


if __name__ == '__main__':
    main()
