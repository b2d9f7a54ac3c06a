/* `dlrun ADAPTER.lua save`: save_to_model. The model is loaded first (so the
 * adapter holds its state), then A:save(tmpdir, opts) fills a scratch
 * folder that is packed and uploaded as the model's next version. */
#include <stdio.h>

#include "adapter.h"
#include "commands.h"
#include "session.h"

int rt_cmd_save(const rt_args *args) {
  rt_session s;
  int rc = rt_session_open(&s, args, NULL);
  if (rc == 0 && rt_adapter_defines(s.host, "load")) rc = rt_session_load_model(&s);
  rt_saved_version v;
  if (rc == 0) rc = rt_session_save_model(&s, &v);
  if (rc == 0) printf("saved %s@v%d (%lld bytes, sha256 %.12s...)\n", s.model_name, v.version, v.size, v.sha256);
  rt_session_close(&s);
  return rc;
}
