/* Resize + normalize into f32 planes, one source row at a time (the hot
 * path of the batching pipeline: see dl__planes in image_internal.h).
 *
 * The arithmetic is Pillow's, as in image_resize.c: 22-bit fixed-point
 * weights, the horizontal pass first, each pass rounded and clipped to u8.
 * Then (v / 255 - mean) / std in float, the operations of dl__norm_lut.
 * Every kernel here computes exactly that, so the result is bit for bit the
 * one of dl_image_resize followed by dl_image_normalize_into.
 *
 * Each horizontally resized row is stored as C planes (all the R, then all
 * the G...), in a ring of v.ksize rows per plane: an output row is written as
 * soon as its last source row is in, and the rows it reads are always among
 * the last ksize ones. So the intermediate image stays a few KB (in L1)
 * whatever the source size, and the vertical pass runs straight along
 * planes, which is the layout of the f32 output.
 *
 * On x86-64 CPUs with AVX2 the two passes have hand-written kernels:
 *
 * - Horizontal, 3 or 4 channels: two output pixels per 256-bit vector, one
 *   in each 128-bit lane. One 16-byte load per pixel brings up to 5 RGB (4
 *   RGBA) source pixels, i.e. all the taps of a bilinear downscale by less
 *   than 2; a byte shuffle spreads tap t's channels over 32-bit lanes, then
 *   one 32-bit multiply by that tap's weights (a table laid out in the order
 *   the kernel reads it) and one add. 32-bit products keep Pillow's exact
 *   22-bit weights, where pmaddwd's 16-bit ones would round them. Eight
 *   output pixels are packed to u8 with saturation (which is dl__clip8) and
 *   split into planes with one shuffle. The last pixels of a row, whose
 *   loads would run past it, read a zero-padded copy of the row's end.
 * - Vertical + normalize: 32 samples of one plane per round (8 per vector),
 *   each tap's row and weight loaded once for the four vectors. The two
 *   divisions of the normalize are a product by the reciprocal plus one FMA
 *   correction step, used only once checked (at init, on all 256 inputs) to
 *   give the same floats as the table's divisions; otherwise vdivps, which
 *   rounds as the scalar division does.
 *
 * Elsewhere (or with dl__planes_force) the portable kernels below compute
 * the same numbers. */
#include "image_internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_KERNELS 1
#include <immintrin.h>
#else
#define HAVE_AVX2_KERNELS 0
#endif

static int forced;

void dl__planes_force(int kernels) { forced = kernels; }

static uint8_t *ring_row(const dl__planes *p, int c, int64_t y) {
  return p->rows + ((size_t)c * (size_t)p->ring + (size_t)(y % p->ring)) * (size_t)p->stride;
}

/* ---------------------------------------------------------------- portable */

/* Horizontal pass of source row `in` into plane rows out[c], pixels x0..
 * Pixels of 3 or 4 channels take one 4-lane sum per tap; an RGB load also
 * reads the next pixel's first byte (its lane is dropped), so the pixels
 * whose taps reach the row's last source pixel are summed channel by
 * channel. */
static inline __attribute__((always_inline)) void hpass_portable_c(const dl__planes *p, const uint8_t *in,
                                                                   uint8_t *const out[4], int32_t x0, const int C) {
  const dl__axis *a = &p->h;
  for (int32_t x = x0; x < a->out; x++) {
    const uint8_t *px = in + (size_t)a->first[x] * (size_t)C;
    const int32_t *k = a->k + (size_t)x * (size_t)a->ksize;
    int32_t n = a->count[x];
    if (C == 4 || (C == 3 && a->first[x] + n < p->in_w)) {
      dl__lanes s = {DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF};
      for (int32_t i = 0; i < n; i++) s += dl__load4(px + i * C) * k[i];
      s = dl__clip_lanes(s);
      for (int c = 0; c < C; c++) out[c][x] = (uint8_t)s[c];
      continue;
    }
    int32_t s[4] = {DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF};
    for (int32_t i = 0; i < n; i++)
      for (int c = 0; c < C; c++) s[c] += px[i * C + c] * k[i];
    for (int c = 0; c < C; c++) out[c][x] = dl__clip8(s[c]);
  }
}

