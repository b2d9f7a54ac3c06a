"""B1: preparing items, the predict_items hot path. Runs every column on the
same corpus in one invocation, alternating them round by round (A B C D E,
A B C D E, ...) so that drift in the machine's load affects them alike, and
reports each column's median images/s and the ratios the targets are about.

    /usr/bin/python3 b1.py --dlrun BIN --limit BIN --list LIST_FILE --json OUT
                           [--reps 5] [--passes 2]

Every measurement is a fresh process that does one untimed pass (warm-up and
checksum) and then --passes timed passes over the corpus; its own clock
(clock_gettime, time.perf_counter) times only those passes, so interpreter and
import start-up are left out of every column alike.

Exit status: 0 when every column ran and agreed on the output (targets are
reported, not asserted); 1 when a column failed or produced different data.
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
SIZE, BATCH = 224, 32

# Targets of docs/benchmarks.md: dlrun's images/s divided by the column's.
TARGETS = {'limit': 0.9, 'dtlpy': 4.0}


def columns(args, cores):
    py = [sys.executable, os.path.join(HERE, 'b1_python.py')]
    passes = str(args.passes)
    return [
        ('dlrun', 'dlrun (dl.batch.pipeline, %d threads)' % cores,
         [args.dlrun, 'run', os.path.join(HERE, 'b1_dlrun.lua'), args.list, passes, str(cores)]),
        ('limit', 'limit (C, 1 thread x %d cores)' % cores, [args.limit, args.list, passes]),
        ('dtlpy', 'dtlpy-style Python (16 threads)', py + ['dtlpy', args.list, passes]),
        ('draft', 'PIL + Image.draft (16 threads)', py + ['draft', args.list, passes]),
        ('torchvision', 'torchvision DataLoader (%d workers)' % cores, py + ['torchvision', args.list, passes]),
        # Diagnostic, not a column of the table: dlrun on one worker thread,
        # against the limit's one thread, separates the pipeline's overhead
        # from its parallel scaling (and is less sensitive to a busy machine).
        ('dlrun_1thread', 'dlrun (dl.batch.pipeline, 1 thread)',
         [args.dlrun, 'run', os.path.join(HERE, 'b1_dlrun.lua'), args.list, passes, '1']),
    ]


DIAGNOSTICS = ('dlrun_1thread',)


def measure(key, cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError('%s: %s exited %d' % (key, ' '.join(cmd), proc.returncode))
    r = json.loads(lines[-1])
    if r['failed']:
        raise RuntimeError('%s: %d images failed' % (key, r['failed']))
    return r


def machine(cores):
    model = ''
    try:
        with open('/proc/cpuinfo') as f:
            model = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '')
    except OSError:
        pass
    return {'cpu': model or platform.processor(), 'cores': cores, 'kernel': platform.release(),
            'loadavg_start': list(os.getloadavg())}


def versions(dlrun):
    def out(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
        except OSError:
            return ''
    v = {'dlrun': out([dlrun, '--version']),
         'libjpeg-turbo': out(['dpkg-query', '-W', '-f=${Version}', 'libjpeg62-turbo']),
         'python': platform.python_version()}
    for mod in ('PIL', 'numpy', 'torch', 'torchvision'):
        v[mod] = out([sys.executable, '-c', 'import %s; print(%s.__version__)' % (mod, mod)])
    v['commit'] = out(['git', '-C', HERE, 'rev-parse', '--short', 'HEAD'])
    return v


def corpus_info(paths):
    from PIL import Image
    mp = []
    for p in paths:
        with Image.open(p) as im:
            mp.append(im.size[0] * im.size[1] / 1e6)
    return {'files': len(paths), 'bytes': sum(os.path.getsize(p) for p in paths),
            'megapixels_min': round(min(mp), 3), 'megapixels_max': round(max(mp), 3),
            'megapixels_mean': round(statistics.mean(mp), 3)}


def check_outputs(results):
    """The columns must make the same data: the limit exactly what dlrun makes
    (same kernels), the Python ones nearly (PIL's rounding, and full-size
    decoding without draft)."""
    ref = results['dlrun'][0]['checksum']
    problems = []
    for key, runs in results.items():
        tol = 1e-6 if key == 'limit' else 5e-3
        for r in runs:
            if abs(r['checksum'] - ref) > tol:
                problems.append('%s: mean output value %.6f, dlrun made %.6f' % (key, r['checksum'], ref))
                break
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dlrun', required=True)
    ap.add_argument('--limit', required=True)
    ap.add_argument('--list', required=True)
    ap.add_argument('--json', required=True)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--passes', type=int, default=2)
    args = ap.parse_args()

    cores = len(os.sched_getaffinity(0))
    with open(args.list) as f:
        paths = [line.strip() for line in f if line.strip()]
    cols = columns(args, cores)
    info = {'benchmark': 'B1', 'title': 'preparing items (predict_items hot path)',
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            'work': '%d JPEGs -> 3x%dx%d float32, bilinear, mean/std normalized, NCHW batches of %d'
                    % (len(paths), SIZE, SIZE, BATCH),
            'corpus': corpus_info(paths), 'machine': machine(cores), 'versions': versions(args.dlrun),
            'reps': args.reps, 'passes_per_measurement': args.passes}

    results = {key: [] for key, _, _ in cols}
    for rep in range(args.reps):
        for key, _, cmd in cols:
            try:
                results[key].append(measure(key, cmd))
            except RuntimeError as e:
                print('b1: broken: %s' % e, file=sys.stderr)
                return 1
        sys.stderr.write('b1: round %d/%d: %s\n' % (rep + 1, args.reps, '  '.join(
            '%s %.0f' % (k, results[k][-1]['images_per_s']) for k, _, _ in cols)))
        sys.stderr.flush()
    info['machine']['loadavg_end'] = list(os.getloadavg())

    speed = {k: statistics.median(r['images_per_s'] for r in runs) for k, runs in results.items()}
    limit_1thread = speed['limit']
    speed['limit'] *= cores  # one thread's rate, times the cores
    problems = check_outputs(results)
    diag = {'dlrun_1thread_images_per_s': round(speed['dlrun_1thread'], 1),
            'limit_1thread_images_per_s': round(limit_1thread, 1),
            'overhead_ratio': round(speed['dlrun_1thread'] / limit_1thread, 3),
            'scaling': round(speed['dlrun'] / speed['dlrun_1thread'], 3),
            'dlrun_1thread_runs': [r['images_per_s'] for r in results['dlrun_1thread']]}
    info['diagnostics'] = diag

    table = []
    out_cols = {}
    for key, label, _ in cols:
        if key in DIAGNOSTICS:
            continue
        ratio = speed['dlrun'] / speed[key]
        target = TARGETS.get(key)
        row = {'label': label, 'images_per_s': round(speed[key], 1),
               'runs': [r['images_per_s'] * (cores if key == 'limit' else 1) for r in results[key]],
               'checksum': results[key][0]['checksum']}
        if key != 'dlrun':
            row['dlrun_ratio'] = round(ratio, 3)
        if target:
            row['target'] = target
            row['target_met'] = ratio >= target
        out_cols[key] = row
        table.append((label, speed[key], '' if key == 'dlrun' else '%.2f' % ratio,
                      '' if not target else '>= %.1f  %s' % (target, 'met' if ratio >= target else 'MISSED')))
    info['columns'] = out_cols

    print()
    print('B1: preparing items -- %s, %d cores, median of %d' % (info['work'], cores, args.reps))
    print('corpus: %d files, %.2f-%.2f MP (mean %.2f), %.1f MB' % (
        info['corpus']['files'], info['corpus']['megapixels_min'], info['corpus']['megapixels_max'],
        info['corpus']['megapixels_mean'], info['corpus']['bytes'] / 1e6))
    print()
    print('%-40s %10s %13s  %s' % ('pipeline', 'images/s', 'dlrun / this', 'target'))
    print('%s %s %s  %s' % ('-' * 40, '-' * 10, '-' * 13, '-' * 12))
    for label, ips, ratio, target in table:
        print('%-40s %10.1f %13s  %s' % (label, ips, ratio, target))
    print()
    print('diagnostics: on 1 thread dlrun makes %.1f images/s, %.2f x the limit\'s one thread (pipeline overhead);'
          % (diag['dlrun_1thread_images_per_s'], diag['overhead_ratio']))
    print('             %d threads / 1 thread = %.2f (parallel scaling; %d is perfect)'
          % (cores, diag['scaling'], cores))
    la = info['machine']
    print()
    print('load average %.1f at start, %.1f at end (ratios are what counts on a busy machine)'
          % (la['loadavg_start'][0], la['loadavg_end'][0]))

    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    tmp = args.json + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    os.replace(tmp, args.json)
    print('results: %s' % args.json)

    if problems:
        for p in problems:
            print('b1: broken: %s' % p, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
