/* run_report.h — the run folder of a command: runs/<time>-<command>-<model>/.
 *
 * It holds log.txt, failures.jsonl (one line per failed item, appended and
 * flushed as failures happen, so a killed run keeps them) and, at the end,
 * summary.json. The counters feed the printed summary. */
#ifndef RT_RUN_REPORT_H
#define RT_RUN_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "paths.h"

typedef struct rt_run {
  char dir[RT_PATH_MAX];  /* read-only: the run folder */
  char command[32];       /* read-only */
  char model[256];        /* read-only */
  long ok, failed, skipped; /* public: counted by the command */
  double started;         /* read-only: monotonic seconds */
  int failures_fd;        /* private: failures.jsonl, O_APPEND */
  FILE *log;              /* public: log.txt, for dl.log and the host */
  /* private: summary.json's temp file, made at open so that the end of a
   * run only writes and renames it (a new file took up to 0.8 ms on a busy
   * file system, a tenth of a one-image predict); -1 once used */
  int summary_fd;
  char summary_tmp[RT_PATH_MAX];
} rt_run;

/* Creates the run folder (a suffix -2, -3 ... when the name is taken). */
int rt_run_open(rt_run *r, const rt_paths *p, const char *command, const char *model, rt_error *err);

/* Records one failed item: {"item", "filename", "stage", "message"} as one
 * line of failures.jsonl, written with a single append. Counts it. */
void rt_run_failure(rt_run *r, const char *item_id, const char *filename, const char *stage, const char *message);

/* Writes summary.json (counts, items/s, seconds, "interrupted": "SIGINT" or
 * "SIGTERM" after such a stop request, plus the fields of extra, which may
 * be NULL) atomically, and prints one summary line to out.
 * Returns the exit code the counts call for (0, or 3 when items failed), or
 * -1 when summary.json cannot be written. */
int rt_run_finish(rt_run *r, json_t *extra, FILE *out, rt_error *err);

/* Closes the files; the folder stays. */
void rt_run_close(rt_run *r);

/* Monotonic clock in seconds. */
double rt_now(void);

#endif