DL__CLONES static void hpass_portable(const dl__planes *p, const uint8_t *in, uint8_t *const out[4],
                                      int32_t x0) {
  switch (p->C) {
    case 1: hpass_portable_c(p, in, out, x0, 1); break;
    case 2: hpass_portable_c(p, in, out, x0, 2); break;
    case 3: hpass_portable_c(p, in, out, x0, 3); break;
    default: hpass_portable_c(p, in, out, x0, 4);
  }
}

/* Vertical pass of output row y, plane c, samples x0..: rows[i] are its
 * source rows, k their weights; 8 samples at a time, then one by one. */
DL__CLONES static void vpass_portable(const dl__planes *p, int c, int64_t y, const uint8_t *const *rows,
                                      const int32_t *k, int32_t count, int32_t x0) {
  const dl_tensor *d = p->dst;
  float *out = (float *)d->ptr + c * d->strides[0] + y * d->strides[1];
  const float *t = p->lut.v[c];
  int64_t sx = d->strides[2];
  int32_t x = x0, w = p->h.out;
  for (; x + 8 <= w; x += 8) {
    dl__lanes lo = {DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF}, hi = lo;
    for (int32_t i = 0; i < count; i++) {
      lo += dl__load4(rows[i] + x) * k[i];
      hi += dl__load4(rows[i] + x + 4) * k[i];
    }
    lo = dl__clip_lanes(lo);
    hi = dl__clip_lanes(hi);
    for (int j = 0; j < 4; j++) {
      out[(x + j) * sx] = t[lo[j]];
      out[(x + 4 + j) * sx] = t[hi[j]];
    }
  }
  for (; x < w; x++) {
    int32_t s = DL__RESIZE_HALF;
    for (int32_t i = 0; i < count; i++) s += rows[i][x] * k[i];
    out[x * sx] = t[dl__clip8(s)];
  }
}

/* -------------------------------------------------------------------- AVX2 */

#if HAVE_AVX2_KERNELS
#define AVX2 __attribute__((target("avx2,fma")))

/* Source pixels one 16-byte load covers: 5 RGB or 4 RGBA. */
static int taps_per_load(int C) { return 16 / C; }

/* The shuffles that put the C bytes of tap t (of a 16-byte load) into 32-bit
 * lanes 0..C-1 of each 128-bit lane, zero-extended (-1 gives a zero byte):
 * [C - 3][t], 5 taps of RGB, 4 of RGBA. */
#define TAP(a, b, c, d) a, -1, -1, -1, b, -1, -1, -1, c, -1, -1, -1, d, -1, -1, -1
static const int8_t TAP_MASKS[2][5][16] __attribute__((aligned(16))) = {
    {{TAP(0, 1, 2, -1)}, {TAP(3, 4, 5, -1)}, {TAP(6, 7, 8, -1)}, {TAP(9, 10, 11, -1)}, {TAP(12, 13, 14, -1)}},
    {{TAP(0, 1, 2, 3)}, {TAP(4, 5, 6, 7)}, {TAP(8, 9, 10, 11)}, {TAP(12, 13, 14, 15)}, {TAP(-1, -1, -1, -1)}},
};
#undef TAP

/* Eight output pixels, two per accumulator (lane 0: pixel 2q, lane 1: pixel
 * 2q + 1), each holding DL__RESIZE_HALF + the weighted sum of channel c in
 * 32-bit lane c: shift, saturate to u8 (dl__clip8 exactly: sums are never
 * negative and never reach 2^15 << DL__RESIZE_BITS) and store 8 bytes to
 * each plane. */
AVX2 static inline void store8(uint8_t *const out[4], int C, int32_t x, __m256i a0, __m256i a1, __m256i a2,
                               __m256i a3) {
  a0 = _mm256_srai_epi32(a0, DL__RESIZE_BITS);
  a1 = _mm256_srai_epi32(a1, DL__RESIZE_BITS);
  a2 = _mm256_srai_epi32(a2, DL__RESIZE_BITS);
  a3 = _mm256_srai_epi32(a3, DL__RESIZE_BITS);
  /* per 128-bit lane, pixels in order 0 2 4 6 (lane 0) and 1 3 5 7 (lane 1),
   * 4 bytes each; the shuffle groups each lane's bytes by channel */
  __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(a0, a1), _mm256_packus_epi32(a2, a3));
  const __m256i by_channel =
      _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10,
                       14, 3, 7, 11, 15);
  b = _mm256_shuffle_epi8(b, by_channel);
  __m128i even = _mm256_castsi256_si128(b), odd = _mm256_extracti128_si256(b, 1);
  __m128i c01 = _mm_unpacklo_epi8(even, odd), c23 = _mm_unpackhi_epi8(even, odd);
  _mm_storel_epi64((__m128i *)(out[0] + x), c01);
  _mm_storel_epi64((__m128i *)(out[1] + x), _mm_srli_si128(c01, 8));
  _mm_storel_epi64((__m128i *)(out[2] + x), c23);
  if (C == 4) _mm_storel_epi64((__m128i *)(out[3] + x), _mm_srli_si128(c23, 8));
}

