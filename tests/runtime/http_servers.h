/* http_servers.h — runs the real HTTP servers of tests/http (nginx with
 * WebDAV, and the fault server in front of it) for one test binary.
 * Header-only. The servers stop in test_servers_stop, and by themselves if
 * the test binary dies (servers.py watches its pid). Tests run from the
 * repository root, as tests/run.sh does. */
#ifndef TESTS_RUNTIME_HTTP_SERVERS_H
#define TESTS_RUNTIME_HTTP_SERVERS_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "http.h"
#include "runtime/tmpdir.h"

typedef struct test_servers {
  char state[RT_PATH_MAX]; /* the servers' temp folder */
  char root[RT_PATH_MAX];  /* what nginx serves */
  int nginx_port, fault_port;
} test_servers;

static inline int test_servers_start(test_servers *s) {
  char cmd[3 * RT_PATH_MAX];
  if (tmpdir_make(s->state) < 0) return -1;
  rt_fs_path(s->root, NULL, "%s/root", s->state);
  snprintf(cmd, sizeof cmd, "bash tests/http/start.sh '%s' %d > '%s/ports'", s->state, (int)getpid(),
           s->state);
  if (system(cmd) != 0) {
    fprintf(stderr, "# cannot start the test HTTP servers (run from the repository root)\n");
    return -1;
  }
  char path[RT_PATH_MAX];
  rt_fs_path(path, NULL, "%s/ports", s->state);
  FILE *f = fopen(path, "r");
  int ok = f && fscanf(f, "%d %d", &s->nginx_port, &s->fault_port) == 2;
  if (f) fclose(f);
  return ok ? 0 : -1;
}

static inline void test_servers_stop(test_servers *s) {
  char cmd[3 * RT_PATH_MAX];
  snprintf(cmd, sizeof cmd, "bash tests/http/stop.sh '%s'", s->state);
  if (system(cmd) != 0) fprintf(stderr, "# stopping the test HTTP servers failed\n");
  tmpdir_remove(s->state);
}

/* How many METHOD requests the fault server saw for path ("/fail/2/x"). */
static inline long test_servers_hits(const test_servers *s, const char *method, const char *path) {
  char url[RT_PATH_MAX + 64], *text;
  size_t len;
  rt_error err;
  rt_http_options o;
  rt_http_options_default(&o);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/_hits/%s%s", s->fault_port, method, path);
  if (rt_http_get_buffer(url, &text, &len, &o, NULL, &err) < 0) return -1;
  long n = strtol(text, NULL, 10);
  free(text);
  return n;
}

#endif
