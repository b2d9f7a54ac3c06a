"""B2: predict_items end to end, against B1's dlrun figure measured in the
same invocation, and peak RSS at 1x and 10x the items.

    /usr/bin/python3 b2.py --dlrun BIN --home DIR --adapter LUA --b1 LUA --list FILE --json OUT [--reps 3]

Each round runs, in turn: B1's dlrun column (the pipeline alone, images/s over
the corpus listed once), then `dlrun ADAPTER predict` over the 1x and the 10x
dataset. A predict run's throughput is the items/s of its summary.json (the
item loop: preparation, predict, validation, JSON merge and atomic writes);
its peak RSS is the process's maximum resident set, from GNU time.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

TARGET_RATIO = 0.8   # predict items/s >= 0.8 x B1's dlrun images/s
TARGET_RSS_GROWTH = 0.10


def run(cmd, env=None):
    """Runs cmd; returns (stdout, stderr)."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError('%s exited %d' % (' '.join(cmd), proc.returncode))
    return proc.stdout, proc.stderr


def predict(args, dataset):
    """One predict run; returns (items/s of its loop, peak RSS MiB, items)."""
    env = dict(os.environ, DATALOOP_PATH=args.home)
    cmd = ['/usr/bin/time', '-f', 'maxrss_kib=%M', args.dlrun, args.adapter, 'predict', '--dataset', dataset, '-q']
    _, err = run(cmd, env)
    rss = [int(l.split('=')[1]) for l in err.splitlines() if l.startswith('maxrss_kib=')][-1] / 1024
    runs = sorted(glob.glob(os.path.join(args.home, 'runs', '*-predict-b2-noop*')), key=os.path.getmtime)
    summary = json.load(open(os.path.join(runs[-1], 'summary.json')))
    if summary['failed'] or summary['ok'] == 0:
        raise RuntimeError('predict over %s: %d ok, %d failed' % (dataset, summary['ok'], summary['failed']))
    return summary['items_per_second'], rss, summary['ok']


def b1(args):
    out, _ = run([args.dlrun, 'run', args.b1, args.list, '1'])
    return json.loads([l for l in out.splitlines() if l.startswith('{')][-1])['images_per_s']


def main():
    p = argparse.ArgumentParser()
    for a in ('dlrun', 'home', 'adapter', 'b1', 'list', 'json'):
        p.add_argument('--' + a, required=True)
    p.add_argument('--reps', type=int, default=3)
    args = p.parse_args()
    predict(args, 'b2x1')  # warm-up: creates the model, fills the page cache
    rows = {'b1': [], 'x1': [], 'x10': [], 'rss1': [], 'rss10': []}
    for _ in range(args.reps):
        rows['b1'].append(b1(args))
        rate, rss, n1 = predict(args, 'b2x1')
        rows['x1'].append(rate)
        rows['rss1'].append(rss)
        rate, rss, n10 = predict(args, 'b2x10')
        rows['x10'].append(rate)
        rows['rss10'].append(rss)
    med = {k: statistics.median(v) for k, v in rows.items()}
    ratio1, ratio10 = med['x1'] / med['b1'], med['x10'] / med['b1']
    growth = med['rss10'] / med['rss1'] - 1
    print('B2: predict_items end to end (%d items and %d items; median of %d)' % (n1, n10, args.reps))
    print('  %-44s %10s %10s' % ('', 'items/s', 'ratio'))
    print('  %-44s %10.1f %10s' % ("B1's dlrun column (pipeline alone)", med['b1'], ''))
    print('  %-44s %10.1f %9.2fx   target >= %.1fx' % ('dlrun predict, 1x dataset', med['x1'], ratio1, TARGET_RATIO))
    print('  %-44s %10.1f %9.2fx' % ('dlrun predict, 10x dataset', med['x10'], ratio10))
    print('  peak RSS: %.1f MiB at 1x, %.1f MiB at 10x: %+.1f%%   target < +%d%%' %
          (med['rss1'], med['rss10'], 100 * growth, int(100 * TARGET_RSS_GROWTH)))
    result = {'benchmark': 'B2', 'items': {'x1': n1, 'x10': n10}, 'medians': med, 'raw': rows,
              'ratio_vs_b1': {'x1': ratio1, 'x10': ratio10}, 'rss_growth': growth,
              'targets': {'ratio_vs_b1': TARGET_RATIO, 'rss_growth': TARGET_RSS_GROWTH},
              'met': {'ratio': ratio1 >= TARGET_RATIO, 'rss': growth < TARGET_RSS_GROWTH}}
    with open(args.json, 'w') as f:
        json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
