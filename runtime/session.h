/* session.h — what every adapter command does before its own work:
 * build the host, load and validate the adapter, open the store, find or
 * create the model entity, and configure the adapter's `self`. */
#ifndef RT_SESSION_H
#define RT_SESSION_H

#include <jansson.h>

#include "cli.h"
#include "dataset.h"
#include "host.h"
#include "load_from_model.h"
#include "model_entity.h"
#include "paths.h"
#include "save_to_model.h"
#include "store_backend.h"

typedef struct rt_session {
  const rt_args *args;
  rt_host *host;                       /* owned */
  rt_paths paths;                      /* the embedded store root and its layout */
  rt_store store;                      /* where model entities and artifacts live (--store) */
  char model_name[RT_MODEL_NAME_MAX];  /* --model NAME, else the adapter's name */
  int model_version;                   /* from NAME@vN; 0 = latest */
  json_t *model;                       /* owned: the model entity */
  rt_loaded_model loaded;              /* after rt_session_load_model */
} rt_session;

/* Opens a session for args->cmd. The dataset the command works on (may be
 * NULL) gives a model created now its datasetId, and its labels when the
 * adapter declares none; the adapter sees it as self.dataset. On failure
 * prints "dlrun: ..." and returns the exit code to use (RT_EXIT_ERROR or
 * RT_EXIT_USAGE); 0 on success. */
int rt_session_open(rt_session *s, const rt_args *args, const rt_dataset *dataset);
/* Like rt_session_open, for a command that works on a dataset: dataset, or
 * when it is NULL the one the model records (train, evaluate). Then the
 * model must exist already: one created now would record no datasetId, so
 * the command fails before creating it. */
int rt_session_open_for_dataset(rt_session *s, const rt_args *args, const rt_dataset *dataset);
void rt_session_close(rt_session *s);

/* load_from_model: the model's artifacts into its working copy, then
 * A:load(local_path, opts). Prints and returns an exit code like open. */
int rt_session_load_model(rt_session *s);

/* save_to_model: A:save(tmpdir, opts) into a fresh scratch folder, then the
 * folder is packed and uploaded as the model's next version (*out). Prints
 * and returns an exit code like open. */
int rt_session_save_model(rt_session *s, rt_saved_version *out);

/* Hands the adapter the dataset a command works on, as self.dataset =
 * {id, name, labels}; for a dataset chosen after rt_session_open. */
int rt_session_set_dataset(rt_session *s, const rt_dataset *ds, rt_error *err);

/* Prints "dlrun: <msg>" and returns RT_EXIT_ERROR. */
int rt_session_fail(const char *msg);

#endif
