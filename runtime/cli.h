/* cli.h — the command table and the option parser of `dlrun`.
 *
 * Every command is one rt_command: its words ("predict", "model list"), its
 * usage line, the option groups it accepts and the function that runs it.
 * The parser turns argv into an rt_args; help text is generated from the same
 * tables, so every option a command accepts is documented in its --help. */
#ifndef RT_CLI_H
#define RT_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes (spec §1), printed by every --help. */
enum {
  RT_EXIT_OK = 0,       /* all done */
  RT_EXIT_ERROR = 1,    /* an error stopped the run */
  RT_EXIT_USAGE = 2,    /* unknown option, missing argument */
  RT_EXIT_PARTIAL = 3,  /* the run completed but some items failed */
};

typedef enum rt_opt_kind {
  RT_OPT_FLAG,   /* --resume */
  RT_OPT_VALUE,  /* --model NAME (last one wins) */
  RT_OPT_LIST,   /* --filter F, repeatable; all values kept in order */
} rt_opt_kind;

typedef struct rt_option {
  const char *name;     /* long name, without the leading "--" */
  char short_name;      /* one-letter alias, or 0 */
  rt_opt_kind kind;
  const char *metavar;  /* shown in help: "DIR", "K=V"; NULL for flags */
  const char *help;     /* one line */
} rt_option;

/* A named group of options, shared by several commands. The array ends with
 * an entry whose name is NULL. */
typedef struct rt_option_group {
  const char *title;
  const rt_option *options;
} rt_option_group;

struct rt_args;

typedef struct rt_command {
  const char *name;          /* "predict", "model list" */
  const char *usage;         /* after "dlrun ": "ADAPTER.lua predict [options] [ITEM...]" */
  const char *summary;       /* one line for the command list */
  const char *details;       /* paragraph(s) for --help, may be NULL */
  bool needs_adapter;        /* invoked as `dlrun ADAPTER.lua NAME` */
  const char *const *requires; /* user functions the adapter must define, NULL-terminated */
  const rt_option_group *const *groups; /* NULL-terminated */
  int min_positional, max_positional;   /* max -1: unlimited */
  bool passthrough;          /* every argument after the command goes to run() untouched */
  int (*run)(const struct rt_args *args);
} rt_command;

typedef struct rt_arg_value {
  const rt_option *opt;
  int count;            /* flags: times given; values: number kept */
  const char **values;  /* owned by rt_args; points into argv */
} rt_arg_value;

struct rt_watch;

typedef struct rt_args {
  const rt_command *cmd;
  const char *adapter;     /* the ADAPTER.lua argument, or NULL */
  int npositional;
  const char **positional; /* points into argv */
  int nset;
  rt_arg_value *set;       /* one entry per option given */
  struct rt_watch *watch;  /* the --watch loop re-running this command (watch.h), or NULL */
} rt_args;

/* The table of commands, NULL-terminated (commands.c). */
extern const rt_command *const rt_commands[];

/* Parses argv into *args. Returns RT_EXIT_OK, or an exit code after printing
 * to `out` (help, version: -1 meaning "exit 0 now"; usage errors: RT_EXIT_USAGE). */
enum { RT_CLI_DONE = -1 };
int rt_cli_parse(int argc, char **argv, rt_args *args, FILE *out, FILE *errout);
void rt_args_free(rt_args *args);

/* Accessors. Asking for an option the command does not declare is a
 * programming error and aborts, so typos cannot silently read nothing. */
const char *rt_args_value(const rt_args *args, const char *name); /* last value or NULL */
int rt_args_list(const rt_args *args, const char *name, const char *const **values);
bool rt_args_flag(const rt_args *args, const char *name);
/* True when the command declares the option (asking never aborts). */
bool rt_args_declares(const rt_args *args, const char *name);

/* Prints the full help of a command, or of dlrun when cmd is NULL. */
void rt_cli_help(const rt_command *cmd, FILE *out);

/* Prints "dlrun: <msg>" plus a hint to --help, returns RT_EXIT_USAGE. */
int rt_cli_usage_error(const rt_command *cmd, FILE *errout, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
