/* The run folder: log, failures as they happen, and the final summary. */
#include "run_report.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "signals.h"
#include "version.h"

double rt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Opens failures.jsonl, log.txt and summary.json's temp in the new run
 * folder; on failure some are open, for rt_run_close. */
static int open_files(rt_run *r, rt_error *err) {
  char path[RT_PATH_MAX];
  if (rt_fs_path(path, err, "%s/failures.jsonl", r->dir) < 0) return -1;
  r->failures_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (r->failures_fd < 0) return rt_fail(err, "cannot create %s: %s", path, strerror(errno));
  if (rt_fs_path(path, err, "%s/log.txt", r->dir) < 0) return -1;
  r->log = fopen(path, "a");
  if (!r->log) return rt_fail(err, "cannot create %s: %s", path, strerror(errno));
  if (rt_fs_path(path, err, "%s/summary.json", r->dir) < 0) return -1;
  r->summary_fd = rt_fs_open_temp(path, r->summary_tmp, err);
  return r->summary_fd < 0 ? -1 : 0;
}

int rt_run_open(rt_run *r, const rt_paths *p, const char *command, const char *model, rt_error *err) {
  memset(r, 0, sizeof *r);
  r->failures_fd = r->summary_fd = -1;
  snprintf(r->command, sizeof r->command, "%s", command);
  snprintf(r->model, sizeof r->model, "%s", model);
  char runs[RT_PATH_MAX];
  if (rt_paths_dir(p, RT_PLACE_RUNS, runs, err) < 0) return -1;
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  for (int attempt = 1;; attempt++) {
    int n = attempt == 1 ? snprintf(r->dir, sizeof r->dir, "%s/%s-%s-%s", runs, stamp, command, model)
                         : snprintf(r->dir, sizeof r->dir, "%s/%s-%s-%s-%d", runs, stamp, command, model, attempt);
    if (n >= (int)sizeof r->dir) return rt_fail(err, "run folder name under %s is too long", runs);
    if (mkdir(r->dir, 0755) == 0) break;
    if (errno != EEXIST || attempt > 1000) return rt_fail(err, "cannot create %s: %s", r->dir, strerror(errno));
  }
  if (open_files(r, err) < 0) {
    rt_run_close(r); /* what did open */
    return -1;
  }
  r->started = rt_now();
  return 0;
}

void rt_run_failure(rt_run *r, const char *item_id, const char *filename, const char *stage, const char *message) {
  r->failed++;
  json_t *line = json_pack("{s:s?, s:s?, s:s, s:s}", "item", item_id, "filename", filename, "stage", stage, "message",
                           message ? message : "");
  char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(line);
  if (text && r->failures_fd >= 0) {
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: one write() keeps the line whole */
    ssize_t w = write(r->failures_fd, text, n + 1);
    (void)w; /* a full disk shows up again when summary.json is written */
  }
  free(text);
  if (r->log) fprintf(r->log, "failed %s (%s): %s\n", filename ? filename : item_id, stage, message ? message : "");
}

int rt_run_finish(rt_run *r, json_t *extra, FILE *out, rt_error *err) {
  double seconds = rt_now() - r->started;
  long processed = r->ok + r->failed;
  double rate = seconds > 0 ? (double)processed / seconds : 0;
  json_t *summary = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:f}", "dlrun", DLRUN_VERSION, "command",
                              r->command, "model", r->model, "ok", (json_int_t)r->ok, "failed", (json_int_t)r->failed,
                              "skipped", (json_int_t)r->skipped, "seconds", seconds, "items_per_second", rate);
  if (!summary) return rt_fail(err, "out of memory writing the run summary");
  int sig = rt_signals_stop_requested();
  if (sig) json_object_set_new(summary, "interrupted", json_string(rt_signals_name(sig)));
  if (extra) json_object_update(summary, extra);
  char *text = json_dumps(summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(summary);
  char path[RT_PATH_MAX];
  int rc = text ? 0 : rt_fail(err, "out of memory writing the run summary");
  if (rc == 0 && rt_fs_path(path, err, "%s/summary.json", r->dir) < 0) rc = -1;
  if (rc == 0 && r->summary_fd >= 0) {
    rc = rt_fs_publish_temp(r->summary_fd, r->summary_tmp, path, text, strlen(text), err);
    r->summary_fd = -1;
  } else if (rc == 0) {
    rc = rt_fs_write_report(path, text, strlen(text), err);
  }
  free(text);
  if (out)
    fprintf(out, "%s: %ld ok, %ld failed, %ld skipped in %.1f s (%.1f items/s); run folder %s\n", r->command, r->ok,
            r->failed, r->skipped, seconds, rate, r->dir);
  if (rc < 0) return rc;
  return r->failed > 0 ? RT_EXIT_PARTIAL : RT_EXIT_OK;
}

void rt_run_close(rt_run *r) {
  if (r->failures_fd >= 0) close(r->failures_fd);
  r->failures_fd = -1;
  if (r->summary_fd >= 0) { /* closed before finishing */
    close(r->summary_fd);
    unlink(r->summary_tmp);
  }
  r->summary_fd = -1;
  if (r->log) fclose(r->log);
  r->log = NULL;
}
