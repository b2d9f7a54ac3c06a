/* SIGINT/SIGTERM: stop after the current batch; twice: stop now. */
#include "signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
  if (stop_signal) {
    /* Second request: give up on the graceful stop. */
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  stop_signal = sig;
  static const char msg[] = "\ndlrun: stopping after the current batch (press Ctrl-C again to stop now)\n";
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)w;
}

void rt_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int rt_signals_stop_requested(void) { return stop_signal; }

const char *rt_signals_name(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }
