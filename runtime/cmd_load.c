/* `dlrun ADAPTER.lua load`: load_from_model. */
#include <stdio.h>

#include "commands.h"
#include "session.h"

int rt_cmd_load(const rt_args *args) {
  rt_session s;
  int rc = rt_session_open(&s, args, NULL);
  if (rc == 0) rc = rt_session_load_model(&s);
  if (rc == 0) {
    if (s.loaded.version)
      printf("loaded %s@v%d into %s\n", s.model_name, s.loaded.version, s.loaded.path);
    else
      printf("loaded %s (no saved version yet) into %s\n", s.model_name, s.loaded.path);
  }
  rt_session_close(&s);
  return rc;
}
