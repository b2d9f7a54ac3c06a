/* model_store.h — model entities kept in a store (rt_store), for the
 * `dlrun model list|show|create|delete` commands and the wrapper functions.
 *
 *   json_t *m;
 *   int created;
 *   rt_models_get_or_create(&store, &defaults, &m, &created, &err);
 *   ...
 *   json_decref(m);
 *
 * Changes go through rt_models_update, a read-modify-write under the
 * model's lock (file stores), so concurrent runs do not lose updates. */
#ifndef RT_MODEL_STORE_H
#define RT_MODEL_STORE_H

#include <jansson.h>

#include "model_entity.h"
#include "store_backend.h"

/* Reads a model. A missing model is an error naming it and the store;
 * caller owns *model. */
int rt_models_get(const rt_store *s, const char *name, json_t **model, rt_error *err);
/* Reads a model; *model is NULL (and no error) when it does not exist.
 * Caller owns *model. */
int rt_models_find(const rt_store *s, const char *name, json_t **model, rt_error *err);
/* Creates a model from defaults; fails if one of that name exists. Caller
 * owns *model. */
int rt_models_create(const rt_store *s, const rt_model_defaults *d, json_t **model, rt_error *err);
/* Reads the model named d->name, creating it from d when it does not exist
 * yet (*created is then 1). Caller owns *model. */
int rt_models_get_or_create(const rt_store *s, const rt_model_defaults *d, json_t **model, int *created,
                            rt_error *err);

/* Changes a model: edit gets the current entity and may change it in
 * place; the result is validated and written atomically. Caller owns
 * *model (the entity as written) when model is not NULL. */
typedef int (*rt_model_edit)(json_t *model, void *ud, rt_error *err);
int rt_models_update(const rt_store *s, const char *name, rt_model_edit edit, void *ud, json_t **model,
                     rt_error *err);

/* Appends the names of the models in the store to names, sorted. */
int rt_models_list(const rt_store *s, rt_strlist *names, rt_error *err);
/* Deletes a model with all its versions. A missing model is an error. */
int rt_models_delete(const rt_store *s, const char *name, rt_error *err);

#endif