/* Source pixels at s0 (lane 0) and s1 (lane 1). */
AVX2 static inline __m256i load_pair(const uint8_t *s0, const uint8_t *s1) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)s0)),
                                 _mm_loadu_si128((const __m128i *)s1), 1);
}

/* One pair of output pixels: `full` loads of TP taps, then one of LAST. */
#define PAIR_SUM(sum, s0, s1)                                                                         \
  do {                                                                                                \
    const uint8_t *a_ = (s0), *b_ = (s1);                                                             \
    __m256i s_ = half;                                                                                \
    for (int32_t g_ = 0; g_ < full; g_++, a_ += TP * C, b_ += TP * C) {                              \
      __m256i v_ = load_pair(a_, b_);                                                                 \
      _Pragma("GCC unroll 5")                                                                         \
      for (int t_ = 0; t_ < TP; t_++)                                                                 \
        s_ = _mm256_add_epi32(s_, _mm256_mullo_epi32(_mm256_shuffle_epi8(v_, mask[t_]), *k++));      \
    }                                                                                                 \
    __m256i v_ = load_pair(a_, b_);                                                                   \
    _Pragma("GCC unroll 5")                                                                           \
    for (int t_ = 0; t_ < LAST; t_++)                                                                 \
      s_ = _mm256_add_epi32(s_, _mm256_mullo_epi32(_mm256_shuffle_epi8(v_, mask[t_]), *k++));        \
    (sum) = s_;                                                                                       \
  } while (0)

/* Blocks b0..b1-1 of a row for C channels, where the last of a pixel's
 * loads uses LAST taps (both constants once inlined below). Pixel offsets
 * are hoff[] - sub bytes from in. */
AVX2 static inline __attribute__((always_inline)) void hpass_avx2_c(const dl__planes *p, const uint8_t *in,
                                                                     int32_t sub, int32_t b0, int32_t b1,
                                                                     uint8_t *const out[4], const int C,
                                                                     const int LAST) {
  const int TP = 16 / C;
  __m256i mask[5];
  _Pragma("GCC unroll 5")
  for (int t = 0; t < TP; t++) mask[t] = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)TAP_MASKS[C - 3][t]));
  const __m256i half = _mm256_set1_epi32(DL__RESIZE_HALF);
  const int32_t full = p->groups - 1, taps = full * TP + LAST;
  const __m256i *k = (const __m256i *)p->hk + (size_t)b0 * 4 * (size_t)taps;
  const int32_t *off = p->hoff + 8 * b0;
  in -= sub;
  for (int32_t b = b0; b < b1; b++, off += 8) {
    __m256i a0, a1, a2, a3;
    PAIR_SUM(a0, in + off[0], in + off[1]);
    PAIR_SUM(a1, in + off[2], in + off[3]);
    PAIR_SUM(a2, in + off[4], in + off[5]);
    PAIR_SUM(a3, in + off[6], in + off[7]);
    store8(out, C, 8 * b, a0, a1, a2, a3);
  }
}
#undef PAIR_SUM

AVX2 static void hpass_avx2_blocks(const dl__planes *p, const uint8_t *in, int32_t sub, int32_t b0, int32_t b1,
                                   uint8_t *const out[4]) {
  if (p->C == 3) {
    switch (p->last) {
      case 1: hpass_avx2_c(p, in, sub, b0, b1, out, 3, 1); break;
      case 2: hpass_avx2_c(p, in, sub, b0, b1, out, 3, 2); break;
      case 3: hpass_avx2_c(p, in, sub, b0, b1, out, 3, 3); break;
      case 4: hpass_avx2_c(p, in, sub, b0, b1, out, 3, 4); break;
      default: hpass_avx2_c(p, in, sub, b0, b1, out, 3, 5);
    }
  } else {
    switch (p->last) {
      case 1: hpass_avx2_c(p, in, sub, b0, b1, out, 4, 1); break;
      case 2: hpass_avx2_c(p, in, sub, b0, b1, out, 4, 2); break;
      case 3: hpass_avx2_c(p, in, sub, b0, b1, out, 4, 3); break;
      default: hpass_avx2_c(p, in, sub, b0, b1, out, 4, 4);
    }
  }
}

