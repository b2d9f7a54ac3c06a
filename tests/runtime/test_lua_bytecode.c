/* Tests for runtime/lua_bytecode.c: modules under the package folder load
 * through the bytecode cache, an edited source or a corrupt cache file is
 * parsed again, errors and tracebacks read as without the cache, and other
 * modules are untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <zlib.h>

#include "lua_bytecode.h"
#include "runtime/tmpdir.h"

typedef struct fixture {
  char root[RT_PATH_MAX];  /* the temp dir */
  char pkg[RT_PATH_MAX];   /* the package folder, holding dl/ */
  char other[RT_PATH_MAX]; /* modules outside it */
  char cache[RT_PATH_MAX]; /* the bytecode cache */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || tmpdir_make(f->root) < 0) return -1;
  rt_fs_path(f->pkg, NULL, "%s/pkg", f->root);
  rt_fs_path(f->other, NULL, "%s/other", f->root);
  rt_fs_path(f->cache, NULL, "%s/home/tmp/lua-bytecode", f->root);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  tmpdir_remove(f->root);
  free(f);
  return 0;
}

/* A fresh state whose package.path holds the package folder, then the
 * other one, with the cache in use. */
static lua_State *new_state(const fixture *f) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua;%s/?.lua", f->pkg, f->other);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  rt_lua_bytecode_use(L, f->pkg, f->cache);
  return L;
}

/* Runs code in L; returns its one result as a string (static), or the error. */
static const char *run(lua_State *L, const char *code) {
  static char out[2048];
  int rc = luaL_loadstring(L, code) || lua_pcall(L, 0, 1, 0);
  snprintf(out, sizeof out, "%s%s", rc ? "error: " : "", lua_tostring(L, -1) ? lua_tostring(L, -1) : "nil");
  lua_pop(L, 1);
  return out;
}

static void put_module(const char *dir, const char *name, const char *text) {
  char path[RT_PATH_MAX];
  rt_fs_path(path, NULL, "%s/%s.lua", dir, name);
  assert_int_equal(tmpdir_put(path, text), 0);
}

/* The path of the one cache file, and its bytes (caller frees *data). */
static void read_the_cache_file(const fixture *f, char *path, char **data, size_t *len) {
  rt_strlist files = {0};
  rt_error err;
  assert_int_equal(rt_fs_list_files(f->cache, &files, &err), 0);
  assert_int_equal((int)files.n, 1);
  rt_fs_path(path, NULL, "%s/%s", f->cache, files.v[0]);
  rt_strlist_free(&files);
  assert_int_equal(rt_fs_read_file(path, data, len, &err), 0);
}

static void test_second_state_loads_the_cached_bytecode(void **state) {
  fixture *f = *state;
  put_module(f->pkg, "dl/m", "return { value = 'from source' }\n");
  lua_State *L = new_state(f);
  assert_string_equal(run(L, "return require('dl.m').value"), "from source");
  lua_close(L);
  assert_int_equal(tmpdir_count_names(f->cache, ".ljbc"), 1);

  /* Put another chunk's bytecode behind the same head: a state that loads
   * the module from the cache gets that chunk, which proves the hit. */
  char cached[RT_PATH_MAX];
  char *data;
  size_t len;
  read_the_cache_file(f, cached, &data, &len);
  L = new_state(f);
  assert_int_equal(luaL_loadstring(L, "return { value = 'from the cache' }"), 0);
  lua_getglobal(L, "string");
  lua_getfield(L, -1, "dump");
  lua_pushvalue(L, -3);
  lua_call(L, 1, 1);
  size_t bc_len;
  const char *bc = lua_tolstring(L, -1, &bc_len);
  enum { HEAD = 24, CHECKSUM = 16 }; /* magic, source digest, payload checksum, LuaJIT version */
  char *forged = malloc(HEAD + bc_len);
  memcpy(forged, data, HEAD);
  memcpy(forged + HEAD, bc, bc_len);
  const uint32_t crc = (uint32_t)crc32_z(0, (const unsigned char *)bc, bc_len);
  memcpy(forged + CHECKSUM, &crc, sizeof crc);
  rt_error err;
  assert_int_equal(rt_fs_write_report(cached, forged, HEAD + bc_len, &err), 0);
  free(forged);
  free(data);
  lua_close(L);
  L = new_state(f);
  assert_string_equal(run(L, "return require('dl.m').value"), "from the cache");
  lua_close(L);
}

/* A cache file torn by a crash or corrupted on disk is a cache miss: the
 * module is parsed from its source (LuaJIT's bytecode loader trusts its
 * input, and a corrupt chunk could crash the process) and its file
 * rewritten. */
