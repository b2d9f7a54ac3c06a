/* Progress bar on terminals, periodic lines elsewhere. */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_report.h"

void rt_progress_start(rt_progress *p, const char *label, long total, bool quiet) {
  memset(p, 0, sizeof *p);
  p->out = quiet ? NULL : stderr;
  p->tty = !quiet && isatty(STDERR_FILENO);
  snprintf(p->label, sizeof p->label, "%s", label);
  p->total = total;
  p->started = p->last_draw = rt_now();
  const char *env = getenv("DLRUN_PROGRESS_INTERVAL");
  p->interval = p->tty ? 0.1 : (env && atof(env) > 0 ? atof(env) : 5.0);
}

static void format_duration(char *buf, size_t n, double s) {
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void draw(rt_progress *p, double now, bool final) {
  double elapsed = now - p->started;
  double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
  char eta[32] = "?";
  if (p->total > 0 && rate > 0) format_duration(eta, sizeof eta, (double)(p->total - p->done) / rate);
  if (final) format_duration(eta, sizeof eta, elapsed);
  const char *eta_label = final ? "took" : "ETA";
  if (p->tty) {
    char bar[31];
    int width = 30, filled = p->total > 0 ? (int)((double)width * (double)p->done / (double)p->total) : 0;
    if (filled > width) filled = width;
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '.', (size_t)(width - filled));
    bar[width] = '\0';
    fprintf(p->out, "\r\033[K%s [%s] %ld/%ld  %.1f items/s  %s %s  failed %ld%s", p->label, bar, p->done, p->total,
            rate, eta_label, eta, p->failed, final ? "\n" : "");
  } else {
    fprintf(p->out, "%s: %ld/%ld items, %.1f items/s, %s %s, failed %ld\n", p->label, p->done, p->total, rate,
            eta_label, eta, p->failed);
  }
  fflush(p->out);
  p->last_draw = now;
}

void rt_progress_update(rt_progress *p, long done, long failed) {
  p->done = done;
  p->failed = failed;
  if (!p->out) return;
  double now = rt_now();
  if (now - p->last_draw >= p->interval) draw(p, now, false);
}

void rt_progress_finish(rt_progress *p) {
  if (p->out) draw(p, rt_now(), true);
  p->out = NULL; /* finished: later calls draw nothing */
}
