/* cmocka tests of the command-line parser (runtime/cli.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

/* Parses a NULL-terminated argv; output and errors go to a scratch file. */
static int parse(rt_args *args, const char **words, char *errbuf, size_t errlen) {
  int argc = 0;
  while (words[argc]) argc++;
  FILE *out = tmpfile(), *err = tmpfile();
  int rc = rt_cli_parse(argc, (char **)words, args, out, err);
  rewind(err);
  size_t n = fread(errbuf, 1, errlen - 1, err);
  errbuf[n] = '\0';
  fclose(out);
  fclose(err);
  return rc;
}

static void test_adapter_command_with_values_lists_and_flags(void **state) {
  (void)state;
  const char *argv[] = {"dlrun", "a.lua",  "predict", "--model", "m@v2", "-c",  "x=1",
                        "--config=y.z=2", "--quiet", "img1.png", "--", "--not-an-option", NULL};
  rt_args args;
  char err[512];
  assert_int_equal(parse(&args, argv, err, sizeof err), RT_EXIT_OK);
  assert_string_equal(args.cmd->name, "predict");
  assert_string_equal(args.adapter, "a.lua");
  assert_string_equal(rt_args_value(&args, "model"), "m@v2");
  const char *const *vals;
  assert_int_equal(rt_args_list(&args, "config", &vals), 2);
  assert_string_equal(vals[0], "x=1");
  assert_string_equal(vals[1], "y.z=2");
  assert_true(rt_args_flag(&args, "quiet"));
  assert_false(rt_args_flag(&args, "overwrite"));
  assert_null(rt_args_value(&args, "home"));
  assert_int_equal(args.npositional, 2);
  assert_string_equal(args.positional[0], "img1.png");
  assert_string_equal(args.positional[1], "--not-an-option");
  rt_args_free(&args);
}

static void test_last_value_wins(void **state) {
  (void)state;
  const char *argv[] = {"dlrun", "a.lua", "load", "--model", "a", "--model", "b", NULL};
  rt_args args;
  char err[512];
  assert_int_equal(parse(&args, argv, err, sizeof err), RT_EXIT_OK);
  assert_string_equal(rt_args_value(&args, "model"), "b");
  rt_args_free(&args);
}

static void test_unknown_option_names_it(void **state) {
  (void)state;
  const char *argv[] = {"dlrun", "a.lua", "predict", "--bogus=3", NULL};
  rt_args args;
  char err[512];
  assert_int_equal(parse(&args, argv, err, sizeof err), RT_EXIT_USAGE);
  assert_non_null(strstr(err, "unknown option '--bogus' for 'predict'"));
  rt_args_free(&args);
}

static void test_missing_value_and_flag_with_value(void **state) {
  (void)state;
  rt_args args;
  char err[512];
  const char *a1[] = {"dlrun", "a.lua", "load", "--home", NULL};
  assert_int_equal(parse(&args, a1, err, sizeof err), RT_EXIT_USAGE);
  assert_non_null(strstr(err, "option '--home' needs a value (DIR)"));
  rt_args_free(&args);
  const char *a2[] = {"dlrun", "a.lua", "load", "--quiet=yes", NULL};
  assert_int_equal(parse(&args, a2, err, sizeof err), RT_EXIT_USAGE);
  assert_non_null(strstr(err, "option '--quiet' takes no value"));
  rt_args_free(&args);
}

static void test_positional_limits(void **state) {
  (void)state;
  rt_args args;
  char err[512];
  const char *a1[] = {"dlrun", "model", "show", NULL};
  assert_int_equal(parse(&args, a1, err, sizeof err), RT_EXIT_USAGE);
  rt_args_free(&args);
  const char *a2[] = {"dlrun", "model", "show", "a", "b", NULL};
  assert_int_equal(parse(&args, a2, err, sizeof err), RT_EXIT_USAGE);
  assert_non_null(strstr(err, "unexpected argument 'b'"));
  rt_args_free(&args);
  const char *a3[] = {"dlrun", "model", "show", "a", NULL};
  assert_int_equal(parse(&args, a3, err, sizeof err), RT_EXIT_OK);
  assert_string_equal(args.cmd->name, "model show");
  rt_args_free(&args);
}

static void test_adapter_commands_need_an_adapter_and_others_refuse_one(void **state) {
  (void)state;
  rt_args args;
  char err[512];
  const char *a1[] = {"dlrun", "train", NULL};
  assert_int_equal(parse(&args, a1, err, sizeof err), RT_EXIT_USAGE);
  assert_non_null(strstr(err, "dlrun ADAPTER.lua train"));
  rt_args_free(&args);
  const char *a2[] = {"dlrun", "a.lua", "new", NULL};
  assert_int_equal(parse(&args, a2, err, sizeof err), RT_EXIT_USAGE);
  assert_non_null(strstr(err, "'new' is not an adapter command"));
  rt_args_free(&args);
}

static void test_passthrough_keeps_every_argument(void **state) {
  (void)state;
  rt_args args;
  char err[512];
  const char *argv[] = {"dlrun", "test", "-o", "TAP", "--shuffle", "spec", NULL};
  assert_int_equal(parse(&args, argv, err, sizeof err), RT_EXIT_OK);
  assert_int_equal(args.npositional, 4);
  assert_string_equal(args.positional[2], "--shuffle");
  rt_args_free(&args);
}

static void test_help_and_version_end_the_parse(void **state) {
  (void)state;
  rt_args args;
  char err[512];
  const char *a1[] = {"dlrun", "--version", NULL};
  assert_int_equal(parse(&args, a1, err, sizeof err), RT_CLI_DONE);
  rt_args_free(&args);
  const char *a2[] = {"dlrun", "x.lua", "embed", "--quiet", "--help", NULL};
  assert_int_equal(parse(&args, a2, err, sizeof err), RT_CLI_DONE);
  rt_args_free(&args);
}

static void test_every_option_of_every_command_is_documented(void **state) {
  (void)state;
  for (int i = 0; rt_commands[i]; i++) {
    const rt_command *c = rt_commands[i];
    assert_non_null(c->summary);
    assert_non_null(c->usage);
    for (int g = 0; c->groups && c->groups[g]; g++)
      for (const rt_option *o = c->groups[g]->options; o->name; o++) {
        assert_non_null(o->help);
        if (o->kind != RT_OPT_FLAG) assert_non_null(o->metavar);
      }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_adapter_command_with_values_lists_and_flags),
      cmocka_unit_test(test_last_value_wins),
      cmocka_unit_test(test_unknown_option_names_it),
      cmocka_unit_test(test_missing_value_and_flag_with_value),
      cmocka_unit_test(test_positional_limits),
      cmocka_unit_test(test_adapter_commands_need_an_adapter_and_others_refuse_one),
      cmocka_unit_test(test_passthrough_keeps_every_argument),
      cmocka_unit_test(test_help_and_version_end_the_parse),
      cmocka_unit_test(test_every_option_of_every_command_is_documented),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
