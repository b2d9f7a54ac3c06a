/* The answer of commands that are declared but not implemented yet. An
 * adapter command still loads and validates its adapter first, so adapter
 * errors show up the same way they will once the command lands. */
#include <stdio.h>

#include "commands.h"
#include "session.h"

int rt_cmd_pending(const rt_args *args) {
  if (args->cmd->needs_adapter) {
    rt_session s;
    int rc = rt_session_open(&s, args, NULL);
    rt_session_close(&s);
    if (rc != 0) return rc;
  }
  fprintf(stderr, "dlrun: '%s' is not implemented yet in this version of dlrun\n", args->cmd->name);
  return RT_EXIT_ERROR;
}
