/* predict_items (`dlrun ADAPTER.lua predict`): batches of items through the
 * adapter's predict, validated per item, saved as Dataloop annotations.
 * evaluate_model runs the same loop (rt_predict_items). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "fsutil.h"
#include "item_batches.h"
#include "item_doc.h"
#include "model_entity.h"
#include "predict_items.h"
#include "progress.h"
#include "signals.h"
#include "result_lines.h"

/* Writes one item's annotations: merged into its document, or one JSON line. */
static int save_item(rt_run_items *r, rt_item *it, const char *json_text, rt_fs_batch *writes, rt_error *err) {
  json_error_t je;
  json_t *fresh = json_loads(json_text, 0, &je);
  if (!fresh) return rt_fail(err, "internal error: annotations of %s are not JSON: %s", it->filename, je.text);
  json_t *doc = NULL;
  if (it->json_path && rt_item_doc_read(it->json_path, &doc, err) < 0) {
    json_decref(fresh);
    return -1;
  }
  if (!doc) doc = rt_item_doc_new(it->id, it->filename, it->mimetype, it->width, it->height, it->size);
  const char *id = rt_item_doc_id(doc);
  int rc = rt_item_doc_replace_model(doc, r->session.model_name, id ? id : it->id, fresh, err);
  if (rc == 0 && it->json_path) {
    char *text = rt_item_doc_dump(doc);
    char dir[RT_PATH_MAX];
    rc = text ? rt_fs_path(dir, err, "%s", it->json_path) : rt_fail(err, "out of memory");
    char *slash = rc == 0 ? strrchr(dir, '/') : NULL;
    if (slash) *slash = '\0';
    if (rc == 0 && slash) rc = rt_fs_mkdir_p(dir, err);
    if (rc == 0) rc = rt_fs_batch_add(writes, it->json_path, text, strlen(text), err);
    free(text);
  } else if (rc == 0 && !r->show_lines) {
    /* --out -: one JSON line per item */
    char *line = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (line) {
      fputs(line, stdout);
      fputc('\n', stdout);
    }
    free(line);
  }
  json_decref(doc);
  return rc;
}

/* predict on the batch on top of the stack; records results and failures.
 * Pops the batch. Returns -1 only when the results cannot be written. */
static int predict_batch(rt_run_items *r, size_t first, int count, rt_error *err) {
  lua_State *L = r->session.host->L;
  int batch_at = lua_gettop(L);
  const char *model_id = rt_model_id(r->session.model);
  if (model_id)
    lua_pushstring(L, model_id);
  else
    lua_pushnil(L);
  /* dl.host.convert_predictions(A, batch, results, model_id) -> jsons, errors | nil, msg;
   * the views handed to predict turn stale before it, whatever predict kept */
  int rc = rt_run_items_batch_step(r, first, count, "predict", "convert_predictions", 2, true, err);
  if (rc <= 0) return rc;
  rt_fs_batch *writes = rt_fs_batch_new();
  rc = writes ? 0 : rt_fail(err, "out of memory");
  /* held from reading the batch's documents to replacing them: another
   * run merging into the same documents waits instead of overwriting */
  int lock = -1;
  if (rc == 0 && r->docs_lock[0]) rc = rt_fs_lock(r->docs_lock, &lock, err);
  for (int i = 0; rc == 0 && i < count; i++) {
    rt_item *it = rt_run_items_item(r, first + (size_t)i);
    if (rt_run_items_prepare_failed(r, batch_at, i + 1, first)) continue;
    lua_rawgeti(L, -1, i + 1); /* errors[i] */
    lua_rawgeti(L, -3, i + 1); /* jsons[i] */
    if (lua_isstring(L, -2)) {
      char msg[RT_PATH_MAX + 512];
      snprintf(msg, sizeof msg, "item %s: %s", it->filename, lua_tostring(L, -2));
      rt_run_items_fail(r, it, "validate", msg);
    } else {
      rt_error we;
      if (save_item(r, it, lua_tostring(L, -1), writes, &we) < 0)
        rt_run_items_fail(r, it, "write", we.msg);
      else
        r->run.ok++;
      if (r->show_lines) rt_show_annotations(it, lua_tostring(L, -1));
    }
    lua_pop(L, 2);
  }
  if (rc == 0 && rt_fs_batch_commit(writes, err) < 0) rc = -1;
  rt_fs_unlock(lock);
  rt_fs_batch_free(writes);
  fflush(stdout);
  lua_settop(L, batch_at - 1);
  return rc;
}

bool rt_predict_item_done(rt_run_items *r, const rt_item *it) {
  json_t *doc = NULL;
  if (!it->json_path || rt_item_doc_read(it->json_path, &doc, NULL) < 0 || !doc) return false;
  bool done = rt_item_doc_has_model(doc, r->session.model_name);
  json_decref(doc);
  return done;
}

int rt_predict_items(rt_run_items *r, rt_error *err) {
  size_t first;
  int count;
  for (;;) {
    int more = rt_batches_next(&r->batches, &first, &count, err);
    if (more == 1) return 0;
    if (more < 0 || predict_batch(r, first, count, err) < 0) return -1;
    rt_progress_update(&r->progress, (long)(first + (size_t)count), r->run.failed);
    if (rt_signals_stop_requested()) return 0;
  }
}

int rt_cmd_predict(const rt_args *args) {
  rt_run_items r;
  int rc = rt_run_items_open(&r, args, "predict", rt_predict_item_done);
  if (rc != 0) return rc;
  rt_error err;
  if (rt_predict_items(&r, &err) < 0) rc = rt_session_fail(err.msg);
  return rt_run_items_close(&r, rc);
}
