/* Cosine top-k through blocked sgemm: scores for a block of queries against
 * a block of base rows come from one sgemm, then each query keeps its best k
 * in a small sorted list. Blocks bound the scratch memory whatever n is. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

enum { QUERY_BLOCK = 256, BASE_BLOCK = 4096 };

void dl_similarity_normalize(float *x, int64_t n, int64_t d) {
  for (int64_t i = 0; i < n; i++) {
    float *row = x + i * d;
    double ss = 0;
    for (int64_t j = 0; j < d; j++) ss += (double)row[j] * row[j];
    if (ss == 0) continue;
    float inv = (float)(1.0 / sqrt(ss));
    for (int64_t j = 0; j < d; j++) row[j] *= inv;
  }
}

/* Inserts (score, row) into the sorted top list of length k (best first);
 * equal scores keep the earlier row first, as rows arrive in order. */
static void keep_best(float *top_s, int64_t *top_i, int64_t k, float score, int64_t row) {
  if (!(score > top_s[k - 1]) && top_i[k - 1] >= 0) return;
  int64_t j = k - 1;
  while (j > 0 && (top_i[j - 1] < 0 || score > top_s[j - 1])) {
    top_s[j] = top_s[j - 1];
    top_i[j] = top_i[j - 1];
    j--;
  }
  top_s[j] = score;
  top_i[j] = row;
}

int dl_similarity_topk(const float *queries, int64_t nq, const float *base, int64_t n, int64_t d, int64_t k,
                       int64_t self_offset, int64_t *idx, float *scores, dl_error *err) {
  if (nq < 0 || n < 0 || d < 1 || k < 1)
    return dl__fail(err, DL_E_INVAL, "similarity: need nq, n >= 0 and d, k >= 1 (got %lld, %lld, %lld, %lld)",
                    (long long)nq, (long long)n, (long long)d, (long long)k);
  if (d > INT32_MAX || n > INT32_MAX) return dl__fail(err, DL_E_TOO_LARGE, "similarity: too many rows or dims");
  for (int64_t i = 0; i < nq * k; i++) idx[i] = -1, scores[i] = NAN;
  if (nq == 0 || n == 0) return DL_OK;
  int rc = dl__blas_load(err);
  if (rc < 0) return rc;
  float *block = malloc(sizeof(float) * QUERY_BLOCK * BASE_BLOCK);
  if (!block) return dl__fail(err, DL_E_NOMEM, "similarity: out of memory");
  for (int64_t q0 = 0; q0 < nq; q0 += QUERY_BLOCK) {
    int64_t qn = nq - q0 < QUERY_BLOCK ? nq - q0 : QUERY_BLOCK;
    for (int64_t b0 = 0; b0 < n; b0 += BASE_BLOCK) {
      int64_t bn = n - b0 < BASE_BLOCK ? n - b0 : BASE_BLOCK;
      /* block[qn x bn] = queries[q0..] . base[b0..]^T */
      dl__sgemm(false, true, qn, bn, d, 1.0f, queries + q0 * d, d, base + b0 * d, d, 0.0f, block, bn, err);
      for (int64_t q = 0; q < qn; q++) {
        int64_t self = self_offset >= 0 ? self_offset + q0 + q : -1;
        float *top_s = scores + (q0 + q) * k;
        int64_t *top_i = idx + (q0 + q) * k;
        for (int64_t b = 0; b < bn; b++) {
          if (b0 + b == self) continue;
          keep_best(top_s, top_i, k, block[q * bn + b], b0 + b);
        }
      }
    }
  }
  free(block);
  return DL_OK;
}
