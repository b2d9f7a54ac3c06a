/* embed_items (`dlrun ADAPTER.lua embed`): batches of items through the
 * adapter's embed; the vectors are validated per item and stored in the
 * model's feature set. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "feature_set.h"
#include "model_entity.h"
#include "result_lines.h"
#include "run_items.h"
#include "signals.h"
#include "watch.h"

typedef struct embed_run {
  rt_run_items r; /* first: the resume callback gets &run->r */
  rt_feature_set features;
  bool features_open;
} embed_run;

static int open_features(embed_run *e, rt_error *err) {
  if (e->features_open) return 0;
  if (rt_features_open(&e->features, &e->r.session.paths, e->r.session.model_name, rt_model_id(e->r.session.model),
                       err) < 0)
    return -1;
  e->features_open = true;
  return 0;
}

/* --resume: the item already has a row in the feature set. */
static bool already_embedded(rt_run_items *r, const rt_item *it) {
  embed_run *e = (embed_run *)((char *)r - offsetof(embed_run, r));
  rt_error err;
  if (open_features(e, &err) < 0) return false; /* the run reports it when it opens the set */
  return rt_features_find(&e->features, it->id) >= 0;
}

/* embed on the batch on top of the stack; stores the good vectors. Pops the
 * batch. Returns -1 only when the feature set cannot be written. */
static int embed_batch(embed_run *e, size_t first, int count, rt_error *err) {
  rt_run_items *r = &e->r;
  lua_State *L = r->session.host->L;
  int batch_at = lua_gettop(L);
  lua_pushinteger(L, (lua_Integer)e->features.dim);
  /* dl.host.convert_embeddings(A, batch, result, known_dim) -> rows, dim, errors | nil, msg;
   * embed's views turn stale only after it: the conversion may read a tensor view */
  int rc = rt_run_items_batch_step(r, first, count, "embed", "convert_embeddings", 3, false, err);
  if (rc <= 0) return rc;
  const float *rows = lua_topointer(L, -3); /* float[count * dim], alive while on the stack */
  int64_t dim = (int64_t)lua_tointeger(L, -2);
  const char **ids = malloc((size_t)count * sizeof *ids);
  const char **names = malloc((size_t)count * sizeof *names);
  float *good = malloc((size_t)count * (size_t)(dim ? dim : 1) * sizeof *good);
  int n = 0;
  rc = (ids && names && good) ? 0 : rt_fail(err, "out of memory");
  for (int i = 0; rc == 0 && i < count; i++) {
    rt_item *it = rt_run_items_item(r, first + (size_t)i);
    if (rt_run_items_prepare_failed(r, batch_at, i + 1, first)) continue;
    lua_rawgeti(L, -1, i + 1);
    if (lua_isstring(L, -1)) {
      char msg[RT_PATH_MAX + 512];
      snprintf(msg, sizeof msg, "item %s: %s", it->filename, lua_tostring(L, -1));
      rt_run_items_fail(r, it, "validate", msg);
    } else {
      ids[n] = it->id;
      names[n] = it->filename;
      for (int64_t j = 0; j < dim; j++) good[(size_t)n * (size_t)dim + (size_t)j] = rows[(size_t)i * (size_t)dim + (size_t)j];
      if (r->session.args->watch) rt_show_vector(it, rows + (size_t)i * (size_t)dim, dim);
      n++;
    }
    lua_pop(L, 1);
  }
  if (rc == 0 && rt_features_put(&e->features, n, ids, names, good, dim, err) < 0) rc = -1;
  if (rc == 0) r->run.ok += n;
  free(ids);
  free(names);
  free(good);
  lua_settop(L, batch_at - 1);
  return rc;
}

int rt_cmd_embed(const rt_args *args) {
  embed_run e = {0};
  int rc = rt_run_items_open(&e.r, args, "embed", already_embedded);
  if (rc != 0) {
    if (e.features_open) rt_features_close(&e.features);
    return rc;
  }
  rt_error err;
  if (open_features(&e, &err) < 0) rc = rt_session_fail(err.msg);
  size_t first;
  int count;
  while (rc == 0) {
    int more = rt_batches_next(&e.r.batches, &first, &count, &err);
    if (more == 1) break;
    if (more < 0 || embed_batch(&e, first, count, &err) < 0) {
      rc = rt_session_fail(err.msg);
      break;
    }
    rt_progress_update(&e.r.progress, (long)(first + (size_t)count), e.r.run.failed);
    if (rt_signals_stop_requested()) break;
  }
  if (rc == 0 && !rt_args_flag(args, "quiet"))
    fprintf(stderr, "feature set '%s': %lld vectors of %lld dimensions in %s\n", e.features.name,
            (long long)e.features.count, (long long)e.features.dim, e.features.dir);
  if (e.features_open) rt_features_close(&e.features);
  return rt_run_items_close(&e.r, rc);
}
