/* save_to_model.h — the C half of save_to_model: after the adapter's save()
 * filled a folder, pack it as the model's next version, upload it, and
 * record it in model.json.
 *
 *   rt_saved_version v;
 *   if (rt_save_to_model(&store, &paths, "resnet", tmpdir, &v, &err) < 0) ...
 *   printf("saved resnet@v%d (%s)\n", v.version, v.sha256);
 *
 * Order matters for crash safety: the archive is uploaded before model.json
 * names it, so a crash leaves at worst an unreferenced archive that the
 * next save overwrites. On a file store the whole cycle holds the model's
 * lock, so concurrent saves get distinct versions; an http store has no
 * locking and two saves racing on one model can pick the same version. */
#ifndef RT_SAVE_TO_MODEL_H
#define RT_SAVE_TO_MODEL_H

#include "paths.h"
#include "sha256.h"
#include "store_backend.h"

typedef struct rt_saved_version {
  int version;                /* N, as in NAME@vN */
  char sha256[RT_SHA256_HEX]; /* of the archive */
  long long size;             /* of the archive, in bytes */
} rt_saved_version;

/* Packs dir (left untouched) as version N+1 of the existing model name, in
 * <base>/models/<name>/artifacts/v<N+1>.tar.gz, and adds it to model.json.
 * Scratch files go to <home>/tmp and are removed. */
int rt_save_to_model(const rt_store *s, const rt_paths *p, const char *name, const char *dir,
                     rt_saved_version *out, rt_error *err);

#endif
