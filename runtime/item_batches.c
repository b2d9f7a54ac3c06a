/* Items to Lua batch objects: native pipeline, prepare_item, or defaults. */
#include "item_batches.h"

#include <lauxlib.h>
#include <string.h>

#include "adapter.h"

/* Copies the error on top of the stack into err and pops it. */
static int lua_fail(lua_State *L, rt_error *err) {
  rt_fail(err, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
  return -1;
}

/* The adapter's plan: how items are prepared, the batch size and, for the
 * pipeline, its spec (zeroed otherwise). */
typedef struct plan {
  rt_prep_mode mode;
  int batch_size;
  dl_pipeline_spec spec;
} plan;

static int read_plan(rt_host *h, int threads, plan *p, rt_error *err) {
  lua_State *L = h->L;
  /* dl.host.batch_plan(A, threads) -> mode, batch_size, pipeline spec (cdata) | nil, msg */
  rt_adapter_push(h);
  lua_pushinteger(L, threads);
  if (rt_host_call(L, "dl.host", "batch_plan", 2, 3) != 0) return lua_fail(L, err);
  if (lua_isnil(L, -3)) {
    rt_fail(err, "%s", lua_tostring(L, -2));
    lua_pop(L, 3);
    return -1;
  }
  const char *mode = lua_tostring(L, -3);
  memset(p, 0, sizeof *p);
  p->mode = strcmp(mode, "pipeline") == 0  ? RT_PREP_PIPELINE
            : strcmp(mode, "adapter") == 0 ? RT_PREP_ADAPTER
                                           : RT_PREP_DEFAULT;
  p->batch_size = (int)lua_tointeger(L, -2);
  /* the cdata's payload, alive while on the stack; memcpy keeps its zeroed padding, for memcmp */
  if (p->mode == RT_PREP_PIPELINE) memcpy(&p->spec, lua_topointer(L, -1), sizeof p->spec);
  lua_pop(L, 3);
  return 0;
}

/* Takes plan p and, for the pipeline, starts it over the items. */
static int start(rt_batches *b, const plan *p, rt_error *err) {
  b->mode = p->mode;
  b->batch_size = p->batch_size;
  b->spec = p->spec;
  if (b->mode != RT_PREP_PIPELINE) return 0;
  dl_error e;
  int rc = dl_pipeline_new(&b->pipe, &b->spec, &e);
  for (size_t i = 0; rc == 0 && i < b->n; i++)
    rc = dl_pipeline_add_path(b->pipe, b->items->v[b->order[i]].local_path, &e);
  if (rc == 0) rc = dl_pipeline_start(b->pipe, &e);
  return rc < 0 ? rt_fail(err, "cannot start the item pipeline: %s", e.msg) : 0;
}

int rt_batches_open(rt_batches *b, rt_host *h, rt_item_list *items, const size_t *order, size_t n,
                    int threads, rt_error *err) {
  memset(b, 0, sizeof *b);
  b->host = h;
  b->items = items;
  b->order = order;
  b->n = n;
  b->threads = threads;
  plan p;
  if (read_plan(h, threads, &p, err) < 0) return -1;
  return start(b, &p, err);
}

int rt_batches_confirm(rt_batches *b, rt_error *err) {
  plan p;
  if (read_plan(b->host, b->threads, &p, err) < 0) return -1;
  if (p.mode == b->mode && p.batch_size == b->batch_size && memcmp(&p.spec, &b->spec, sizeof p.spec) == 0)
    return 0;
  dl_pipeline_free(b->pipe);
  b->pipe = NULL;
  return start(b, &p, err);
}

/* Reads back the sizes the preparation learnt into the items. */
static void collect_sizes(rt_batches *b, size_t first, int count) {
  lua_State *L = b->host->L;
  lua_getfield(L, -1, "items");
  for (int i = 0; i < count; i++) {
    rt_item *it = &b->items->v[b->order[first + (size_t)i]];
    lua_rawgeti(L, -1, i + 1);
    lua_getfield(L, -1, "width");
    lua_getfield(L, -2, "height");
    if (lua_isnumber(L, -2) && lua_isnumber(L, -1)) {
      it->width = (long)lua_tonumber(L, -2);
      it->height = (long)lua_tonumber(L, -1);
    }
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
}

/* prepare_item for each item, through the traceback pcall; a failure marks
 * only that item. The batch object is on top of the stack. */
static int prepare_with_adapter(rt_batches *b, int count, rt_error *err) {
  lua_State *L = b->host->L;
  for (int i = 1; i <= count; i++) {
    int batch_at = lua_gettop(L);
    lua_getfield(L, batch_at, "items");
    lua_rawgeti(L, -1, i);
    lua_remove(L, -2);
    rt_error e;
    int ok = rt_adapter_call(b->host, "prepare_item", 1, 1, &e) == 0;
    /* dl.host.set_input(batch, i, value) or dl.host.fail_input(batch, i, msg) */
    if (!ok) lua_pushstring(L, e.msg);
    lua_pushvalue(L, batch_at);
    lua_insert(L, -2);
    lua_pushinteger(L, i);
    lua_insert(L, -2);
    if (rt_host_call(L, "dl.host", ok ? "set_input" : "fail_input", 3, 0) != 0) return lua_fail(L, err);
  }
  return 0;
}

int rt_batches_next(rt_batches *b, size_t *first, int *count, rt_error *err) {
  if (b->next >= b->n) return 1;
  lua_State *L = b->host->L;
  size_t start = b->next;
  size_t left = b->n - start;
  int n = left < (size_t)b->batch_size ? (int)left : b->batch_size;
  if (b->mode == RT_PREP_PIPELINE) {
    dl_error e;
    dl_pipeline_batch *out; /* b->out keeps a batch not yet released when this fails */
    if (dl_pipeline_next(b->pipe, &out, &e) < 0) return rt_fail(err, "item pipeline: %s", e.msg);
    if (!out) return rt_fail(err, "item pipeline: ended after %zu of %zu items", start, b->n);
    b->out = out;
    n = b->out->n;
  }
  rt_items_push(L, b->items, b->order + start, (size_t)n);
  int status;
  switch (b->mode) {
    case RT_PREP_PIPELINE:
      lua_pushlightuserdata(L, b->out);
      lua_insert(L, -2);
      status = rt_host_call(L, "dl.host", "native_batch", 2, 1);
      break;
    case RT_PREP_ADAPTER:
      status = rt_host_call(L, "dl.host", "new_batch", 1, 1);
      if (status == 0 && prepare_with_adapter(b, n, err) < 0) {
        lua_pop(L, 1);
        return -1;
      }
      break;
    default:
      status = rt_host_call(L, "dl.host", "default_batch", 1, 1);
      break;
  }
  if (status != 0) return lua_fail(L, err);
  collect_sizes(b, start, n);
  b->next = start + (size_t)n;
  *first = start;
  *count = n;
  return 0;
}

void rt_batches_release(rt_batches *b) {
  if (b->out) dl_pipeline_release(b->pipe, b->out, NULL);
  b->out = NULL;
}

void rt_batches_close(rt_batches *b) {
  rt_batches_release(b);
  dl_pipeline_free(b->pipe);
  b->pipe = NULL;
}
