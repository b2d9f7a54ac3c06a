"""B4: the developer loop. Two measurements, in one invocation:

  cold start   `dlrun ADAPTER.lua predict` on one image, a fresh process each
               time, against `python3 -c 'import numpy, PIL'` (a Python adapter
               host cannot start before its imports); alternated, medians.
  reload       `dlrun ADAPTER.lua predict --watch` on 10 items: the time from
               the write of an edited adapter file to the last of the 10 new
               result lines read from dlrun's stdout.

The adapter is the classifier that `dlrun new` writes (the example a user
starts from); the items are photos of the bench corpus.

    /usr/bin/python3 b4.py --dlrun BIN --corpus DIR --json OUT [--reps 21] [--reloads 21]

Exit status: 0 when every measurement ran (targets are reported, not
asserted); 1 when one failed.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_COLD_RATIO = 0.1   # dlrun cold start / Python imports, at most
TARGET_RELOAD_MS = 100.0  # median reload, below
ITEMS = 10
# The line of the scaffold's predict that the reloads edit (a marker in the label).
PREDICT_LINE = "results[i] = { dl.classification(self.labels[best], row:get(best)) }"


def cpu_of_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, env):
    """Wall seconds and CPU seconds (user + system) of one run of cmd."""
    c0, t0 = cpu_of_children(), time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt, dc = time.perf_counter() - t0, cpu_of_children() - c0
    if proc.returncode != 0:
        raise RuntimeError('%s exited %d: %s' % (' '.join(cmd), proc.returncode, proc.stderr.decode()[-2000:]))
    return dt, dc


def cold_start(args, work, env, photo):
    dlrun = [args.dlrun, 'bench.lua', 'predict', '--quiet', photo]
    python = ['/usr/bin/python3', '-c', 'import numpy, PIL']
    timed(dlrun, env)  # creates the model; page cache warm for both
    timed(python, env)
    d, p = [], []
    for _ in range(args.reps):
        d.append(timed(dlrun, env))
        p.append(timed(python, env))
    return d, p


class Watch:
    """dlrun --watch in the background; its stdout read line by line."""

    def __init__(self, args, env, items_dir, err_path):
        self.err = open(err_path, 'w')
        self.proc = subprocess.Popen([args.dlrun, 'bench.lua', 'predict', '--watch', '--quiet', items_dir],
                                     stdout=subprocess.PIPE, stderr=self.err, env=env, bufsize=0)
        self.buf = b''

    def lines_with(self, marker, count, timeout=30):
        """Reads stdout until count lines hold marker; returns the time then."""
        seen, deadline = 0, time.monotonic() + timeout
        while seen < count:
            if time.monotonic() > deadline:
                raise RuntimeError('no %d result lines with %r within %d s' % (count, marker, timeout))
            while b'\n' not in self.buf:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError('dlrun --watch exited (%s)' % self.proc.poll())
                self.buf += chunk
            line, self.buf = self.buf.split(b'\n', 1)
            if marker.encode() in line:
                seen += 1
        return time.perf_counter()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def reloads(args, work, env, items_dir):
    adapter = os.path.join(work, 'bench.lua')
    with open(adapter) as f:
        source = f.read()
    if PREDICT_LINE not in source:
        raise RuntimeError('the scaffold changed: %r not in bench.lua' % PREDICT_LINE)
    err_path = os.path.join(work, 'watch.err')
    w = Watch(args, env, items_dir, err_path)
    times = []
    try:
        w.lines_with('class ', ITEMS)  # the first run
        for k in range(args.reloads + 1):
            marker = 'edit%d' % k
            edited = source.replace(PREDICT_LINE, PREDICT_LINE.replace('self.labels[best]',
                                                                       "self.labels[best] .. '-%s'" % marker))
            t0 = time.perf_counter()
            with open(adapter, 'w') as f:
                f.write(edited)
            t1 = w.lines_with(marker, ITEMS)
            if k > 0:  # the first edit warms up
                times.append(t1 - t0)
            time.sleep(0.05)  # let the watcher settle back into its wait
    finally:
        w.stop()
    with open(err_path) as f:
        log = f.read()
    return times, log.count('load skipped'), log.count('load ran')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dlrun', required=True)
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--json', required=True)
    ap.add_argument('--reps', type=int, default=21)
    ap.add_argument('--reloads', type=int, default=21)
    args = ap.parse_args()

    photos = sorted(os.path.join(args.corpus, f) for f in os.listdir(args.corpus) if f.endswith('.jpg'))
    if len(photos) < ITEMS:
        print('b4: broken: fewer than %d photos in %s' % (ITEMS, args.corpus), file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix='dlrun-b4-')
    env = dict(os.environ, DATALOOP_PATH=os.path.join(work, 'home'))
    try:
        subprocess.run([args.dlrun, 'new', 'bench'], cwd=work, check=True, stdout=subprocess.DEVNULL)
        items_dir = os.path.join(work, 'items')
        os.mkdir(items_dir)
        for p in photos[:ITEMS]:
            shutil.copy(p, items_dir)
        os.chdir(work)
        d, p = cold_start(args, work, env, os.path.join(items_dir, os.path.basename(photos[0])))
        r, skipped, ran = reloads(args, work, env, items_dir)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        print('b4: broken: %s' % e, file=sys.stderr)
        return 1
    finally:
        os.chdir('/')
        shutil.rmtree(work, ignore_errors=True)

    ms = lambda xs: [round(x * 1000, 2) for x in xs]
    med = lambda runs, i: statistics.median(x[i] for x in runs) * 1000
    cold_d, cold_p = med(d, 0), med(p, 0)
    cpu_d, cpu_p = med(d, 1), med(p, 1)
    ratio = cold_d / cold_p
    reload_med = statistics.median(r) * 1000
    reload_p90 = sorted(r)[int(0.9 * (len(r) - 1))] * 1000
    cores = len(os.sched_getaffinity(0))
    info = {
        'benchmark': 'B4', 'title': 'developer loop: cold start and --watch reload',
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'machine': {'cores': cores, 'kernel': platform.release(), 'loadavg': list(os.getloadavg())},
        'adapter': 'the classifier of `dlrun new` (declared input 32x32, native pipeline)',
        'cold_start': {'dlrun_ms': round(cold_d, 2), 'python_imports_ms': round(cold_p, 2),
                       'ratio': round(ratio, 3), 'target_ratio': TARGET_COLD_RATIO,
                       'target_met': ratio <= TARGET_COLD_RATIO, 'dlrun_runs_ms': ms(x[0] for x in d),
                       'python_runs_ms': ms(x[0] for x in p),
                       'cpu_ms': {'dlrun': round(cpu_d, 2), 'python': round(cpu_p, 2),
                                  'ratio': round(cpu_d / cpu_p, 3)},
                       'work': 'dlrun bench.lua predict --quiet <one photo> (JSON line to stdout)'},
        'reload': {'items': ITEMS, 'median_ms': round(reload_med, 2), 'p90_ms': round(reload_p90, 2),
                   'target_ms': TARGET_RELOAD_MS, 'target_met': reload_med < TARGET_RELOAD_MS,
                   'runs_ms': ms(r), 'load_skipped': skipped, 'load_ran': ran,
                   'work': 'edit of predict written -> 10 new result lines read from --watch'},
    }
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, 'w') as f:
        json.dump(info, f, indent=2)

    print()
    print('B4: developer loop -- %d cores, medians of %d runs' % (cores, args.reps))
    print()
    print('%-48s %10s  %s' % ('measurement', 'median', 'target'))
    print('%s %s  %s' % ('-' * 48, '-' * 10, '-' * 22))
    print('%-48s %8.1f ms' % ('cold start: dlrun predict, 1 photo', cold_d))
    print('%-48s %8.1f ms' % ("python3 -c 'import numpy, PIL'", cold_p))
    print('%-48s %10.3f  <= %.1f  %s' % ('cold start ratio dlrun / python', ratio, TARGET_COLD_RATIO,
                                          'met' if ratio <= TARGET_COLD_RATIO else 'MISSED'))
    print('%-48s %10.3f  (CPU time %.1f ms vs %.1f ms; less sensitive to a busy machine)' % (
        'diagnostic: CPU time ratio', cpu_d / cpu_p, cpu_d, cpu_p))
    print('%-48s %8.1f ms  < %.0f ms  %s (p90 %.1f ms)' % (
        '--watch reload, write -> 10 results printed', reload_med, TARGET_RELOAD_MS,
        'met' if reload_med < TARGET_RELOAD_MS else 'MISSED', reload_p90))
    print('load() during the reloads: skipped %d times, ran %d times (the first run included)' % (skipped, ran))
    print('load average %.1f (ratios are what counts on a busy machine)' % os.getloadavg()[0])
    print('results: %s' % args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())
