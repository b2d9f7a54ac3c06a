"""B3: training. The example adapters' MLP (784-256-128-10) and CNN (conv 32, pool,
conv 64, pool, fc 128, fc 10) in dlrun against the same networks in PyTorch CPU, Adam
1e-3, batch 64, Fashion-MNIST train (60,000) in memory, the same thread count.

    /usr/bin/python3 b3.py --dlrun BIN --data DIR --idx DIR --json OUT
                           [--mlp-epochs 5] [--cnn-epochs 2]

Both sides run as long-lived workers (tests/bench/b3_dlrun.lua, b3_torch.py) that load
the data first, untimed, and then train one epoch per command. The epochs rotate between
the workers so drift in a shared machine's load hits all alike; each worker times its own
epochs. Reported: the median seconds per epoch, the ratio dlrun / PyTorch (same thread
count) against the targets, and each side's test accuracy after its epochs.

Diagnostic: PyTorch on ONE thread as well. For networks this small its per-op thread
synchronisation can cost more than the second core brings (and a busy machine makes that
much worse), so the ratio against PyTorch's best configuration is printed beside the
target's.

Exit status: 0 when both sides ran (targets are reported, not asserted); 1 otherwise.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Targets of docs/benchmarks.md: dlrun's seconds per epoch / PyTorch's, at most.
TARGETS = {'mlp': 0.5, 'cnn': 1.0}
TITLES = {'mlp': 'MLP 784-256-128-10', 'cnn': 'CNN conv32-pool-conv64-pool-fc128-fc10'}


class Worker:
    def __init__(self, name, cmd):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.ready = self.ask(None)

    def ask(self, command):
        if command:
            self.proc.stdin.write(command + '\n')
            self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError('%s worker exited (%s)' % (self.name, self.proc.wait()))
            if line.startswith('{'):
                return json.loads(line)

    def close(self):
        try:
            self.proc.stdin.write('quit\n')
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait()


def bench(which, epochs, args, cores):
    torch = [sys.executable, os.path.join(HERE, 'b3_torch.py'), which, args.idx]
    workers = [Worker('dlrun', [args.dlrun, 'run', os.path.join(HERE, 'b3_dlrun.lua'), which, args.data]),
               Worker('pytorch', torch + [str(cores)])]
    if cores > 1:
        workers.append(Worker('pytorch_1thread', torch + ['1']))
    try:
        seen = set(w.ready['train'] for w in workers)
        if len(seen) != 1:
            raise RuntimeError('the workers see different training sets: %s' % sorted(seen))
        runs = {w.name: [] for w in workers}
        for e in range(epochs):
            k = e % len(workers)
            for w in workers[k:] + workers[:k]:
                r = w.ask('epoch')
                runs[w.name].append(r)
                sys.stderr.write('b3: %s epoch %d/%d %s: %.2f s, loss %.4f\n'
                                 % (which, e + 1, epochs, w.name, r['seconds'], r['loss']))
                sys.stderr.flush()
        acc = {w.name: w.ask('test')['accuracy'] for w in workers}
    finally:
        for w in workers:
            w.close()
    out = {'title': TITLES[which], 'epochs': epochs, 'target': TARGETS[which]}
    for name, rs in runs.items():
        out[name] = {'seconds_per_epoch': round(statistics.median(r['seconds'] for r in rs), 3),
                     'epoch_seconds': [round(r['seconds'], 3) for r in rs],
                     'final_loss': round(rs[-1]['loss'], 5), 'test_accuracy': acc[name]}
    out['ratio'] = round(out['dlrun']['seconds_per_epoch'] / out['pytorch']['seconds_per_epoch'], 3)
    out['target_met'] = out['ratio'] <= TARGETS[which]
    if 'pytorch_1thread' in out:
        out['ratio_to_pytorch_1thread'] = round(
            out['dlrun']['seconds_per_epoch'] / out['pytorch_1thread']['seconds_per_epoch'], 3)
    return out


def version(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except OSError:
        return ''


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dlrun', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--idx', required=True)
    ap.add_argument('--json', required=True)
    ap.add_argument('--mlp-epochs', type=int, default=5)
    ap.add_argument('--cnn-epochs', type=int, default=2)
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0))
    info = {'benchmark': 'B3', 'title': 'training (seconds per epoch, data in memory)',
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            'machine': {'cores': cores, 'kernel': platform.release(), 'loadavg_start': list(os.getloadavg())},
            'versions': {'dlrun': version([args.dlrun, '--version']),
                         'torch': version([sys.executable, '-c', 'import torch; print(torch.__version__)']),
                         'commit': version(['git', '-C', HERE, 'rev-parse', '--short', 'HEAD'])},
            'work': 'Adam 1e-3, batch 64, 60000 training items, %d threads on both sides' % cores}
    try:
        info['networks'] = {which: bench(which, n, args, cores)
                            for which, n in (('mlp', args.mlp_epochs), ('cnn', args.cnn_epochs)) if n > 0}
    except (RuntimeError, OSError) as e:
        print('b3: broken: %s' % e, file=sys.stderr)
        return 1
    info['machine']['loadavg_end'] = list(os.getloadavg())
    with open(args.json, 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')

    print()
    print('B3: training -- %s' % info['work'])
    print()
    print('%-40s %6s %11s %11s %8s  %-12s %s' % ('network', 'epochs', 'dlrun s/ep', 'torch s/ep', 'ratio',
                                                'target', 'test accuracy dlrun / torch'))
    print('%s %s %s %s %s  %s %s' % ('-' * 40, '-' * 6, '-' * 11, '-' * 11, '-' * 8, '-' * 12, '-' * 28))
    for which, r in info['networks'].items():
        print('%-40s %6d %11.2f %11.2f %8.2f  %-12s %.4f / %.4f' % (
            r['title'], r['epochs'], r['dlrun']['seconds_per_epoch'], r['pytorch']['seconds_per_epoch'], r['ratio'],
            '<= %.1f %s' % (r['target'], 'met' if r['target_met'] else 'MISSED'),
            r['dlrun']['test_accuracy'], r['pytorch']['test_accuracy']))
    for which, r in info['networks'].items():
        if 'pytorch_1thread' in r:
            print('diagnostic: %s -- PyTorch on 1 thread %.2f s/epoch; dlrun / that = %.2f' % (
                which.upper(), r['pytorch_1thread']['seconds_per_epoch'], r['ratio_to_pytorch_1thread']))
    la = info['machine']
    print()
    print('load average %.1f at start, %.1f at end (ratios are what counts on a busy machine)'
          % (la['loadavg_start'][0], la['loadavg_end'][0]))
    print('results: %s' % args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())
