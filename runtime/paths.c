/* The $DATALOOP_PATH layout. */
#include "paths.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const place_names[] = {
    [RT_PLACE_DATASETS] = "datasets",
    [RT_PLACE_STORE] = "store",
    [RT_PLACE_MODELS] = "models",
    [RT_PLACE_MODEL_DATA] = "model_data",
    [RT_PLACE_FEATURE_SETS] = "feature_sets",
    [RT_PLACE_RUNS] = "runs",
    [RT_PLACE_TMP] = "tmp",
};

/* What an entry of each place is called in errors. */
static const char *const entry_kinds[] = {
    [RT_PLACE_DATASETS] = "dataset name",
    [RT_PLACE_STORE] = "store entry name",
    [RT_PLACE_MODELS] = "model name",
    [RT_PLACE_MODEL_DATA] = "model data folder name",
    [RT_PLACE_FEATURE_SETS] = "feature set name",
    [RT_PLACE_RUNS] = "run name",
    [RT_PLACE_TMP] = "temp name",
};

static const char *home_dir(void) {
  const char *h = getenv("HOME");
  if (h && h[0]) return h;
  struct passwd *pw = getpwuid(getuid());
  return pw ? pw->pw_dir : NULL;
}

int rt_paths_init(rt_paths *p, const char *home_override, rt_error *err) {
  char given[RT_PATH_MAX];
  const char *env = getenv("DATALOOP_PATH");
  if (home_override) {
    if (!home_override[0]) return rt_fail(err, "--home needs a folder, got an empty string");
    if (rt_fs_path(given, err, "%s", home_override) < 0) return -1;
  } else if (env && env[0]) {
    if (rt_fs_path(given, err, "%s", env) < 0) return -1;
  } else {
    const char *h = home_dir();
    if (!h) return rt_fail(err, "cannot find the home folder: set DATALOOP_PATH or HOME, or pass --home");
    if (rt_fs_path(given, err, "%s/.dataloop", h) < 0) return -1;
  }
  if (given[0] == '/') {
    strcpy(p->home, given);
  } else {
    char cwd[RT_PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return rt_fail(err, "cannot resolve %s: %s", given, strerror(errno));
    if (rt_fs_path(p->home, err, "%s/%s", cwd, given) < 0) return -1;
  }
  size_t n = strlen(p->home);
  while (n > 1 && p->home[n - 1] == '/') p->home[--n] = '\0';
  return 0;
}

int rt_paths_dir(const rt_paths *p, rt_place place, char *out, rt_error *err) {
  if (rt_fs_path(out, err, "%s/%s", p->home, place_names[place]) < 0) return -1;
  return rt_fs_mkdir_p(out, err);
}

int rt_paths_check_name(const char *what, const char *name, rt_error *err) {
  size_t n = strlen(name);
  if (n == 0) return rt_fail(err, "%s is empty", what);
  if (n > 255) return rt_fail(err, "%s '%.40s...' is longer than 255 bytes", what, name);
  if (name[0] == '.') return rt_fail(err, "%s '%s' must not start with '.'", what, name);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c == '/') return rt_fail(err, "%s '%s' must not contain '/'", what, name);
    if (c < 0x20 || c == 0x7f) return rt_fail(err, "%s '%s' contains a control character", what, name);
  }
  return 0;
}

int rt_paths_entry(const rt_paths *p, rt_place place, const char *name, char *out, rt_error *err) {
  if (rt_paths_check_name(entry_kinds[place], name, err) < 0) return -1;
  if (rt_paths_dir(p, place, out, err) < 0) return -1;
  return rt_fs_path(out, err, "%s/%s/%s", p->home, place_names[place], name);
}
