/* `dlrun similar --model M (ITEM | --vector FILE | --all) [-k N]`: cosine
 * nearest neighbours in a model's feature set, through sgemm. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dl_native.h"
#include "feature_set.h"

/* A query vector from a file: a JSON array of numbers, or raw float32. */
static int read_vector(const char *path, int64_t dim, float *out, rt_error *err) {
  char *data;
  size_t len;
  if (rt_fs_read_file(path, &data, &len, err) < 0) return -1;
  int rc = 0;
  size_t skip = strspn(data, " \t\r\n");
  if (data[skip] == '[') {
    json_error_t je;
    json_t *a = json_loadb(data, len, 0, &je);
    if (!json_is_array(a)) {
      rc = rt_fail(err, "%s: not a JSON array of numbers (%s)", path, a ? "not an array" : je.text);
    } else if ((int64_t)json_array_size(a) != dim) {
      rc = rt_fail(err, "%s holds %zu numbers, but the feature set's vectors have %lld", path, json_array_size(a),
                   (long long)dim);
    } else {
      for (int64_t j = 0; rc == 0 && j < dim; j++) {
        json_t *x = json_array_get(a, (size_t)j);
        if (!json_is_number(x)) rc = rt_fail(err, "%s: value %lld is not a number", path, (long long)j + 1);
        out[j] = (float)json_number_value(x);
      }
    }
    json_decref(a);
  } else if (len != (size_t)dim * sizeof(float)) {
    rc = rt_fail(err, "%s has %zu bytes: a raw float32 vector of %lld values has %lld (or give a JSON array)", path,
                 len, (long long)dim, (long long)dim * 4);
  } else {
    memcpy(out, data, len);
  }
  free(data);
  return rc;
}

static int parse_k(const rt_args *args, int64_t *k) {
  const char *v = rt_args_value(args, "k");
  *k = 10;
  if (!v) return 0;
  char *end;
  long n = strtol(v, &end, 10);
  if (end == v || *end || n < 1 || n > 100000) return -1;
  *k = n;
  return 0;
}

static void print_neighbours(const rt_feature_set *fs, int64_t query, const int64_t *idx, const float *scores,
                             int64_t k, bool json) {
  if (json) {
    json_t *list = json_array();
    for (int64_t j = 0; j < k && idx[j] >= 0; j++)
      json_array_append_new(list, json_pack("{s:s, s:s, s:f}", "id", fs->ids[idx[j]], "filename",
                                            fs->filenames[idx[j]], "score", (double)scores[j]));
    json_t *line = query >= 0 ? json_pack("{s:s, s:s, s:o}", "id", fs->ids[query], "filename", fs->filenames[query],
                                          "neighbours", list)
                              : json_pack("{s:o}", "neighbours", list);
    json_dumpf(line, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);
    json_decref(line);
    return;
  }
  if (query >= 0) printf("neighbours of %s (%s):\n", fs->filenames[query], fs->ids[query]);
  printf("%5s  %8s  %-24s  %s\n", "rank", "cosine", "id", "filename");
  for (int64_t j = 0; j < k && idx[j] >= 0; j++)
    printf("%5lld  %8.4f  %-24s  %s\n", (long long)j + 1, (double)scores[j], fs->ids[idx[j]], fs->filenames[idx[j]]);
}

int rt_cmd_similar(const rt_args *args) {
  const char *model = rt_args_value(args, "model");
  const char *vector_file = rt_args_value(args, "vector");
  bool all = rt_args_flag(args, "all"), json = rt_args_flag(args, "json");
  int64_t k;
  if (!model) return rt_cli_usage_error(args->cmd, stderr, "--model NAME is required");
  if (parse_k(args, &k) < 0) return rt_cli_usage_error(args->cmd, stderr, "-k must be a count from 1 to 100000");
  int queries = (args->npositional > 0) + (vector_file != NULL) + all;
  if (queries != 1) return rt_cli_usage_error(args->cmd, stderr, "give exactly one of ITEM, --vector FILE or --all");
  rt_error err;
  rt_paths paths;
  rt_feature_set fs;
  if (rt_paths_init(&paths, rt_args_value(args, "home"), &err) < 0 ||
      rt_features_open_existing(&fs, &paths, model, &err) < 0) {
    fprintf(stderr, "dlrun: %s\n", err.msg);
    return RT_EXIT_ERROR;
  }
  int rc = RT_EXIT_OK;
  float *base = NULL, *query = NULL, *query_buf = NULL; /* query points into base, or is query_buf */
  int64_t *idx = NULL;
  float *scores = NULL;
  int64_t nq = all ? fs.count : 1, self = -1, self_offset = -1;
  if (fs.count == 0 || rt_features_read_vectors(&fs, &base, &err) < 0) {
    if (fs.count == 0) snprintf(err.msg, sizeof err.msg, "feature set '%s' is empty", model);
    rc = RT_EXIT_ERROR;
  }
  if (rc == 0) {
    dl_similarity_normalize(base, fs.count, fs.dim);
    idx = malloc(sizeof *idx * (size_t)(nq * k));
    scores = malloc(sizeof *scores * (size_t)(nq * k));
    if (!idx || !scores) rc = RT_EXIT_ERROR, snprintf(err.msg, sizeof err.msg, "out of memory");
  }
  if (rc == 0 && all) {
    query = base;
    self_offset = 0;
  } else if (rc == 0 && vector_file) {
    query = query_buf = malloc(sizeof *query * (size_t)fs.dim);
    if (!query || read_vector(vector_file, fs.dim, query, &err) < 0) rc = RT_EXIT_ERROR;
    if (rc == 0) dl_similarity_normalize(query, 1, fs.dim);
  } else if (rc == 0) {
    const char *item = args->positional[0];
    self = rt_features_find(&fs, item);
    for (int64_t i = 0; self < 0 && i < fs.count; i++)
      if (strcmp(fs.filenames[i], item) == 0) self = i;
    if (self < 0) {
      snprintf(err.msg, sizeof err.msg, "item '%s' is not in feature set '%s' (give its id or its remote path)", item,
               model);
      rc = RT_EXIT_ERROR;
    } else {
      query = base + self * fs.dim;
      self_offset = self;
    }
  }
  dl_error e;
  if (rc == 0 && dl_similarity_topk(query, nq, base, fs.count, fs.dim, k, self_offset, idx, scores, &e) < 0) {
    snprintf(err.msg, sizeof err.msg, "%s", e.msg);
    rc = RT_EXIT_ERROR;
  }
  if (rc == 0) {
    for (int64_t q = 0; q < nq; q++)
      print_neighbours(&fs, all ? q : self, idx + q * k, scores + q * k, k, json || all);
  } else {
    fprintf(stderr, "dlrun: similar: %s\n", err.msg);
  }
  free(query_buf);
  free(base);
  free(idx);
  free(scores);
  rt_features_close(&fs);
  return rc;
}
