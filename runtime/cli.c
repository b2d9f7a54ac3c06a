/* The option parser and the help printer, both driven by the command table. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A command group is the first word of multi-word commands ("model list"). */
static bool is_group(const char *word) {
  size_t n = strlen(word);
  for (int i = 0; rt_commands[i]; i++)
    if (strncmp(rt_commands[i]->name, word, n) == 0 && rt_commands[i]->name[n] == ' ') return true;
  return false;
}

static const rt_command *find_command(const char *name) {
  for (int i = 0; rt_commands[i]; i++)
    if (strcmp(rt_commands[i]->name, name) == 0) return rt_commands[i];
  return NULL;
}

static const rt_option *find_option(const rt_command *cmd, const char *name, size_t len, char short_name) {
  for (int g = 0; cmd->groups && cmd->groups[g]; g++) {
    for (const rt_option *o = cmd->groups[g]->options; o->name; o++) {
      if (short_name ? o->short_name == short_name : (strlen(o->name) == len && strncmp(o->name, name, len) == 0))
        return o;
    }
  }
  return NULL;
}

static void print_exit_codes(FILE *out) {
  fputs(
      "\nExit codes:\n"
      "  0  all done\n"
      "  1  an error stopped the run (adapter failed to load, I/O error, ...)\n"
      "  2  usage error (unknown option, missing argument)\n"
      "  3  the run completed but some items failed (see failures.jsonl in the run folder)\n"
      "  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM after the current batch or epoch;\n"
      "     predict, embed and evaluate continue with --resume\n",
      out);
}

static void print_command_list(FILE *out, bool adapter_commands, const char *group) {
  for (int i = 0; rt_commands[i]; i++) {
    const rt_command *c = rt_commands[i];
    if (c->needs_adapter != adapter_commands) continue;
    if (group && strncmp(c->name, group, strlen(group)) != 0) continue;
    fprintf(out, "  %-16s %s\n", c->name, c->summary);
  }
}

void rt_cli_help(const rt_command *cmd, FILE *out) {
  if (!cmd) {
    fputs(
        "dlrun " DLRUN_VERSION " — run Lua model adapters at native speed\n\n"
        "Usage:\n"
        "  dlrun ADAPTER.lua COMMAND [options] [ITEM...]\n"
        "  dlrun COMMAND [options]\n"
        "  dlrun COMMAND --help        options of one command\n\n"
        "Adapter commands (the adapter's user functions run inside dlrun's LuaJIT):\n",
        out);
    print_command_list(out, true, NULL);
    fputs("\nOther commands:\n", out);
    print_command_list(out, false, NULL);
    fputs(
        "\nOptions:\n"
        "  -h, --help       show this help\n"
        "  -V, --version    print the version\n\n"
        "Environment:\n"
        "  DATALOOP_PATH    the embedded store (default ~/.dataloop; --home overrides)\n"
        "  DLRUN_LUA_DIR    where the `dl` Lua package lives (default: next to the binary)\n",
        out);
    print_exit_codes(out);
    fputs("\nDocumentation: docs/ in the source tree (tutorial, CLI and dl API reference).\n", out);
    return;
  }
  fprintf(out, "Usage: dlrun %s\n\n%s\n", cmd->usage, cmd->summary);
  if (cmd->details) fprintf(out, "\n%s\n", cmd->details);
  if (cmd->requires && cmd->requires[0]) {
    fputs("\nThe adapter must define:", out);
    for (int i = 0; cmd->requires[i]; i++) fprintf(out, " %s", cmd->requires[i]);
    fputc('\n', out);
  }
  for (int g = 0; cmd->groups && cmd->groups[g]; g++) {
    fprintf(out, "\n%s:\n", cmd->groups[g]->title);
    for (const rt_option *o = cmd->groups[g]->options; o->name; o++) {
      char left[64];
      snprintf(left, sizeof left, "%c%c%s--%s%s%s%s", o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
               o->short_name ? ", " : "  ", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "",
               o->kind == RT_OPT_LIST ? " ..." : "");
      fprintf(out, "  %-28s %s\n", left, o->help);
    }
  }
  fputs("\n  -h, --help                   show this help\n", out);
  print_exit_codes(out);
}

