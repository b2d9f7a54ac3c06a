/* sgemm for the kernels: OpenBLAS, loaded on first use, one thread per call,
 * with large products split over the nn worker threads.
 *
 * Loading: OpenBLAS is opened with dlopen the first time a kernel needs it,
 * not linked. Loading it takes ~4 ms (13,000 symbol relocations), and its
 * threaded build started a thread at load that spun in sched_yield for
 * ~90 ms, taking a core from commands that never multiply a matrix (a
 * predict that only decodes images, say). Tiny products (the 1x3 by 3x3 of
 * the scaffold's adapter) are multiplied here instead: they take less time
 * in a plain loop than a call into OpenBLAS does, let alone loading it.
 *
 * Threading policy: ONE pool of worker threads per process, the nn pool
 * (nn_parallel.c). OpenBLAS runs one thread per call, and dl__sgemm splits
 * a large product into column (or row) blocks that the pool's threads
 * multiply side by side (conv2d also multiplies its samples on the pool).
 * That takes Debian's threaded build set to one thread: its serial and
 * OpenMP builds share work buffers between calls, and two threads calling
 * them at once got wrong products (tests/native_ops/test_blas.c multiplies
 * from two threads at once). OpenBLAS's own threads spin in sched_yield
 * for ~0.1 s after every call, waiting for the next: in a training step,
 * whose GEMMs alternate with im2col, pooling, ReLU and optimizer passes on
 * the nn pool, they took about a quarter of the CPU time and fought the
 * pool (and the batching pipeline's workers) for the cores; called from
 * the pool's threads (conv2d's samples), they made a CNN step 4x slower.
 * The pool's threads spin for 0.1 ms, then sleep (nn_parallel.c), and a
 * GEMM too small to repay a hand-over runs on the calling thread. Split
 * blocks give the same bits as the whole product, so results do not depend
 * on the number of cores. */
#include "nn_internal.h"

#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

/* Products up to this many multiply-adds take the plain loop. */
enum { MAX_PLAIN_MACS = 1 << 12 };
/* Products below this many multiply-adds run on the calling thread: each
 * block must outweigh handing it to a worker (a few microseconds while the
 * worker spins, tens when it must be woken). Measured on the MLP's step:
 * 2^19 to 2^20 best, 2^21 10% slower, 2^23 40%. */
enum { MIN_SPLIT_MACS = 1 << 20 };
/* Blocks a product splits into are multiples of this many rows or columns,
 * so that each block keeps OpenBLAS's kernels on full register tiles. */
enum { SPLIT_QUANTUM = 32 };

static struct {
  pthread_once_t once;
  __typeof__(cblas_sgemm) *sgemm; /* NULL when loading failed */
  char why[200];                  /* why loading failed */
} blas = {.once = PTHREAD_ONCE_INIT};

/* OpenBLAS's constructor, run by dlopen, starts one thread per CPU it may
 * run on, but one; they spin for ~0.1 s, then sleep for good. It counts
 * those CPUs in the calling thread's affinity mask (capping any
 * OPENBLAS_NUM_THREADS) and keeps the count, so the loading thread is
 * pinned to the CPU it is on while dlopen runs: OpenBLAS sees one CPU and
 * starts no thread. The mask belongs to this thread alone, so this cannot
 * race with the other threads, as setting OPENBLAS_NUM_THREADS around
 * dlopen did: setenv is undefined while another thread reads the
 * environment, and the batching pipeline's workers do (libjpeg's getenv).
 * Should pinning fail, OpenBLAS's threads spin once (~70 ms of CPU each),
 * and openblas_set_num_threads(1) keeps every call on its caller's thread
 * all the same. */
