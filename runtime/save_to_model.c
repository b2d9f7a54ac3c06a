/* save_to_model: pack, upload, record. */
#include "save_to_model.h"

#include <sys/stat.h>

#include "artifact_archive.h"
#include "fsutil.h"
#include "model_store.h"

typedef struct upload {
  const rt_store *store;
  const char *archive;
  rt_saved_version *v;
} upload;

/* The edit step of rt_models_update, so it runs under the model's lock:
 * picks the next version, uploads the archive as that version, then adds
 * it to the entity that rt_models_update writes back. */
static int upload_next_version(json_t *model, void *ud, rt_error *err) {
  upload *u = ud;
  const char *name = rt_model_name(model);
  u->v->version = rt_model_latest_version(model) + 1;
  char rel[RT_PATH_MAX];
  if (rt_fs_path(rel, err, "models/%s/artifacts/v%d.tar.gz", name, u->v->version) < 0 ||
      rt_store_put_file(u->store, rel, u->archive, err) < 0)
    return -1;
  return rt_model_add_version(model, u->v->version, u->v->sha256, u->v->size, err);
}

int rt_save_to_model(const rt_store *s, const rt_paths *p, const char *name, const char *dir,
                     rt_saved_version *out, rt_error *err) {
  char beside[RT_PATH_MAX], scratch[RT_PATH_MAX], archive[RT_PATH_MAX];
  if (!rt_fs_is_dir(dir)) return rt_fail(err, "save_to_model: %s is not a folder", dir);
  if (rt_paths_entry(p, RT_PLACE_TMP, name, beside, err) < 0 || rt_fs_make_temp_dir(beside, scratch, err) < 0)
    return -1;
  int rc = rt_fs_path(archive, err, "%s/artifact.tar.gz", scratch);
  if (rc == 0) rc = rt_archive_pack(dir, archive, err);
  struct stat st;
  if (rc == 0 && stat(archive, &st) < 0) rc = rt_fail(err, "cannot stat %s", archive);
  if (rc == 0) {
    out->size = (long long)st.st_size;
    rc = rt_sha256_file(archive, out->sha256, err);
  }
  upload u = {s, archive, out};
  if (rc == 0) rc = rt_models_update(s, name, upload_next_version, &u, NULL, err);
  rt_error ignored;
  rt_fs_rm_rf(scratch, &ignored);
  return rc;
}
