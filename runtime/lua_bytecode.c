/* Loading the dl package's modules through a cache of their bytecode. */
#include "lua_bytecode.h"

#include <lauxlib.h>
#include <luajit.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fsutil.h"

/* The head of a cache file; the bytecode follows.
 *
 * LuaJIT's bytecode loader trusts its input: a corrupt chunk can crash the
 * process, or load and run something else. So the bytecode carries a
 * checksum, and a file whose bytecode does not match it (torn by a crash,
 * since the file is written without fsync, or damaged on disk) is a cache
 * miss like an edited source: the module is parsed and its file rewritten.
 * Files are replaced by a rename, so a reader never sees one half-written
 * by another process. */
typedef struct cache_head {
  char magic[8];          /* CACHE_MAGIC */
  uint64_t source_digest; /* of the source the bytecode came from */
  uint32_t checksum;      /* CRC-32 of the bytecode after the head */
  uint32_t luajit;        /* LUAJIT_VERSION_NUM of the LuaJIT that made it */
} cache_head;

static const char CACHE_MAGIC[8] = {'d', 'l', 'r', 'u', 'n', 'b', 'c', '2'};

/* FNV-1a, 64 bits: enough to tell an edited source from the cached one. */
static uint64_t digest(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3u;
  return h;
}

/* The cache file of the module at path: one per path, named by its digest. */
static int cache_file(const char *cache_dir, const char *path, char *out) {
  return rt_fs_path(out, NULL, "%s/%016llx.ljbc", cache_dir, (unsigned long long)digest(path, strlen(path)));
}

/* lua_dump's writer: appends to a malloc'ed buffer. */
typedef struct dump_buffer {
  char *data; /* owned */
  size_t len, cap;
} dump_buffer;

static int append(lua_State *L, const void *p, size_t size, void *ud) {
  dump_buffer *b = ud;
  if (b->len + size > b->cap) {
    size_t cap = b->cap ? b->cap : 1 << 14;
    while (cap < b->len + size) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) return 1; /* stops lua_dump */
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, size);
  b->len += size;
  return 0;
}

/* The checksum of a cache file's bytecode. */
static uint32_t checksum(const char *bytecode, size_t len) {
  return (uint32_t)crc32_z(0, (const unsigned char *)bytecode, len);
}

/* Writes the bytecode of the function on top of the stack to file, with its
 * head. A cache that cannot be written is no error: the next start parses. */
static void store(lua_State *L, const char *cache_dir, const char *file, uint64_t source_digest) {
  cache_head head = {.source_digest = source_digest, .luajit = LUAJIT_VERSION_NUM};
  memcpy(head.magic, CACHE_MAGIC, sizeof head.magic);
  dump_buffer b = {0};
  if (append(L, &head, sizeof head, &b) == 0 && lua_dump(L, append, &b) == 0 &&
      rt_fs_mkdir_p(cache_dir, NULL) == 0) {
    head.checksum = checksum(b.data + sizeof head, b.len - sizeof head);
    memcpy(b.data, &head, sizeof head);
    rt_fs_write_report(file, b.data, b.len, NULL);
  }
  free(b.data);
}

/* Pushes the chunk in cached (len bytes) when its head says it came from
 * the source with source_digest and its bytecode is intact; returns whether
 * it did. */
static bool load_cached(lua_State *L, const char *cached, size_t len, uint64_t source_digest,
                        const char *chunkname) {
  cache_head head;
  if (len <= sizeof head) return false;
  memcpy(&head, cached, sizeof head);
  if (memcmp(head.magic, CACHE_MAGIC, sizeof head.magic) != 0 || head.source_digest != source_digest ||
      head.luajit != LUAJIT_VERSION_NUM || head.checksum != checksum(cached + sizeof head, len - sizeof head))
    return false;
  if (luaL_loadbufferx(L, cached + sizeof head, len - sizeof head, chunkname, "b") == 0) return true;
  lua_pop(L, 1); /* a file LuaJIT refuses (another build of it): parse instead */
  return false;
}

/* Pushes the chunk of the module file at path, as luaL_loadfile does, from
 * the cache when it holds the bytecode of this very source. */
static int load_module(lua_State *L, const char *path, const char *cache_dir) {
  char *source, file[RT_PATH_MAX], chunkname[RT_PATH_MAX + 2];
  size_t len;
  if (rt_fs_read_file(path, &source, &len, NULL) < 0 || cache_file(cache_dir, path, file) < 0) {
    free(source);
    return luaL_loadfile(L, path); /* reports the error as require always did */
  }
  snprintf(chunkname, sizeof chunkname, "@%s", path);
  const uint64_t source_digest = digest(source, len);
  char *cached;
  size_t cached_len;
  bool hit = rt_fs_read_file(file, &cached, &cached_len, NULL) == 0 &&
             load_cached(L, cached, cached_len, source_digest, chunkname);
  free(cached);
  if (hit) {
    free(source);
    return 0;
  }
  int status = luaL_loadbuffer(L, source, len, chunkname);
  free(source);
  if (status == 0) store(L, cache_dir, file, source_digest);
  return status;
}

/* package.loaders[2], as LuaJIT's own package.path searcher, but modules
 * under the dl package's folder (upvalue 1) load through the cache
 * (upvalue 2). */
static int search(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchpath");
  lua_pushvalue(L, 1);
  lua_getfield(L, -3, "path");
  lua_call(L, 2, 2); /* file, or nil and the files tried */
  if (lua_isnil(L, -2)) return 1;
  const char *file = lua_tostring(L, -2);
  const char *lua_dir = lua_tostring(L, lua_upvalueindex(1));
  const size_t n = strlen(lua_dir);
  const bool in_dl = strncmp(file, lua_dir, n) == 0 && file[n] == '/';
  if ((in_dl ? load_module(L, file, lua_tostring(L, lua_upvalueindex(2))) : luaL_loadfile(L, file)) != 0)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file, lua_tostring(L, -1));
  return 1;
}

void rt_lua_bytecode_use(lua_State *L, const char *lua_dir, const char *cache_dir) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaders");
  lua_pushstring(L, lua_dir);
  lua_pushstring(L, cache_dir);
  lua_pushcclosure(L, search, 2);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
}
