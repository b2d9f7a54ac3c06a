/* progress.h — progress of long work on stderr.
 *
 * On a terminal: one bar redrawn in place (done/total, items/s, ETA,
 * failed). Otherwise: a plain line every few seconds (DLRUN_PROGRESS_INTERVAL,
 * default 5), so logs of batch jobs show that work goes on. --quiet: nothing. */
#ifndef RT_PROGRESS_H
#define RT_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct rt_progress {
  FILE *out;         /* stderr, or NULL when quiet */
  bool tty;
  char label[32];
  long total;        /* 0 when unknown */
  long done, failed;
  double started, last_draw, interval;
} rt_progress;

void rt_progress_start(rt_progress *p, const char *label, long total, bool quiet);
/* Records the counts; redraws when due (at most 10 times a second on a tty). */
void rt_progress_update(rt_progress *p, long done, long failed);
/* Draws the final state and ends the line, once: later calls do nothing. */
void rt_progress_finish(rt_progress *p);

#endif
