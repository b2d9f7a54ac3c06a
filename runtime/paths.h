/* paths.h — where things live under $DATALOOP_PATH (spec §4).
 *
 *   rt_paths p;
 *   rt_paths_init(&p, opt_home, &err);            // --home, else env, else ~/.dataloop
 *   char dir[RT_PATH_MAX];
 *   rt_paths_entry(&p, RT_PLACE_MODELS, "resnet", dir, &err);   // <home>/models/resnet
 *
 * Folders are created on first use: asking for a place creates it. */
#ifndef RT_PATHS_H
#define RT_PATHS_H

#include "fsutil.h"
#include "rt_error.h"

typedef enum rt_place {
  RT_PLACE_DATASETS,     /* datasets/<name>/ in Dataloop export layout */
  RT_PLACE_STORE,        /* store/: the default (file://) model store */
  RT_PLACE_MODELS,       /* models/<name>/: working copies of model artifacts */
  RT_PLACE_MODEL_DATA,   /* model_data/<id>_<name>/<time>/: prepare_data for training */
  RT_PLACE_FEATURE_SETS, /* feature_sets/<name>/ */
  RT_PLACE_RUNS,         /* runs/<timestamp>-<command>-<model>/ */
  RT_PLACE_TMP,          /* tmp/: scratch on the same file system, so results can be renamed into place */
} rt_place;

typedef struct rt_paths {
  char home[RT_PATH_MAX]; /* read-only: absolute, without a trailing '/' */
} rt_paths;

/* Resolves the home folder: home_override (--home) when not NULL, else
 * $DATALOOP_PATH when set and not empty, else ~/.dataloop. A relative
 * folder is made absolute. Creates nothing. */
int rt_paths_init(rt_paths *p, const char *home_override, rt_error *err);
/* Writes <home>/<place> into out (RT_PATH_MAX bytes), creating it. */
int rt_paths_dir(const rt_paths *p, rt_place place, char *out, rt_error *err);
/* Writes <home>/<place>/<name> into out (RT_PATH_MAX bytes) after checking
 * that name is a valid folder name; creates <home>/<place> but not the
 * entry itself. */
int rt_paths_entry(const rt_paths *p, rt_place place, const char *name, char *out, rt_error *err);
/* Checks that name can be used as one folder name: not empty, at most 255
 * bytes, no '/', no control characters, not starting with '.'. what names
 * the thing in the error ("model name"). */
int rt_paths_check_name(const char *what, const char *name, rt_error *err);

#endif
