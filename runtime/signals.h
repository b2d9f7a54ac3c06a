/* signals.h — graceful interruption of long runs.
 *
 * The first SIGINT or SIGTERM only raises a flag: the command finishes the
 * current batch, flushes what it wrote and exits resumable. A second one
 * ends the process at once (every file on disk is still whole: writes are
 * atomic). */
#ifndef RT_SIGNALS_H
#define RT_SIGNALS_H

void rt_signals_install(void);
/* The signal that asked to stop (SIGINT, SIGTERM), or 0. */
int rt_signals_stop_requested(void);
/* "SIGINT" or "SIGTERM", for messages and reports. */
const char *rt_signals_name(int sig);

#endif
