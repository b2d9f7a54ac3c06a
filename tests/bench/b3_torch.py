"""B3's PyTorch worker: the same networks as adapters_lua/fashion_{mlp,cnn}.lua in
PyTorch CPU, trained one epoch per command with the data in memory.

    /usr/bin/python3 b3_torch.py mlp|cnn IDX_DIR THREADS

IDX_DIR holds Fashion-MNIST's train-*/t10k-* IDX .gz files. Commands on stdin, one
JSON line out for each: epoch -> {"seconds", "loss"}; test -> {"accuracy"}; quit. Same work as b3_dlrun.lua: pixels (x / 255 - 0.286) / 0.353, shuffled batches of
64, cross-entropy, Adam 1e-3.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

MEAN, STD, BATCH = 0.286, 0.353, 64


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(dir, prefix):
    x = idx(os.path.join(dir, prefix + '-images-idx3-ubyte.gz')).astype(np.float32)
    y = idx(os.path.join(dir, prefix + '-labels-idx1-ubyte.gz')).astype(np.int64)
    x = (x / 255 - MEAN) / STD
    return torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y.copy())


def network(which):
    if which == 'mlp':
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    which, dir, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x_train, y_train = load(dir, 'train')
    x_test, y_test = load(dir, 't10k')
    net = network(which)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = len(y_train)

    def epoch():
        net.train()
        t0 = time.perf_counter()
        order = torch.randperm(n)
        loss_sum = 0.0
        for i in range(0, n, BATCH):
            idx_ = order[i:i + BATCH]
            x, y = x_train[idx_], y_train[idx_]
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(y)
        return {'seconds': time.perf_counter() - t0, 'loss': loss_sum / n}

    def test():
        net.eval()
        right = 0
        with torch.no_grad():
            for i in range(0, len(y_test), 1000):
                right += (net(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item()
        return {'accuracy': right / len(y_test)}

    print(json.dumps({'ready': True, 'train': n, 'test': len(y_test)}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'epoch':
            print(json.dumps(epoch()), flush=True)
        elif cmd == 'test':
            print(json.dumps(test()), flush=True)
        elif cmd == 'quit':
            break
        else:
            raise SystemExit('b3_torch: unknown command %r' % cmd)


if __name__ == '__main__':
    main()