/* The blocks whose loads stay inside the row read it in place; the last
 * ones read a copy of the row's end followed by zeros. */
AVX2 static void hpass_avx2(const dl__planes *p, const uint8_t *in, uint8_t *const out[4]) {
  hpass_avx2_blocks(p, in, 0, 0, p->vec_blocks, out);
  if (p->vec_blocks < p->blocks) {
    memcpy(p->tail, in + p->tail_first, (size_t)p->in_w * (size_t)p->C - (size_t)p->tail_first);
    hpass_avx2_blocks(p, p->tail, p->tail_first, p->vec_blocks, p->blocks, out);
  }
}

/* Lays out the horizontal weights in the order hpass_avx2 reads them: for
 * each block of 8 output pixels, for each pair (2q, 2q + 1), for each load,
 * for each tap: 8 int32, the weight of pixel 2q in lanes 0..3 and of pixel
 * 2q + 1 in lanes 4..7 (zero past a pixel's taps, and for the pixels past
 * the row's end that fill the last block). Returns -1 when out of memory,
 * 0 otherwise, with p->hk NULL when the portable kernel is to be used. */
static int hpass_avx2_tables(dl__planes *p) {
  const dl__axis *a = &p->h;
  int C = p->C, TP = taps_per_load(C);
  int32_t taps = 1;
  for (int32_t x = 0; x < a->out; x++)
    if (a->count[x] > taps) taps = a->count[x];
  int32_t groups = (taps + TP - 1) / TP;
  int32_t blocks = (a->out + 7) / 8, pixels = 8 * blocks;
  size_t kbytes = (size_t)pixels / 2 * (size_t)taps * 32;
  /* Byte offsets are int32; a table this large (a huge output, or a
   * downscale by hundreds) is left to the portable kernel. */
  if ((int64_t)p->in_w * C + (int64_t)groups * 16 > INT32_MAX || kbytes > (size_t)64 << 20) return 0;
  p->groups = groups;
  p->last = taps - (groups - 1) * TP;
  p->hoff = malloc(sizeof(int32_t) * (size_t)pixels);
  p->hk = aligned_alloc(32, kbytes);
  if (!p->hoff || !p->hk) return -1;
  int32_t *k = p->hk;
  for (int32_t pair = 0; pair < pixels / 2; pair++) {
    for (int32_t i = 0; i < taps; i++, k += 8) {
      for (int q = 0; q < 2; q++) {
        int32_t x = 2 * pair + q;
        int32_t w = x < a->out && i < a->count[x] ? a->k[(size_t)x * (size_t)a->ksize + (size_t)i] : 0;
        for (int j = 0; j < 4; j++) k[4 * q + j] = w;
      }
    }
    for (int q = 0; q < 2; q++) {
      int32_t x = 2 * pair + q;
      p->hoff[2 * pair + q] = a->first[x < a->out ? x : a->out - 1] * C;
    }
  }
  /* A block reads the row in place when all its loads stay inside; first[]
   * never decreases, so those blocks are a prefix. The others read a copy of
   * the row from the first byte they need, followed by zeros. */
  int64_t row_bytes = (int64_t)p->in_w * C, reach = (int64_t)(p->groups - 1) * TP * C + 16;
  p->blocks = blocks;
  p->vec_blocks = 0;
  while (p->vec_blocks < blocks && p->hoff[8 * p->vec_blocks + 7] + reach <= row_bytes) p->vec_blocks++;
  if (p->vec_blocks < blocks) {
    p->tail_first = p->hoff[8 * p->vec_blocks];
    p->tail = calloc(1, (size_t)(row_bytes - p->tail_first + reach));
    if (!p->tail) return -1;
  }
  return 0;
}

