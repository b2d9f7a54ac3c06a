/* adapter.h — loading an adapter file into a host and preparing its `self`.
 *
 * The adapter file runs as a chunk named "@<path>", so every error it raises
 * reads "<path>:<line>: ...". It must return a dl.Adapter; the command then
 * checks that the user functions it needs exist before any work starts. */
#ifndef RT_ADAPTER_H
#define RT_ADAPTER_H

#include <stdbool.h>

#include "host.h"

/* Runs the adapter file and keeps the returned dl.Adapter in h->adapter_ref.
 * `command` and `requires` (NULL-terminated user function names) are checked
 * right away. On failure err holds the message, with a traceback when the
 * chunk raised. */
int rt_adapter_load(rt_host *h, const char *path, const char *command, const char *const *requires, rt_error *err);

/* Fills self.configuration, labels, id_to_label_map, label_to_id_map,
 * model_entity and log. entity_json is the model entity as JSON text (may be
 * NULL); overrides are "key=value" strings from --config, applied last. */
int rt_adapter_configure(rt_host *h, const char *entity_json, const char *const *overrides, int noverrides,
                         rt_error *err);

/* Pushes the adapter table onto h's stack. */
void rt_adapter_push(rt_host *h);

/* True when the adapter defines the user function fn. */
bool rt_adapter_defines(rt_host *h, const char *fn);

/* Calls self:<fn>(...) with the nargs values on top of the stack, through
 * the traceback pcall. On error err holds "file:line: msg\nstack traceback..." */
int rt_adapter_call(rt_host *h, const char *fn, int nargs, int nresults, rt_error *err);

#endif
