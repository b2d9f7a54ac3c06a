/* The process's one pool of compute threads: a parallel loop for the nn
 * kernels (im2col, pooling, ReLU, optimizer steps) and for the blocks of a
 * large sgemm (blas.c, which says why OpenBLAS runs single-threaded).
 *
 * The worker threads start on first use and stay for the life of the
 * process: starting threads for every call cost 40 us, as much as a small
 * op. Between loops they wait on a condition variable, after spinning for
 * SPIN_NS: the ops of a training step follow each other within
 * microseconds, and waking a sleeping thread costs 20-40 us each time (a
 * fifth of an MLP step). OpenBLAS's threads spin for ~0.1 s instead, taking
 * the cores from the batching pipeline. One loop runs at a time; a caller
 * that finds the pool busy, or a forked child (which has no workers), runs
 * its loop on its own thread. */
#include "nn_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* How long a worker looks for the next loop, and the caller for the last
 * chunk, before sleeping. */
enum { SPIN_NS = 100 * 1000 };

enum { MAX_THREADS = 8 };

typedef struct pool {
  pthread_mutex_t lock;       /* guards everything below */
  pthread_cond_t wake;        /* workers wait here for the next loop */
  pthread_cond_t done;        /* the caller waits here for the last chunk */
  _Atomic int64_t generation; /* bumped for every loop; read unlocked while spinning */
  dl__nn_range_fn fn;         /* the current loop: fn(ctx, ...) over [0, n) in `chunks` chunks */
  void *ctx;
  int64_t n, chunks;
  int64_t next;             /* the next chunk to take */
  _Atomic int64_t finished; /* chunks done; read unlocked while spinning */
  int workers;              /* threads started */
  pid_t owner;              /* the process that started them */
} pool;

static pool the_pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

/* Serialises loops: the pool runs one at a time. */
static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;

/* Online cores, at most MAX_THREADS. Called under loop_lock. */
static int core_count(void) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
}

/* Takes and runs chunks of the current loop until none is left. Called and
 * returns with the pool locked. */
static void run_chunks(pool *p) {
  while (p->next < p->chunks) {
    const int64_t i = p->next++;
    const int64_t begin = p->n * i / p->chunks, end = p->n * (i + 1) / p->chunks;
    dl__nn_range_fn fn = p->fn;
    void *ctx = p->ctx;
    pthread_mutex_unlock(&p->lock);
    fn(ctx, begin, end);
    pthread_mutex_lock(&p->lock);
    if (++p->finished == p->chunks) pthread_cond_signal(&p->done);
  }
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spins, for at most SPIN_NS, until *value differs from unchanged; true if
 * it did. Called without the lock. */
static bool spin_while_equal(_Atomic int64_t *value, int64_t unchanged) {
  const int64_t deadline = now_ns() + SPIN_NS;
  for (int i = 1;; i++) {
    if (atomic_load_explicit(value, memory_order_acquire) != unchanged) return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0 && now_ns() > deadline) return false;
  }
}

static void *worker_main(void *arg) {
  pool *p = arg;
  pthread_mutex_lock(&p->lock);
  int64_t seen = p->generation;
  for (;;) {
    if (p->generation == seen) {
      pthread_mutex_unlock(&p->lock);
      spin_while_equal(&p->generation, seen);
      pthread_mutex_lock(&p->lock);
    }
    while (p->generation == seen) pthread_cond_wait(&p->wake, &p->lock);
    seen = p->generation;
    run_chunks(p);
  }
  return NULL;
}

/* Starts the workers once per process; returns how many there are. Called
 * under loop_lock. */
static int ensure_workers(pool *p) {
  const pid_t self = getpid();
  if (p->owner == 0) {
    p->owner = self;
    const int want = core_count() - 1;
    for (int i = 0; i < want; i++) {
      pthread_t t;
      if (pthread_create(&t, NULL, worker_main, p) != 0) break;
      pthread_detach(t);
      p->workers++;
    }
  }
  return p->owner == self ? p->workers : 0;
}

void dl__nn_parallel_for(int64_t n, int64_t min_chunk, dl__nn_range_fn fn, void *ctx) {
  if (n <= 0) return;
  if (min_chunk < 1) min_chunk = 1;
  if (n / min_chunk < 2 || pthread_mutex_trylock(&loop_lock) != 0) {
    fn(ctx, 0, n);
    return;
  }
  pool *p = &the_pool;
  const int64_t workers = ensure_workers(p);
  int64_t chunks = n / min_chunk;
  if (chunks > workers + 1) chunks = workers + 1;
  if (chunks < 2) {
    pthread_mutex_unlock(&loop_lock);
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&p->lock);
  p->fn = fn, p->ctx = ctx, p->n = n, p->chunks = chunks;
  p->next = 0;
  p->finished = 0;
  p->generation++;
  pthread_cond_broadcast(&p->wake);
  run_chunks(p);
  if (p->finished < p->chunks) {
    const int64_t finished = p->finished;
    pthread_mutex_unlock(&p->lock);
    spin_while_equal(&p->finished, finished);
    pthread_mutex_lock(&p->lock);
  }
  while (p->finished < p->chunks) pthread_cond_wait(&p->done, &p->lock);
  pthread_mutex_unlock(&p->lock);
  pthread_mutex_unlock(&loop_lock);
}