/* (v / 255 - mean) / std on 8 lanes of v in 0..255, as the table has it. */
AVX2 static inline __m256 normalize8(__m256i v, const __m256 *n, int fast) {
  __m256 f = _mm256_cvtepi32_ps(v);
  if (!fast) return _mm256_div_ps(_mm256_sub_ps(_mm256_div_ps(f, n[0]), n[2]), n[4]);
  /* Each division as a product by the reciprocal, then one residual step
   * (q + (a - q b) / b with the residual exact through FMA). init_fast_norm
   * checked that this gives the correctly rounded quotient for all 256
   * inputs, so it equals vdivps here at a fraction of its cost. */
  __m256 q = _mm256_mul_ps(f, n[1]);
  q = _mm256_fmadd_ps(_mm256_fnmadd_ps(q, n[0], f), n[1], q);
  __m256 a = _mm256_sub_ps(q, n[2]);
  __m256 r = _mm256_mul_ps(a, n[3]);
  return _mm256_fmadd_ps(_mm256_fnmadd_ps(r, n[4], a), n[3], r);
}

/* The vertical pass, 32 samples of a plane per round (4 vectors share each
 * tap's row pointer and weight), then 8, then the portable tail. */
AVX2 static void vpass_avx2(const dl__planes *p, int c, int64_t y, const uint8_t *const *rows, const int32_t *k,
                            int32_t count) {
  const dl_tensor *d = p->dst;
  if (d->strides[2] != 1) {
    vpass_portable(p, c, y, rows, k, count, 0);
    return;
  }
  float *out = (float *)d->ptr + c * d->strides[0] + y * d->strides[1];
  const __m256i half = _mm256_set1_epi32(DL__RESIZE_HALF), zero = _mm256_setzero_si256(),
                max = _mm256_set1_epi32(255);
  /* 255, 1/255, mean, 1/std, std */
  const __m256 n[5] = {_mm256_set1_ps(255.0f), _mm256_set1_ps(1.0f / 255.0f), _mm256_set1_ps(p->mean[c]),
                       _mm256_set1_ps(1.0f / p->std[c]), _mm256_set1_ps(p->std[c])};
  int fast = p->fast_norm;
#define CLIP(s) _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32((s), DL__RESIZE_BITS), zero), max)
#define TAP(s, r, kk) _mm256_add_epi32((s), _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(r))), (kk)))
  int32_t x = 0, w = p->h.out;
  for (; x + 32 <= w; x += 32) {
    __m256i s0 = half, s1 = half, s2 = half, s3 = half;
    for (int32_t i = 0; i < count; i++) {
      const uint8_t *r = rows[i] + x;
      __m256i kk = _mm256_set1_epi32(k[i]);
      s0 = TAP(s0, r, kk);
      s1 = TAP(s1, r + 8, kk);
      s2 = TAP(s2, r + 16, kk);
      s3 = TAP(s3, r + 24, kk);
    }
    _mm256_storeu_ps(out + x, normalize8(CLIP(s0), n, fast));
    _mm256_storeu_ps(out + x + 8, normalize8(CLIP(s1), n, fast));
    _mm256_storeu_ps(out + x + 16, normalize8(CLIP(s2), n, fast));
    _mm256_storeu_ps(out + x + 24, normalize8(CLIP(s3), n, fast));
  }
  for (; x + 8 <= w; x += 8) {
    __m256i s0 = half;
    for (int32_t i = 0; i < count; i++) s0 = TAP(s0, rows[i] + x, _mm256_set1_epi32(k[i]));
    _mm256_storeu_ps(out + x, normalize8(CLIP(s0), n, fast));
  }
#undef CLIP
#undef TAP
  vpass_portable(p, c, y, rows, k, count, x);
}

/* Whether normalize8's division-free form gives the table's values for all
 * 256 inputs of every channel (it does for the usual means and stds; when
 * not, vdivps stays). */
AVX2 static int fast_norm_exact(const dl__planes *p) {
  for (int c = 0; c < p->C; c++) {
    const __m256 n[5] = {_mm256_set1_ps(255.0f), _mm256_set1_ps(1.0f / 255.0f), _mm256_set1_ps(p->mean[c]),
                         _mm256_set1_ps(1.0f / p->std[c]), _mm256_set1_ps(p->std[c])};
    __m256i v = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int i = 0; i < 256; i += 8, v = _mm256_add_epi32(v, _mm256_set1_epi32(8))) {
      __m256i got = _mm256_castps_si256(normalize8(v, n, 1));
      __m256i want = _mm256_loadu_si256((const __m256i *)&p->lut.v[c][i]);
      if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(got, want)) != -1) return 0;
    }
  }
  return 1;
}
#endif

/* ----------------------------------------------------------------- driver */

