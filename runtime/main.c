/* dlrun's entry point: parse the command line, run the command. */
#include <stdio.h>

#include "cli.h"
#include "watch.h"

int main(int argc, char **argv) {
  rt_args args;
  int rc = rt_cli_parse(argc, argv, &args, stdout, stderr);
  if (rc == RT_CLI_DONE) {
    rt_args_free(&args);
    return RT_EXIT_OK;
  }
  if (rc == RT_EXIT_OK) rc = rt_watch_wanted(&args) ? rt_watch_run(&args) : args.cmd->run(&args);
  rt_args_free(&args);
  return rc;
}