int rt_cli_usage_error(const rt_command *cmd, FILE *errout, const char *fmt, ...) {
  va_list ap;
  fputs("dlrun: ", errout);
  va_start(ap, fmt);
  vfprintf(errout, fmt, ap);
  va_end(ap);
  if (cmd)
    fprintf(errout, "\nTry 'dlrun %s --help'.\n", cmd->name);
  else
    fputs("\nTry 'dlrun --help'.\n", errout);
  return RT_EXIT_USAGE;
}

static rt_arg_value *slot_for(rt_args *args, const rt_option *opt) {
  for (int i = 0; i < args->nset; i++)
    if (args->set[i].opt == opt) return &args->set[i];
  rt_arg_value *set = realloc(args->set, (size_t)(args->nset + 1) * sizeof *set);
  if (!set) abort();
  args->set = set;
  rt_arg_value *v = &set[args->nset++];
  *v = (rt_arg_value){.opt = opt};
  return v;
}

static void add_value(rt_args *args, const rt_option *opt, const char *value) {
  rt_arg_value *v = slot_for(args, opt);
  if (opt->kind == RT_OPT_FLAG) {
    v->count++;
    return;
  }
  const char **vals = realloc(v->values, (size_t)(v->count + 1) * sizeof *vals);
  if (!vals) abort();
  v->values = vals;
  vals[v->count++] = value;
}

static void add_positional(rt_args *args, const char *value) {
  const char **pos = realloc(args->positional, (size_t)(args->npositional + 1) * sizeof *pos);
  if (!pos) abort();
  args->positional = pos;
  pos[args->npositional++] = value;
}

/* Parses the options and positionals after the command word(s). */
static int parse_rest(const rt_command *cmd, int argc, char **argv, int i, rt_args *args, FILE *out, FILE *errout) {
  bool only_positional = false;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (cmd->passthrough) {
      if (args->npositional == 0 && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
        rt_cli_help(cmd, out);
        return RT_CLI_DONE;
      }
      add_positional(args, a);
      continue;
    }
    if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
      add_positional(args, a);
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_positional = true;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      rt_cli_help(cmd, out);
      return RT_CLI_DONE;
    }
    const rt_option *opt;
    const char *inline_value = NULL;
    if (a[1] == '-') {
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      opt = find_option(cmd, name, len, 0);
      if (!opt) return rt_cli_usage_error(cmd, errout, "unknown option '--%.*s' for '%s'", (int)len, name, cmd->name);
      if (eq) inline_value = eq + 1;
    } else {
      opt = a[2] == '\0' ? find_option(cmd, NULL, 0, a[1]) : NULL;
      if (!opt) return rt_cli_usage_error(cmd, errout, "unknown option '%s' for '%s'", a, cmd->name);
    }
    if (opt->kind == RT_OPT_FLAG) {
      if (inline_value) return rt_cli_usage_error(cmd, errout, "option '--%s' takes no value", opt->name);
      add_value(args, opt, NULL);
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) return rt_cli_usage_error(cmd, errout, "option '--%s' needs a value (%s)", opt->name, opt->metavar);
      inline_value = argv[++i];
    }
    add_value(args, opt, inline_value);
  }
  if (args->npositional < cmd->min_positional)
    return rt_cli_usage_error(cmd, errout, "'%s' needs more arguments: dlrun %s", cmd->name, cmd->usage);
  if (cmd->max_positional >= 0 && args->npositional > cmd->max_positional)
    return rt_cli_usage_error(cmd, errout, "unexpected argument '%s' for '%s'", args->positional[cmd->max_positional],
                              cmd->name);
  return RT_EXIT_OK;
}