int dl__planes_init(dl__planes *p, dl_tensor *dst, int64_t in_w, int64_t in_h, int C, int mode,
                    const float *mean, const float *std, dl_error *err) {
  memset(p, 0, sizeof *p);
  if (mode != DL_RESIZE_BILINEAR && mode != DL_RESIZE_BOX)
    return dl__fail(err, DL_E_INVAL, "resize mode %d is not DL_RESIZE_BILINEAR (0) or DL_RESIZE_BOX (1)",
                    mode);
  int rc = dl__norm_lut_init(&p->lut, C, mean, std, err);
  if (rc < 0) return rc;
  int64_t out_w = dst->shape[2], out_h = dst->shape[1];
  if (out_w > INT32_MAX || out_h > INT32_MAX || in_w > INT32_MAX || in_h > INT32_MAX)
    return dl__fail(err, DL_E_INVAL, "cannot resize %lld x %lld to %lld x %lld: too large", (long long)in_w,
                    (long long)in_h, (long long)out_w, (long long)out_h);
  p->dst = dst;
  p->C = C;
  p->in_w = (int32_t)in_w;
  p->in_h = (int32_t)in_h;
  for (int c = 0; c < C; c++) {
    p->mean[c] = mean ? mean[c] : 0.0f;
    p->std[c] = std ? std[c] : 1.0f;
  }
#if HAVE_AVX2_KERNELS
  p->simd = forced != DL__KERNELS_PORTABLE && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  int oom = dl__axis_init(&p->h, in_w, (int32_t)out_w, mode) < 0;
  if (oom) {
    memset(&p->h, 0, sizeof p->h);
  } else {
    oom = dl__axis_init(&p->v, in_h, (int32_t)out_h, mode) < 0;
    if (oom) memset(&p->v, 0, sizeof p->v);
  }
  if (!oom) {
    p->row_first = p->v.first[0];
    p->row_end = p->v.first[out_h - 1] + p->v.count[out_h - 1];
    p->ring = p->v.ksize;
    p->stride = (int32_t)((out_w + 7) / 8 * 8);
    p->rows = malloc((size_t)C * (size_t)p->ring * (size_t)p->stride);
    p->taps = malloc(sizeof *p->taps * (size_t)p->ring);
    oom = !p->rows || !p->taps;
  }
#if HAVE_AVX2_KERNELS
  if (!oom && p->simd && (C == 3 || C == 4)) oom = hpass_avx2_tables(p) < 0;
  if (!oom && p->simd && forced != DL__KERNELS_NO_FAST_NORM) p->fast_norm = fast_norm_exact(p);
#endif
  if (oom) {
    dl__planes_free(p);
    return dl__fail(err, DL_E_NOMEM, "cannot allocate buffers to resize %lld x %lld to %lld x %lld",
                    (long long)in_w, (long long)in_h, (long long)out_w, (long long)out_h);
  }
  return DL_OK;
}

void dl__planes_free(dl__planes *p) {
  dl__axis_free(&p->h);
  dl__axis_free(&p->v);
  free(p->rows);
  free(p->taps);
  free(p->hoff);
  free(p->hk);
  free(p->tail);
  memset(p, 0, sizeof *p);
}

/* Writes output row y from the ring. */
static void emit(dl__planes *p, int64_t y) {
  const dl__axis *a = &p->v;
  int32_t first = a->first[y], count = a->count[y];
  const int32_t *k = a->k + (size_t)y * (size_t)a->ksize;
  for (int c = 0; c < p->C; c++) {
    for (int32_t i = 0; i < count; i++) p->taps[i] = ring_row(p, c, first + i);
#if HAVE_AVX2_KERNELS
    if (p->simd) {
      vpass_avx2(p, c, y, p->taps, k, count);
    } else
#endif
      vpass_portable(p, c, y, p->taps, k, count, 0);
  }
}

void dl__planes_push(dl__planes *p, int64_t y, const uint8_t *row) {
  if (y < p->row_first || y >= p->row_end) return;
  uint8_t *out[4] = {NULL, NULL, NULL, NULL};
  for (int c = 0; c < p->C; c++) out[c] = ring_row(p, c, y);
#if HAVE_AVX2_KERNELS
  if (p->hk) {
    hpass_avx2(p, row, out);
  } else
#endif
    hpass_portable(p, row, out, 0);
  const dl__axis *a = &p->v;
  while (p->next_out < a->out && a->first[p->next_out] + a->count[p->next_out] - 1 <= y) emit(p, p->next_out++);
}
