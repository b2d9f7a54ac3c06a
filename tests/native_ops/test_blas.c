/* cmocka tests of dl__sgemm (native_ops/blas.c): loading OpenBLAS with one
 * thread, no more threads in the process and no write to the environment;
 * every transpose pair against a double-precision loop, in the plain loop
 * for tiny products, one OpenBLAS call, and a product split over the worker
 * threads; alpha, beta and leading dimensions wider than the matrices;
 * products from two threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* Pseudo-random values in [-1, 1). */
static float *random_floats(int64_t n, uint32_t seed) {
  float *x = malloc((size_t)n * sizeof *x);
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    x[i] = (float)(seed >> 8) / (float)(1 << 23) - 1.0f;
  }
  return x;
}

/* One product with padded leading dimensions (pad extra columns per row). */
typedef struct product {
  bool ta, tb;
  int64_t m, n, k, lda, ldb, ldc;
  float *a, *b, *c;
} product;

static product make_product(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad) {
  product p = {.ta = ta, .tb = tb, .m = m, .n = n, .k = k};
  p.lda = (ta ? m : k) + pad;
  p.ldb = (tb ? k : n) + pad;
  p.ldc = n + pad;
  p.a = random_floats((ta ? k : m) * p.lda, 1);
  p.b = random_floats((tb ? n : k) * p.ldb, 2);
  p.c = random_floats(m * p.ldc, 3);
  return p;
}

static void free_product(product *p) {
  free(p->a);
  free(p->b);
  free(p->c);
}

/* Asserts p.c == alpha op(A) op(B) + beta c0, where c0 is C before the
 * call; the padding columns of C must be untouched. */
static void check(const product *p, float alpha, float beta, const float *c0) {
  for (int64_t i = 0; i < p->m; i++) {
    for (int64_t j = 0; j < p->n; j++) {
      double sum = 0;
      for (int64_t r = 0; r < p->k; r++)
        sum += (double)(p->ta ? p->a[r * p->lda + i] : p->a[i * p->lda + r]) *
               (p->tb ? p->b[j * p->ldb + r] : p->b[r * p->ldb + j]);
      double want = alpha * sum + (beta == 0 ? 0 : beta * c0[i * p->ldc + j]);
      double got = p->c[i * p->ldc + j];
      if (fabs(got - want) > 1e-4 * (1 + sqrt((double)p->k)))
        fail_msg("%lldx%lldx%lld ta=%d tb=%d [%lld][%lld]: got %g, want %g", (long long)p->m, (long long)p->n,
                 (long long)p->k, p->ta, p->tb, (long long)i, (long long)j, got, want);
    }
    for (int64_t j = p->n; j < p->ldc; j++) assert_true(p->c[i * p->ldc + j] == c0[i * p->ldc + j]);
  }
}

static void run(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, float beta) {
  product p = make_product(ta, tb, m, n, k, 3);
  float *c0 = malloc((size_t)(m * p.ldc) * sizeof *c0);
  memcpy(c0, p.c, (size_t)(m * p.ldc) * sizeof *c0);
  dl_error err;
  assert_int_equal(dl__sgemm(ta, tb, m, n, k, alpha, p.a, p.lda, p.b, p.ldb, beta, p.c, p.ldc, &err), DL_OK);
  check(&p, alpha, beta, c0);
  free(c0);
  free_product(&p);
}

/* Writes to the environment: setenv, unsetenv and putenv are defined here,
 * so that libdlnative.a's calls reach these (the program's own definitions
 * come first), and forwarded to the C library's. Writing the environment
 * while another thread reads it (libjpeg's getenv in the pipeline's
 * workers) is undefined behaviour, so loading must not write it at all. */
static int env_writes;

int setenv(const char *name, const char *value, int overwrite) {
  int (*real)(const char *, const char *, int);
  *(void **)&real = dlsym(RTLD_NEXT, "setenv");
  env_writes++;
  return real(name, value, overwrite);
}

int unsetenv(const char *name) {
  int (*real)(const char *);
  *(void **)&real = dlsym(RTLD_NEXT, "unsetenv");
  env_writes++;
  return real(name);
}

int putenv(char *string) {
  int (*real)(char *);
  *(void **)&real = dlsym(RTLD_NEXT, "putenv");
  env_writes++;
  return real(string);
}

/* Threads of this process. */
static int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

/* Runs first, before anything loads OpenBLAS: loading starts no thread
 * (OpenBLAS's own would spin for 0.1 s), whatever OPENBLAS_NUM_THREADS
 * says, and never writes the environment. */
static void test_loading_starts_no_thread_and_leaves_the_environment_alone(void **state) {
  setenv("OPENBLAS_NUM_THREADS", "3", 1);
  env_writes = 0;
  const int before = thread_count();
  dl_error err;
  assert_int_equal(dl__blas_load(&err), DL_OK);
  assert_int_equal(thread_count(), before);
  assert_int_equal(env_writes, 0);
  assert_string_equal(getenv("OPENBLAS_NUM_THREADS"), "3");
  unsetenv("OPENBLAS_NUM_THREADS");
}

