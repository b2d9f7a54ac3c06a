/* model_state.h — the state load() left on an adapter's `self`, kept across
 * hot reloads (--watch) so that a new version of the adapter can run without
 * loading the model again.
 *
 * Every reload builds a fresh lua_State, and Lua values cannot move between
 * states. So after load() returns, rt_model_state_keep exports the fields
 * load set (dl.watch.export): plain data (tables, strings, numbers, booleans,
 * shared and cyclic tables included) is deep-copied into a private vault
 * state, and tensors travel as native headers sharing their storage, so
 * weights are never copied. Once the old state is closed and a fresh one has
 * loaded the new code, rt_model_state_put copies the data in and rebuilds the
 * fields (dl.watch.import): tensors get new headers over the same storage,
 * and tables get their metatables found again by path in the new code, so
 * objects pick up the methods of the new version.
 *
 * A field holding something that cannot move (a function, a coroutine, a
 * userdata, a stale batch view, a metatable nothing names) makes keep fail
 * with the reason; the caller then runs load() again on every reload. */
#ifndef RT_MODEL_STATE_H
#define RT_MODEL_STATE_H

#include <lua.h>
#include <stdbool.h>

#include "host.h"

typedef struct rt_model_state {
  lua_State *vault; /* private, owned: holds the exported state at stack index 1; NULL when empty */
  int nfields;      /* read-only: how many fields of self are kept */
} rt_model_state;

/* Keeps what load set on the adapter of h. before_at is the stack index of
 * dl.watch.fields(self) taken before load ran. Replaces what was kept. On
 * failure nothing is kept and err says which field could not move. */
int rt_model_state_keep(rt_model_state *ms, rt_host *h, int before_at, rt_error *err);

/* Sets the kept fields on the adapter of h (a fresh state). On failure (a
 * metatable the new code no longer has, ...) err says why and self is left
 * as it was. */
int rt_model_state_put(const rt_model_state *ms, rt_host *h, rt_error *err);

/* True when a state is kept. */
bool rt_model_state_held(const rt_model_state *ms);

/* Drops the kept state: its tensor headers are released, the vault closed. */
void rt_model_state_clear(rt_model_state *ms);

#endif