static void test_a_corrupt_cache_file_is_parsed_again(void **state) {
  fixture *f = *state;
  put_module(f->pkg, "dl/m", "return { value = 'from source' }\n");
  lua_State *L = new_state(f);
  assert_string_equal(run(L, "return require('dl.m').value"), "from source");
  lua_close(L);
  char path[RT_PATH_MAX];
  char *good;
  size_t len;
  read_the_cache_file(f, path, &good, &len);
  for (int how = 0; how < 3; how++) {
    char *bad = malloc(len);
    memcpy(bad, good, len);
    size_t bad_len = len;
    if (how == 0) { /* a flipped byte that LuaJIT would load: the string constant */
      char *s = memmem(bad, len, "from source", 11);
      assert_non_null(s);
      s[10] = 'X';
    } else if (how == 1) { /* torn: only the first half reached the disk */
      bad_len = len / 2;
    } else { /* garbage after the head */
      memset(bad + 24, 0xa5, len - 24);
    }
    rt_error err;
    assert_int_equal(rt_fs_write_report(path, bad, bad_len, &err), 0);
    free(bad);
    L = new_state(f);
    assert_string_equal(run(L, "return require('dl.m').value"), "from source");
    lua_close(L);
    char *now, again[RT_PATH_MAX];
    size_t now_len;
    read_the_cache_file(f, again, &now, &now_len);
    assert_int_equal(now_len, len); /* rewritten */
    assert_memory_equal(now, good, len);
    free(now);
  }
  free(good);
}

static void test_edited_source_is_parsed_again(void **state) {
  fixture *f = *state;
  put_module(f->pkg, "dl/m", "return 1\n");
  lua_State *L = new_state(f);
  assert_string_equal(run(L, "return require('dl.m')"), "1");
  lua_close(L);
  put_module(f->pkg, "dl/m", "return 2\n");
  L = new_state(f);
  assert_string_equal(run(L, "return require('dl.m')"), "2");
  lua_close(L);
  assert_int_equal(tmpdir_count_names(f->cache, ".ljbc"), 1); /* one file per module, replaced */
  L = new_state(f);
  assert_string_equal(run(L, "return require('dl.m')"), "2");
  lua_close(L);
}

/* Line numbers and the chunk name survive: an error raised in a cached
 * module names its file and line, and debug.getinfo sees the source. */
static void test_tracebacks_read_as_from_source(void **state) {
  fixture *f = *state;
  put_module(f->pkg, "dl/fail", "local M = {}\n\nfunction M.boom()\n  error('boom')\nend\n\nreturn M\n");
  for (int i = 0; i < 2; i++) { /* parsed, then cached */
    lua_State *L = new_state(f);
    const char *got = run(L, "return select(2, pcall(require('dl.fail').boom))");
    assert_non_null(strstr(got, "/pkg/dl/fail.lua:4: boom"));
    got = run(L, "return debug.getinfo(require('dl.fail').boom, 'S').source");
    assert_non_null(strstr(got, "@"));
    assert_non_null(strstr(got, "/pkg/dl/fail.lua"));
    lua_close(L);
  }
}

static void test_errors_as_require_reports_them(void **state) {
  fixture *f = *state;
  put_module(f->pkg, "dl/bad", "return {\n");
  lua_State *L = new_state(f);
  const char *got = run(L, "return require('dl.bad')");
  assert_non_null(strstr(got, "error loading module 'dl.bad' from file '"));
  assert_non_null(strstr(got, "/pkg/dl/bad.lua:2:"));
  got = run(L, "return require('dl.nowhere')");
  assert_non_null(strstr(got, "module 'dl.nowhere' not found"));
  assert_non_null(strstr(got, "no file '"));
  lua_close(L);
  assert_int_equal(tmpdir_count_names(f->cache, ".ljbc"), -1); /* nothing cached: no folder */
}

/* Modules outside the package folder are parsed every time, and a cache
 * that cannot be written costs nothing but the parse. */
static void test_other_modules_and_an_unwritable_cache(void **state) {
  fixture *f = *state;
  put_module(f->other, "mine", "return 'mine'\n");
  put_module(f->pkg, "dl/m", "return 'dl'\n");
  char blocker[RT_PATH_MAX];
  rt_fs_path(blocker, NULL, "%s/home/tmp", f->root);
  assert_int_equal(tmpdir_put(blocker, "a file where the cache's parent should be"), 0);
  lua_State *L = new_state(f);
  assert_string_equal(run(L, "return require('mine') .. ' ' .. require('dl.m')"), "mine dl");
  lua_close(L);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_second_state_loads_the_cached_bytecode, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_corrupt_cache_file_is_parsed_again, setup, teardown),
      cmocka_unit_test_setup_teardown(test_edited_source_is_parsed_again, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tracebacks_read_as_from_source, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors_as_require_reports_them, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_modules_and_an_unwritable_cache, setup, teardown),
  };
  return cmocka_run_group_tests_name("lua_bytecode", tests, NULL, NULL);
}
