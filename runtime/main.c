/* dlrun's entry point: parse the command line, run the command. */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv) {
  rt_args args;
  int rc = rt_cli_parse(argc, argv, &args, stdout, stderr);
  if (rc == RT_CLI_DONE) {
    rt_args_free(&args);
    return RT_EXIT_OK;
  }
  if (rc == RT_EXIT_OK) rc = args.cmd->run(&args);
  rt_args_free(&args);
  return rc;
}