static void test_tiny_products_take_the_plain_loop(void **state) {
  for (int t = 0; t < 4; t++) {
    run(t & 1, t & 2, 1, 3, 3, 1.0f, 0.0f); /* the scaffold adapter's 1x3 by 3x3 */
    run(t & 1, t & 2, 7, 5, 9, 0.5f, 2.0f);
  }
}

static void test_products_in_one_call(void **state) {
  for (int t = 0; t < 4; t++) {
    run(t & 1, t & 2, 33, 70, 65, 1.0f, 0.0f);
    run(t & 1, t & 2, 64, 10, 128, -1.5f, 1.0f);
  }
}

static void test_large_products_split_over_threads(void **state) {
  for (int t = 0; t < 4; t++) {
    run(t & 1, t & 2, 64, 1000, 300, 1.0f, 1.0f); /* split along columns */
    run(t & 1, t & 2, 1000, 64, 300, 1.0f, 0.0f); /* along rows */
  }
}

/* A split product equals, bit for bit, the same product computed block by
 * block on one thread: results do not depend on the number of cores. */
static void test_split_is_bitwise_the_same_as_blocks(void **state) {
  const int64_t m = 64, n = 2048, k = 288;
  product p = make_product(false, false, m, n, k, 0);
  float *whole = calloc((size_t)(m * n), sizeof *whole), *blocks = calloc((size_t)(m * n), sizeof *blocks);
  dl_error err;
  assert_int_equal(dl__sgemm(false, false, m, n, k, 1.0f, p.a, k, p.b, n, 0.0f, whole, n, &err), DL_OK);
  for (int64_t j = 0; j < n; j += 64)
    assert_int_equal(dl__sgemm(false, false, m, 64, k, 1.0f, p.a, k, p.b + j, n, 0.0f, blocks + j, n, &err),
                     DL_OK);
  assert_memory_equal(whole, blocks, (size_t)(m * n) * sizeof *whole);
  free(whole);
  free(blocks);
  free_product(&p);
}

/* Two threads multiplying at once, each many times (Debian's serial
 * OpenBLAS shares its work buffers between calls and got wrong products
 * here): every product must be right. */
typedef struct racer {
  const product *p;
  const float *want;
  float *c;
  int wrong;
} racer;

static void *race(void *arg) {
  racer *r = arg;
  const product *p = r->p;
  for (int i = 0; i < 300; i++) {
    dl__sgemm(p->ta, p->tb, p->m, p->n, p->k, 1.0f, p->a, p->lda, p->b, p->ldb, 0.0f, r->c, p->n, NULL);
    r->wrong += memcmp(r->c, r->want, (size_t)(p->m * p->n) * sizeof(float)) != 0;
  }
  return NULL;
}

static void test_products_from_two_threads_at_once(void **state) {
  const int64_t shapes[][3] = {{64, 128, 256}, {128, 256, 64}, {64, 256, 128}};
  for (int s = 0; s < 3; s++) {
    product p = make_product(s == 1, s == 0, shapes[s][0], shapes[s][1], shapes[s][2], 0);
    p.ldc = p.n;
    const size_t size = (size_t)(p.m * p.n) * sizeof(float);
    float *want = malloc(size);
    assert_int_equal(
        dl__sgemm(p.ta, p.tb, p.m, p.n, p.k, 1.0f, p.a, p.lda, p.b, p.ldb, 0.0f, want, p.n, NULL), 0);
    racer r[2] = {{&p, want, malloc(size), 0}, {&p, want, malloc(size), 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    assert_int_equal(r[0].wrong + r[1].wrong, 0);
    free(r[0].c);
    free(r[1].c);
    free(want);
    free_product(&p);
  }
}

static void test_beta_zero_ignores_what_c_held(void **state) {
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {NAN, NAN, INFINITY, NAN};
  dl_error err;
  assert_int_equal(dl__sgemm(false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2, &err), DL_OK);
  for (int i = 0; i < 4; i++) assert_true(c[i] == a[i]);
}

static void test_empty_products_do_nothing(void **state) {
  float c[2] = {5, 6};
  dl_error err;
  assert_int_equal(dl__sgemm(false, false, 0, 2, 3, 1.0f, NULL, 3, NULL, 2, 0.0f, c, 2, &err), DL_OK);
  assert_int_equal(dl__sgemm(false, false, 1, 2, 0, 1.0f, NULL, 1, NULL, 2, 0.0f, c, 2, &err), DL_OK);
  assert_true(c[0] == 0 && c[1] == 0); /* k = 0: C = beta C */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loading_starts_no_thread_and_leaves_the_environment_alone),
      cmocka_unit_test(test_tiny_products_take_the_plain_loop),
      cmocka_unit_test(test_products_in_one_call),
      cmocka_unit_test(test_large_products_split_over_threads),
      cmocka_unit_test(test_split_is_bitwise_the_same_as_blocks),
      cmocka_unit_test(test_products_from_two_threads_at_once),
      cmocka_unit_test(test_beta_zero_ignores_what_c_held),
      cmocka_unit_test(test_empty_products_do_nothing),
  };
  return cmocka_run_group_tests_name("blas", tests, NULL, NULL);
}