static void *open_single_threaded(void) {
  cpu_set_t saved, one;
  const int cpu = sched_getcpu();
  bool pinned = false;
  if (cpu >= 0 && cpu < CPU_SETSIZE && sched_getaffinity(0, sizeof saved, &saved) == 0) {
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned = sched_setaffinity(0, sizeof one, &one) == 0;
  }
  void *lib = dlopen(DL_OPENBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
  if (pinned) sched_setaffinity(0, sizeof saved, &saved);
  return lib;
}

static void load(void) {
  void *lib = open_single_threaded();
  if (!lib) {
    snprintf(blas.why, sizeof blas.why, "%s", dlerror());
    return;
  }
  /* The dlsym idiom: POSIX lets a function pointer travel through void *. */
  void (*set_num_threads)(int);
  *(void **)&set_num_threads = dlsym(lib, "openblas_set_num_threads");
  *(void **)&blas.sgemm = dlsym(lib, "cblas_sgemm");
  if (!blas.sgemm || !set_num_threads) {
    blas.sgemm = NULL;
    snprintf(blas.why, sizeof blas.why, "%s lacks cblas_sgemm or openblas_set_num_threads", DL_OPENBLAS_PATH);
    return;
  }
  set_num_threads(1); /* should pinning have failed */
}

int dl__blas_load(dl_error *err) {
  pthread_once(&blas.once, load);
  if (blas.sgemm) return DL_OK;
  return dl__fail(err, DL_E_UNSUPPORTED, "cannot load OpenBLAS (Debian package libopenblas0-pthread): %s",
                  blas.why);
}

/* One product C = alpha op(A) op(B) + beta C, row-major, and how it splits:
 * along C's columns (split_n) or rows, in blocks of SPLIT_QUANTUM. */
typedef struct gemm {
  bool trans_a, trans_b, split_n;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const float *a, *b;
  float *c;
} gemm;

/* The textbook loop, summing in k order as the reference BLAS does. */
static void plain_gemm(const gemm *g) {
  const int64_t a_row = g->trans_a ? 1 : g->lda, a_col = g->trans_a ? g->lda : 1;
  const int64_t b_row = g->trans_b ? 1 : g->ldb, b_col = g->trans_b ? g->ldb : 1;
  for (int64_t i = 0; i < g->m; i++)
    for (int64_t j = 0; j < g->n; j++) {
      float sum = 0.0f;
      for (int64_t p = 0; p < g->k; p++) sum += g->a[i * a_row + p * a_col] * g->b[p * b_row + j * b_col];
      float *c = g->c + i * g->ldc + j;
      *c = g->alpha * sum + (g->beta == 0.0f ? 0.0f : g->beta * *c); /* beta 0 ignores C, as BLAS does */
    }
}

static void run_block(const gemm *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  /* Row i of op(A) starts at a + i*lda (NoTrans) or a + i (Trans); column j
   * of op(B) at b + j (NoTrans) or b + j*ldb (Trans). */
  const float *a = g->a + m0 * (g->trans_a ? 1 : g->lda);
  const float *b = g->b + n0 * (g->trans_b ? g->ldb : 1);
  blas.sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
             (int)(m1 - m0), (int)(n1 - n0), (int)g->k, g->alpha, a, (int)g->lda, b, (int)g->ldb, g->beta,
             g->c + m0 * g->ldc + n0, (int)g->ldc);
}

/* Blocks [q0, q1) of SPLIT_QUANTUM rows or columns, for the parallel loop. */
static void run_blocks(void *ctx, int64_t q0, int64_t q1) {
  const gemm *g = ctx;
  const int64_t extent = g->split_n ? g->n : g->m;
  const int64_t lo = q0 * SPLIT_QUANTUM, hi = q1 * SPLIT_QUANTUM < extent ? q1 * SPLIT_QUANTUM : extent;
  if (g->split_n)
    run_block(g, 0, g->m, lo, hi);
  else
    run_block(g, lo, hi, 0, g->n);
}

int dl__sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
              int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc, dl_error *err) {
  if (m == 0 || n == 0) return DL_OK;
  gemm g = {.trans_a = trans_a,
            .trans_b = trans_b,
            .split_n = n >= m,
            .m = m,
            .n = n,
            .k = k,
            .lda = lda,
            .ldb = ldb,
            .ldc = ldc,
            .alpha = alpha,
            .beta = beta,
            .a = a,
            .b = b,
            .c = c};
  if (m * n <= MAX_PLAIN_MACS && m * n * k <= MAX_PLAIN_MACS) {
    plain_gemm(&g);
    return DL_OK;
  }
  int rc = dl__blas_load(err);
  if (rc < 0) return rc;
  const int64_t extent = g.split_n ? n : m, other = g.split_n ? m : n;
  const int64_t quanta = (extent + SPLIT_QUANTUM - 1) / SPLIT_QUANTUM;
  /* Multiply-adds of one quantum; each chunk of the loop gets enough of them. */
  const int64_t quantum_macs = SPLIT_QUANTUM * other * (k > 0 ? k : 1);
  dl__nn_parallel_for(quanta, (MIN_SPLIT_MACS + quantum_macs - 1) / quantum_macs, run_blocks, &g);
  return DL_OK;
}
