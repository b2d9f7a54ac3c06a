/* A parallel loop for the memory-bound parts of the nn kernels (im2col,
 * pooling, ReLU, optimizer steps). OpenBLAS already spreads the GEMMs over
 * the cores; without this, everything between two GEMMs ran on one core and
 * took as long as the GEMMs themselves in a small CNN. */
#include "nn_internal.h"

#include <pthread.h>
#include <unistd.h>

enum { MAX_THREADS = 8 };

typedef struct range_job {
  dl__nn_range_fn fn;
  void *ctx;
  int64_t begin, end;
} range_job;

static void *run_job(void *arg) {
  range_job *job = arg;
  job->fn(job->ctx, job->begin, job->end);
  return NULL;
}

/* Online cores, read once: sysconf reads a file under /sys on every call. */
static int core_count(void) {
  static int cached; /* 0 until known; a benign race writes the same value */
  int n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (n == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    n = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
    __atomic_store_n(&cached, n, __ATOMIC_RELAXED);
  }
  return n;
}

void dl__nn_parallel_for(int64_t n, int64_t min_chunk, dl__nn_range_fn fn, void *ctx) {
  if (n <= 0) return;
  if (min_chunk < 1) min_chunk = 1;
  int64_t chunks = n / min_chunk;
  if (chunks > core_count()) chunks = core_count();
  if (chunks <= 1) {
    fn(ctx, 0, n);
    return;
  }
  range_job jobs[MAX_THREADS];
  pthread_t threads[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (int64_t i = 0; i < chunks; i++)
    jobs[i] = (range_job){.fn = fn, .ctx = ctx, .begin = n * i / chunks, .end = n * (i + 1) / chunks};
  /* The calling thread takes chunk 0; a chunk whose thread cannot start runs here too. */
  for (int64_t i = 1; i < chunks; i++) started[i] = pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0;
  run_job(&jobs[0]);
  for (int64_t i = 1; i < chunks; i++) {
    if (started[i])
      pthread_join(threads[i], NULL);
    else
      run_job(&jobs[i]);
  }
}
