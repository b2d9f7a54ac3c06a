/* Views: new headers over the same storage (narrow, select, view, permute,
 * transpose, unsqueeze, squeeze, expand). None of them copies data. */
#include "tensor_internal.h"

/* Moves v's data pointer by elems elements. An empty storage has a NULL
 * base, which stays NULL: its views have no elements, yet may move (narrow
 * along dim 1 of a 0x3 tensor), and NULL + n is undefined. */
static void advance_data(dl_tensor *v, int64_t elems) {
  if (elems != 0 && v->ptr) v->ptr = (char *)v->ptr + elems * (int64_t)dl_dtype_size(v->dtype);
}

int dl_tensor_narrow(dl_tensor **out, const dl_tensor *t, int dim, int64_t start, int64_t len,
                     dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("narrow", t, err), d;
  if (rc < 0) return rc;
  if ((rc = dl__tensor_dim("narrow", t->ndim, dim, &d, err)) < 0) return rc;
  if (start < 0 || len < 0 || start > t->shape[d] - len) {
    char s[DL__SHAPE_STR];
    return dl__fail(
        err, DL_E_RANGE,
        "narrow: elements %lld..%lld (start %lld, length %lld) out of range for dim %d of shape %s",
        (long long)start, (long long)(start + len - 1), (long long)start, (long long)len, d,
        dl__shape_str(s, t->ndim, t->shape));
  }
  if ((rc = dl__tensor_alias(out, t, err)) < 0) return rc;
  dl_tensor *v = *out;
  if (len > 0) advance_data(v, start * v->strides[d]);
  v->shape[d] = len;
  dl__tensor_update_numel(v);
  return DL_OK;
}

int dl_tensor_select(dl_tensor **out, const dl_tensor *t, int dim, int64_t index, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("select", t, err), d;
  if (rc < 0) return rc;
  if ((rc = dl__tensor_dim("select", t->ndim, dim, &d, err)) < 0) return rc;
  if (index < 0 || index >= t->shape[d]) {
    char s[DL__SHAPE_STR];
    return dl__fail(err, DL_E_RANGE, "select: index %lld out of range for dim %d of shape %s",
                    (long long)index, d, dl__shape_str(s, t->ndim, t->shape));
  }
  if ((rc = dl__tensor_alias(out, t, err)) < 0) return rc;
  dl_tensor *v = *out;
  advance_data(v, index * v->strides[d]);
  for (int i = d; i < v->ndim - 1; i++) {
    v->shape[i] = v->shape[i + 1];
    v->strides[i] = v->strides[i + 1];
  }
  v->ndim--;
  dl__tensor_update_numel(v);
  return DL_OK;
}

/* Resolves a requested shape (one entry may be -1) against numel into
 * out[ndim]. */
static int resolve_shape(const char *op, const dl_tensor *t, int ndim, const int64_t *shape, int64_t out[8],
                         dl_error *err) {
  char s[DL__SHAPE_STR];
  if (ndim < 0 || ndim > 8) return dl__fail(err, DL_E_SHAPE, "%s: ndim %d is outside 0..8", op, ndim);
  if (ndim > 0 && !shape) return dl__fail(err, DL_E_INVAL, "%s: shape is NULL for ndim %d", op, ndim);
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < ndim; i++) {
    out[i] = shape[i];
    if (shape[i] == -1 && infer < 0) {
      infer = i;
    } else if (shape[i] < 0) {
      return dl__fail(err, DL_E_SHAPE, "%s: size %lld at dim %d is invalid (only one -1 is allowed)", op,
                      (long long)shape[i], i);
    } else if (__builtin_mul_overflow(known, shape[i], &known)) {
      return dl__fail(err, DL_E_SHAPE, "%s: the requested shape overflows", op);
    }
  }
  if (infer >= 0) {
    if (known == 0 || t->numel % known != 0)
      return dl__fail(err, DL_E_SHAPE,
                      "%s: cannot infer the -1 dim of a new shape for %lld elements (shape %s)", op,
                      (long long)t->numel, dl__shape_str(s, t->ndim, t->shape));
    out[infer] = t->numel / known;
    known *= out[infer];
  }
  int64_t numel;
  if (!dl__shape_numel(ndim, out, &numel)) /* a 0 size hides the others from known, not from strides */
    return dl__fail(err, DL_E_SHAPE, "%s: the requested shape overflows", op);
  if (known != t->numel) {
    char n[DL__SHAPE_STR];
    return dl__fail(err, DL_E_SHAPE,
                    "%s: shape %s (%lld elements) does not fit a tensor of shape %s (%lld elements)", op,
                    dl__shape_str(n, ndim, out), (long long)known, dl__shape_str(s, t->ndim, t->shape),
                    (long long)t->numel);
  }
  return DL_OK;
}