int rt_cli_parse(int argc, char **argv, rt_args *args, FILE *out, FILE *errout) {
  memset(args, 0, sizeof *args);
  if (argc < 2) return rt_cli_usage_error(NULL, errout, "missing a command");
  const char *first = argv[1];
  if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 || strcmp(first, "help") == 0) {
    const rt_command *c = argc > 2 ? find_command(argv[2]) : NULL;
    if (argc > 2 && !c) return rt_cli_usage_error(NULL, errout, "no command '%s' to explain", argv[2]);
    rt_cli_help(c, out);
    return RT_CLI_DONE;
  }
  if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
    fprintf(out, "dlrun %s\n", DLRUN_VERSION);
    return RT_CLI_DONE;
  }
  int next = 2;
  const rt_command *cmd;
  bool help_next = argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
  if (ends_with(first, ".lua")) {
    if (help_next) { /* dlrun ADAPTER.lua --help: the commands an adapter runs */
      rt_cli_help(NULL, out);
      return RT_CLI_DONE;
    }
    if (argc < 3)
      return rt_cli_usage_error(NULL, errout, "missing a command after '%s' (predict, embed, train, evaluate, load, save)",
                                first);
    cmd = find_command(argv[2]);
    if (!cmd || !cmd->needs_adapter)
      return rt_cli_usage_error(NULL, errout,
                                "'%s' is not an adapter command (predict, embed, train, evaluate, load, save)", argv[2]);
    args->adapter = first;
    next = 3;
  } else if (first[0] == '-') {
    return rt_cli_usage_error(NULL, errout, "unknown option '%s'", first);
  } else if (is_group(first)) {
    if (argc < 3 || argv[2][0] == '-') {
      bool help = argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
      FILE *f = help ? out : errout;
      fprintf(f, "Usage: dlrun %s SUBCOMMAND [options]\n\nSubcommands:\n", first);
      print_command_list(f, false, first);
      if (help) return RT_CLI_DONE;
      return rt_cli_usage_error(NULL, errout, "missing a subcommand after '%s'", first);
    }
    char name[64];
    snprintf(name, sizeof name, "%s %s", first, argv[2]);
    cmd = find_command(name);
    if (!cmd) return rt_cli_usage_error(NULL, errout, "unknown command '%s'", name);
    next = 3;
  } else {
    cmd = find_command(first);
    if (!cmd) return rt_cli_usage_error(NULL, errout, "unknown command '%s'", first);
    if (cmd->needs_adapter && help_next) { /* dlrun predict --help */
      rt_cli_help(cmd, out);
      return RT_CLI_DONE;
    }
    if (cmd->needs_adapter)
      return rt_cli_usage_error(cmd, errout, "'%s' runs an adapter: dlrun ADAPTER.lua %s [options]", first, first);
  }
  args->cmd = cmd;
  return parse_rest(cmd, argc, argv, next, args, out, errout);
}

void rt_args_free(rt_args *args) {
  for (int i = 0; i < args->nset; i++) free(args->set[i].values);
  free(args->set);
  free(args->positional);
  memset(args, 0, sizeof *args);
}

static const rt_arg_value *lookup(const rt_args *args, const char *name) {
  if (!find_option(args->cmd, name, strlen(name), 0)) {
    fprintf(stderr, "dlrun: internal error: '%s' does not declare option '--%s'\n", args->cmd->name, name);
    abort();
  }
  for (int i = 0; i < args->nset; i++)
    if (strcmp(args->set[i].opt->name, name) == 0) return &args->set[i];
  return NULL;
}

const char *rt_args_value(const rt_args *args, const char *name) {
  const rt_arg_value *v = lookup(args, name);
  return v && v->count ? v->values[v->count - 1] : NULL;
}

int rt_args_list(const rt_args *args, const char *name, const char *const **values) {
  const rt_arg_value *v = lookup(args, name);
  *values = v ? v->values : NULL;
  return v ? v->count : 0;
}

bool rt_args_flag(const rt_args *args, const char *name) {
  const rt_arg_value *v = lookup(args, name);
  return v && v->count > 0;
}

bool rt_args_declares(const rt_args *args, const char *name) {
  return find_option(args->cmd, name, strlen(name), 0) != NULL;
}
