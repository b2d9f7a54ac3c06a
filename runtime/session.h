/* session.h — what every adapter command does before its own work:
 * build the host, load and validate the adapter, resolve the store and the
 * model, and configure the adapter's `self`. */
#ifndef RT_SESSION_H
#define RT_SESSION_H

#include <limits.h>

#include "cli.h"
#include "host.h"
#include "paths.h"

typedef struct rt_session {
  const rt_args *args;
  rt_host *host;              /* owned */
  rt_paths paths;             /* the embedded store root and its layout */
  char model_name[256];       /* --model NAME, else the adapter's name */
  int model_version;          /* from NAME@vN; 0 = latest */
} rt_session;

/* Opens a session for args->cmd. On failure prints "dlrun: ..." to stderr and
 * returns the exit code to use (RT_EXIT_ERROR or RT_EXIT_USAGE); 0 on success. */
int rt_session_open(rt_session *s, const rt_args *args);
void rt_session_close(rt_session *s);

/* Prints a failure of the session's command as "dlrun: <msg>" and returns RT_EXIT_ERROR. */
int rt_session_fail(const char *msg);

#endif