/* Strides for viewing t as shape[ndim] without a copy (PyTorch's
 * computeStride): t's dims split into runs that are contiguous among
 * themselves, and each run must map onto whole dims of the new shape.
 * Returns false when no such strides exist. */
static bool view_strides(const dl_tensor *t, int ndim, const int64_t *shape, int64_t strides[8]) {
  if (t->numel == 0 || t->ndim == 0 || dl_tensor_is_contiguous(t)) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
      strides[i] = s;
      s *= shape[i] > 0 ? shape[i] : 1;
    }
    return true;
  }
  int view_d = ndim - 1;
  int64_t chunk_base = t->strides[t->ndim - 1], tensor_numel = 1, view_numel = 1;
  for (int td = t->ndim - 1; td >= 0; td--) {
    tensor_numel *= t->shape[td];
    bool chunk_ends = td == 0 || (t->shape[td - 1] != 1 && t->strides[td - 1] != tensor_numel * chunk_base);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
      strides[view_d] = view_numel * chunk_base;
      view_numel *= shape[view_d];
      view_d--;
    }
    if (view_numel != tensor_numel) return false;
    if (td > 0) {
      chunk_base = t->strides[td - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  return view_d == -1;
}

int dl_tensor_view(dl_tensor **out, const dl_tensor *t, int ndim, const int64_t *shape, dl_error *err) {
  *out = NULL;
  int64_t want[8], strides[8];
  int rc = dl__tensor_usable("view", t, err);
  if (rc < 0) return rc;
  if ((rc = resolve_shape("view", t, ndim, shape, want, err)) < 0) return rc;
  if (!view_strides(t, ndim, want, strides)) {
    char s[DL__SHAPE_STR], n[DL__SHAPE_STR];
    return dl__fail(
        err, DL_E_SHAPE,
        "view: a non-contiguous tensor of shape %s cannot be viewed as %s; call contiguous() first "
        "(or reshape, which copies)",
        dl__shape_str(s, t->ndim, t->shape), dl__shape_str(n, ndim, want));
  }
  if ((rc = dl__tensor_alias(out, t, err)) < 0) return rc;
  dl_tensor *v = *out;
  v->ndim = ndim;
  for (int i = 0; i < ndim; i++) {
    v->shape[i] = want[i];
    v->strides[i] = strides[i];
  }
  return DL_OK;
}

int dl_tensor_reshape(dl_tensor **out, const dl_tensor *t, int ndim, const int64_t *shape, dl_error *err) {
  *out = NULL;
  int64_t want[8], strides[8];
  int rc = dl__tensor_usable("reshape", t, err);
  if (rc < 0) return rc;
  if ((rc = resolve_shape("reshape", t, ndim, shape, want, err)) < 0) return rc;
  if (view_strides(t, ndim, want, strides)) return dl_tensor_view(out, t, ndim, want, err);
  dl_tensor *copy;
  if ((rc = dl_tensor_contiguous(&copy, t, err)) < 0) return rc;
  rc = dl_tensor_view(out, copy, ndim, want, err);
  dl_tensor_release(copy);
  return rc;
}

int dl_tensor_permute(dl_tensor **out, const dl_tensor *t, const int *order, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("permute", t, err);
  if (rc < 0) return rc;
  if (t->ndim > 0 && !order) return dl__fail(err, DL_E_INVAL, "permute: order is NULL");
  int dims[8];
  bool seen[8] = {false};
  for (int i = 0; i < t->ndim; i++) {
    if ((rc = dl__tensor_dim("permute", t->ndim, order[i], &dims[i], err)) < 0) return rc;
    if (seen[dims[i]])
      return dl__fail(err, DL_E_INVAL, "permute: dim %d appears twice in the order", dims[i]);
    seen[dims[i]] = true;
  }
  if ((rc = dl__tensor_alias(out, t, err)) < 0) return rc;
  for (int i = 0; i < t->ndim; i++) {
    (*out)->shape[i] = t->shape[dims[i]];
    (*out)->strides[i] = t->strides[dims[i]];
  }
  return DL_OK;
}

int dl_tensor_transpose(dl_tensor **out, const dl_tensor *t, int dim0, int dim1, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("transpose", t, err), d0, d1;
  if (rc < 0) return rc;
  if ((rc = dl__tensor_dim("transpose", t->ndim, dim0, &d0, err)) < 0) return rc;
  if ((rc = dl__tensor_dim("transpose", t->ndim, dim1, &d1, err)) < 0) return rc;
  int order[8];
  for (int i = 0; i < t->ndim; i++) order[i] = i;
  order[d0] = d1;
  order[d1] = d0;
  return dl_tensor_permute(out, t, order, err);
}

int dl_tensor_unsqueeze(dl_tensor **out, const dl_tensor *t, int dim, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("unsqueeze", t, err), d;
  if (rc < 0) return rc;
  if (t->ndim == 8)
    return dl__fail(err, DL_E_SHAPE, "unsqueeze: the tensor already has the maximum of 8 dims");
  /* The new dim may go at any of ndim + 1 places. */
  if ((rc = dl__tensor_dim("unsqueeze", t->ndim + 1, dim, &d, err)) < 0) return rc;
  if ((rc = dl__tensor_alias(out, t, err)) < 0) return rc;
  dl_tensor *v = *out;
  for (int i = v->ndim; i > d; i--) {
    v->shape[i] = v->shape[i - 1];
    v->strides[i] = v->strides[i - 1];
  }
  v->ndim++;
  v->shape[d] = 1;
  /* Any stride is valid for a size-1 dim; this one keeps a contiguous
   * tensor contiguous. */
  v->strides[d] = d + 1 < v->ndim ? v->strides[d + 1] * (v->shape[d + 1] > 0 ? v->shape[d + 1] : 1) : 1;
  return DL_OK;
}

int dl_tensor_squeeze(dl_tensor **out, const dl_tensor *t, int dim, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("squeeze", t, err), d;
  if (rc < 0) return rc;
  if ((rc = dl__tensor_dim("squeeze", t->ndim, dim, &d, err)) < 0) return rc;
  if (t->shape[d] != 1) {
    char s[DL__SHAPE_STR];
    return dl__fail(err, DL_E_SHAPE, "squeeze: dim %d of shape %s has size %lld, not 1", d,
                    dl__shape_str(s, t->ndim, t->shape), (long long)t->shape[d]);
  }
  return dl_tensor_select(out, t, d, 0, err);
}

int dl_tensor_squeeze_all(dl_tensor **out, const dl_tensor *t, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("squeeze", t, err);
  if (rc < 0 || (rc = dl__tensor_alias(out, t, err)) < 0) return rc;
  dl_tensor *v = *out;
  int n = 0;
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] == 1) continue;
    v->shape[n] = t->shape[i];
    v->strides[n] = t->strides[i];
    n++;
  }
  v->ndim = n;
  return DL_OK;
}

