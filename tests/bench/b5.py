"""B5: embeddings. Embeds the Fashion-MNIST test set with dlrun, then times a
top-10 cosine query of every vector against all the others, two ways, on the
same vectors and alternately:

  - dlrun: `dlrun similar --model M --all -k 10`, the whole process (reading
    the feature set, normalizing, blocked sgemm + top-k, printing JSON Lines);
  - numpy: brute force as commonly written, X @ X.T then argpartition, timed
    from after `import numpy` (reading the file, normalizing, the product,
    the partition and sort of each row's 10 best).

    /usr/bin/python3 b5.py --dlrun BIN --home DIR --adapter LUA --json OUT [--reps 3]

Both must find the same nearest neighbour for (almost) every vector.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

TARGET = 0.5  # dlrun's time <= 0.5 x numpy's

NUMPY = r'''
import sys, time, json
import numpy as np
t0 = time.perf_counter()
fs = sys.argv[1]
meta = json.load(open(fs + "/meta.json"))
x = np.fromfile(fs + "/vectors.f32", dtype="<f4").reshape(meta["count"], meta["dim"])
x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
s = x @ x.T
np.fill_diagonal(s, -np.inf)
k = 10
idx = np.argpartition(s, -k, axis=1)[:, -k:]
order = np.argsort(-np.take_along_axis(s, idx, axis=1), axis=1)
top = np.take_along_axis(idx, order, axis=1)
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "top1": top[:, 0].tolist()}))
'''


def run(cmd, env=None):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
        raise RuntimeError('%s exited %d' % (' '.join(cmd), proc.returncode))
    return proc.stdout, secs


def main():
    p = argparse.ArgumentParser()
    for a in ('dlrun', 'home', 'adapter', 'json'):
        p.add_argument('--' + a, required=True)
    p.add_argument('--reps', type=int, default=3)
    args = p.parse_args()
    env = dict(os.environ, DATALOOP_PATH=args.home)
    _, embed_secs = run([args.dlrun, args.adapter, 'embed', '--dataset', 'fashion-mnist', '--filter', 'dir=/test',
                         '-q'], env)
    runs = sorted(glob.glob(os.path.join(args.home, 'runs', '*-embed-b5-embed*')), key=os.path.getmtime)
    summary = json.load(open(os.path.join(runs[-1], 'summary.json')))
    fs = os.path.join(args.home, 'feature_sets', 'b5-embed')
    meta = json.load(open(os.path.join(fs, 'meta.json')))
    ids = [json.loads(l)['id'] for l in open(os.path.join(fs, 'items.jsonl'))]
    times = {'dlrun': [], 'numpy': []}
    for _ in range(args.reps):
        out, secs = run([args.dlrun, 'similar', '--model', 'b5-embed', '--all', '-k', '10'], env)
        times['dlrun'].append(secs)
        dl_top1 = [json.loads(l)['neighbours'][0]['id'] for l in out.splitlines()]
        out, _ = run(['/usr/bin/python3', '-c', NUMPY, fs])
        r = json.loads(out)
        times['numpy'].append(r['seconds'])
        np_top1 = [ids[i] for i in r['top1']]
    agree = sum(a == b for a, b in zip(dl_top1, np_top1)) / len(ids)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med['dlrun'] / med['numpy']
    print('B5: embeddings (%d vectors of %d dims; median of %d)' % (meta['count'], meta['dim'], args.reps))
    print('  embed over the test set: %.1f items/s (%.2f s for the whole command)' %
          (summary['items_per_second'], embed_secs))
    print('  %-52s %9s' % ('top-10 cosine of every vector', 'seconds'))
    print('  %-52s %9.3f' % ('dlrun similar --all (whole process)', med['dlrun']))
    print('  %-52s %9.3f' % ('numpy X @ X.T + argpartition (after import)', med['numpy']))
    print('  ratio dlrun / numpy: %.2fx   target <= %.1fx   (same nearest neighbour: %.1f%%)' %
          (ratio, TARGET, 100 * agree))
    if agree < 0.99:
        raise SystemExit('b5: dlrun and numpy disagree on %.1f%% of nearest neighbours' % (100 - 100 * agree))
    with open(args.json, 'w') as f:
        json.dump({'benchmark': 'B5', 'vectors': meta['count'], 'dim': meta['dim'],
                   'embed_items_per_second': summary['items_per_second'], 'raw': times, 'medians': med,
                   'ratio': ratio, 'target': TARGET, 'met': ratio <= TARGET, 'top1_agreement': agree}, f, indent=2)


if __name__ == '__main__':
    main()
