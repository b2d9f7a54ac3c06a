/* items.h — the items a run works on, whatever they came from.
 *
 * predict, embed and evaluate work on a list of rt_item: items of a dataset
 * (selected by filters) or loose files, folders and URLs from the command
 * line. Each item knows where its bytes are and where its annotation
 * document goes. */
#ifndef RT_ITEMS_H
#define RT_ITEMS_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

#include "dataset.h"
#include "paths.h"
#include "strlist.h"

typedef struct rt_item {
  char *id;          /* stable id: the document's id, else derived from where the item lives */
  char *filename;    /* the remote path, "/train/00001.png" */
  char *local_path;  /* the file to read */
  char *json_path;   /* its annotation document; NULL when results go to a stream (--out -) */
  char *mimetype;
  long width, height; /* original size; -1 while unknown */
  long long size;    /* bytes; -1 while unknown */
  json_t *metadata;  /* the document's metadata.user, or NULL; owned */
  /* An item that failed while it was listed (its document does not parse,
   * its URL does not download) is still listed, so that the run records it
   * in failures.jsonl and goes on with the rest: */
  const char *error_stage; /* static: "read" or "download"; NULL when the item is fine */
  char *error;             /* owned: the message, naming the file or URL and the reason */
} rt_item;

typedef struct rt_item_list {
  rt_item *v;
  size_t n, cap;
} rt_item_list;

/* Appends an item; the strings are copied (json_path and metadata may be NULL). */
int rt_items_add(rt_item_list *l, const char *id, const char *filename, const char *local_path, const char *json_path,
                 const char *mimetype, long long size, rt_error *err);
void rt_items_free(rt_item_list *l);

/* Loose items from the command line: files, folders (walked recursively, in
 * sorted order) and http(s) URLs (downloaded into download_dir). A file's
 * remote path is "/<name>", a folder's files "/<path inside the folder>",
 * a URL's "/<last path segment>". Documents go to out_dir/<remote path
 * with .json> when out_dir is not NULL. A URL that does not download is
 * listed with its error (stage "download"); a path that does not exist is
 * an error. */
int rt_items_from_args(rt_item_list *l, const char *const *args, int nargs, const char *out_dir,
                       const char *download_dir, rt_error *err);

/* The items of a dataset that pass every filter (ANDed; see
 * dataset_filter.h). Ids, sizes and user metadata come from their json/
 * documents; an item without one gets an id derived from the dataset id
 * and its remote path, and so does an item whose document does not parse,
 * which is listed with its error (stage "read"). */
int rt_items_from_dataset(rt_item_list *l, const rt_dataset *ds, const rt_filter *const *filters, size_t nfilters,
                          rt_error *err);

/* Pushes the items at positions idx[0..n-1] as a Lua list of item records:
 * {id, name, filename, local_path, mimetype, width, height, size, metadata}. */
void rt_items_push(lua_State *L, const rt_item_list *l, const size_t *idx, size_t n);

#endif