int dl_tensor_expand(dl_tensor **out, const dl_tensor *t, int ndim, const int64_t *shape, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("expand", t, err);
  if (rc < 0) return rc;
  char s[DL__SHAPE_STR];
  if (ndim < t->ndim || ndim > 8)
    return dl__fail(err, DL_E_SHAPE, "expand: cannot expand shape %s to %d dims (needs %d..8)",
                    dl__shape_str(s, t->ndim, t->shape), ndim, t->ndim);
  if (ndim > 0 && !shape) return dl__fail(err, DL_E_INVAL, "expand: shape is NULL for ndim %d", ndim);
  int64_t want[8], strides[8];
  for (int i = 0; i < ndim; i++) {
    int it = t->ndim - ndim + i; /* t's dim aligned with i, or < 0 for a new leading dim */
    int64_t have = it >= 0 ? t->shape[it] : 1;
    want[i] = shape[i] == -1 && it >= 0 ? have : shape[i];
    if (want[i] < 0 || (have != want[i] && have != 1))
      return dl__fail(err, DL_E_SHAPE,
                      "expand: size %lld at dim %d does not fit shape %s (only size-1 dims expand)",
                      (long long)shape[i], i, dl__shape_str(s, t->ndim, t->shape));
    strides[i] = it >= 0 && have == want[i] ? t->strides[it] : 0;
  }
  int64_t numel;
  if (!dl__shape_numel(ndim, want, &numel))
    return dl__fail(err, DL_E_SHAPE, "expand: shape %s overflows", dl__shape_str(s, ndim, want));
  if ((rc = dl__tensor_alias(out, t, err)) < 0) return rc;
  dl_tensor *v = *out;
  v->ndim = ndim;
  for (int i = 0; i < ndim; i++) {
    v->shape[i] = want[i];
    v->strides[i] = strides[i];
  }
  dl__tensor_update_numel(v);
  return DL_OK;
}
