/* lua_bytecode.h — the dl package's modules loaded from the LuaJIT bytecode
 * of an earlier run instead of being parsed at every start.
 *
 * Parsing the modules a predict needs (some 2,300 lines) took a quarter of
 * dlrun's start (8M instructions, about 1.5 ms); their bytecode loads in a
 * twentieth of that. Each module's bytecode is kept in one file of a cache
 * folder (as Python keeps .pyc files), with a digest of the source it came
 * from, the LuaJIT version and a checksum of the bytecode: a module whose
 * source changed, or whose file is torn or corrupt, is parsed again and its
 * file replaced, so a development build sees every edit.
 * Bytecode keeps the debug information, so tracebacks and debug.getinfo
 * read as from the source. Lua files outside the dl package (adapters and
 * their modules) are parsed as always.
 *
 *   rt_lua_bytecode_use(L, "/usr/share/dlrun/lua", "/home/me/.dataloop/tmp/lua-bytecode");
 */
#ifndef RT_LUA_BYTECODE_H
#define RT_LUA_BYTECODE_H

#include <lua.h>

/* Makes require's package.path searcher (package.loaders[2]) load the
 * modules under lua_dir through the bytecode cache in cache_dir, which is
 * created when first written. A cache that cannot be read or written only
 * costs the parse. Both strings are copied. */
void rt_lua_bytecode_use(lua_State *L, const char *lua_dir, const char *cache_dir);

#endif
