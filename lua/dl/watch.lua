--- The Lua half of `--watch` (hot reload), called by the host (runtime/watch.c,
--- runtime/model_state.c); adapters do not call it.
---
--- Every reload runs in a fresh lua_State, so nothing Lua made survives it on
--- its own. This module gives the host three things:
---   - the files of the Lua modules `require` loaded, to watch them;
---   - fingerprints of load() and of the configuration, to tell whether the
---     model must be loaded again;
---   - export/import of the state load() left on `self`, as plain data (tensors
---     travel as native headers sharing their storage), so that a reload that
---     does not need load() gets the same model state in the new lua_State.
local ffi = require 'ffi'

local type, pairs, ipairs, tostring, next = type, pairs, ipairs, tostring, next
local getmetatable, setmetatable, rawget, rawset = getmetatable, setmetatable, rawget, rawset
local format, concat, sort = string.format, table.concat, table.sort
local getinfo, getupvalue = debug.getinfo, debug.getupvalue

---@class dl.watch
local M = {}

------------------------------------------------------------ required files

local files, seen = {}, {}

-- True when path lies under dir (a folder path without a trailing slash).
local function under(path, dir)
  return dir ~= nil and path:sub(1, #dir + 1) == dir .. '/'
end

--- Records the file of every Lua module loaded so far and of every module
--- `require` loads from now on, except those under skip_dir (the installed
--- dl package, which only changes in a development build). A module is
--- recorded before it runs, so one that fails to load is watched too.
---@param skip_dir string|nil
function M.track(skip_dir)
  local searchpath, path_of = package.searchpath, function() return package.path end
  local function record(name)
    local file = searchpath(name, path_of())
    if file and not seen[file] and not under(file, skip_dir) then
      seen[file] = true
      files[#files + 1] = file
    end
  end
  for name in pairs(package.loaded) do record(name) end
  local loaders = package.loaders
  local lua_loader = loaders[2] -- the package.path searcher
  loaders[2] = function(name)
    record(name)
    return lua_loader(name)
  end
end

--- The files recorded by track, in the order they were first required.
---@return string[]
function M.files() return files end

------------------------------------------------------------ fingerprints

-- The lines of a source file, read once per fingerprint.
local function source_lines(cache, file)
  local lines = cache[file]
  if lines == nil then
    lines = false
    local f = io.open(file, 'r')
    if f then
      lines = {}
      for line in f:lines() do lines[#lines + 1] = line end
      f:close()
    end
    cache[file] = lines
  end
  return lines
end

-- "file:first-last\n<source text>" of a Lua function defined in a file, else nil.
local function function_text(cache, fn)
  local info = getinfo(fn, 'S')
  if info.what ~= 'Lua' or info.source:sub(1, 1) ~= '@' then return nil end
  local file = info.source:sub(2)
  local lines = source_lines(cache, file)
  if not lines then return nil end
  return format('%s:%d-%d\n%s', file, info.linedefined, info.lastlinedefined,
    concat(lines, '\n', info.linedefined, info.lastlinedefined))
end

local function defined_under(fn, dir)
  local info = getinfo(fn, 'S')
  return info.source:sub(1, 1) == '@' and under(info.source:sub(2), dir)
end

local MAX_FUNCTIONS = 500

--- The source text of a:load and of the Lua functions it reaches: the
--- functions among its upvalues (local helpers, and theirs, recursively) and
--- the functions of the modules it holds in upvalues (a module of the user's,
--- not under dl_dir; one level: the methods of objects those functions make
--- are not followed, so editing them keeps the model loaded). Line numbers
--- alone moving (an edit above load) do not change the text.
---@param a dl.Adapter
---@param dl_dir string|nil the dl package's folder: its modules' tables are not followed
---@return string
function M.load_fingerprint(a, dl_dir)
  local load = rawget(a, 'load')
  if type(load) ~= 'function' then return '' end
  local cache, texts, visited, queue = {}, {}, { [load] = true }, { load }
  local function push(fn)
    if not visited[fn] and #queue < MAX_FUNCTIONS then
      visited[fn] = true
      queue[#queue + 1] = fn
    end
  end
  local i = 1
  while queue[i] do
    local fn = queue[i]
    i = i + 1
    local text = function_text(cache, fn)
    if text then texts[#texts + 1] = text end
    for u = 1, 255 do
      local name, v = getupvalue(fn, u)
      if name == nil then break end
      if type(v) == 'function' then
        push(v)
      elseif type(v) == 'table' and v ~= a and fn == load then
        for _, x in pairs(v) do
          if type(x) == 'function' and not defined_under(x, dl_dir) and getinfo(x, 'S').what == 'Lua' then push(x) end
        end
      end
    end
  end
  sort(texts)
  return concat(texts, '\n')
end

-- Plain data in a canonical text (sorted keys), for comparing configurations.
local function canonical(v, out, depth)
  local t = type(v)
  if t ~= 'table' then
    out[#out + 1] = t == 'string' and format('%q', v) or tostring(v)
    return
  end
  if depth > 32 then out[#out + 1] = '...'; return end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  sort(keys, function(x, y)
    if type(x) ~= type(y) then return type(x) < type(y) end
    if type(x) == 'number' or type(x) == 'string' then return x < y end
    return tostring(x) < tostring(y)
  end)
  out[#out + 1] = '{'
  for _, k in ipairs(keys) do
    canonical(k, out, depth + 1)
    out[#out + 1] = '='
    canonical(v[k], out, depth + 1)
    out[#out + 1] = ','
  end
  out[#out + 1] = '}'
end

--- The configuration and labels load() saw, as canonical text.
---@param a dl.Adapter
---@return string
function M.config_fingerprint(a)
  local out = {}
  canonical({ configuration = a.configuration, labels = a.labels }, out, 0)
  return concat(out)
end

------------------------------------------------------------ model state

--- The fields of self before load runs (a shallow copy), so that export can
--- tell which fields load set.
---@param a dl.Adapter
---@return table
function M.fields(a)
  local t = {}
  for k, v in pairs(a) do t[k] = v end
  return t
end

-- Keys that mark special values in exported data; no user key starts with NUL.
local TENSOR, SELF = '\0dl.tensor', '\0dl.self'

-- Paths to tables that a fresh state can find again: named registry entries,
-- loaded modules and the adapter, then their fields and the upvalues of their
-- functions, a few steps deep. A path is a list: {'registry', key} |
-- {'module', name} | {'adapter'}, then 'field', key / 'upvalue', name pairs.
local MAX_DEPTH = 3

local function table_paths(a)
  local paths, queue = {}, {}
  local visited = {}
  local function add(v, path)
    if (type(v) == 'table' or type(v) == 'function') and not visited[v] then
      visited[v] = true
      if type(v) == 'table' and paths[v] == nil then paths[v] = path end
      queue[#queue + 1] = { v, path }
    end
  end
  -- Modules first: a fresh state requires a module a path names, whereas a
  -- registry entry exists only once its module has loaded there.
  add(a, { 'adapter' })
  local names = {}
  for name in pairs(package.loaded) do
    if type(name) == 'string' then names[#names + 1] = name end
  end
  sort(names) -- deterministic paths
  for _, name in ipairs(names) do add(package.loaded[name], { 'module', name }) end
  for k, v in pairs(debug.getregistry()) do
    if type(k) == 'string' and type(v) == 'table' and k ~= '_LOADED' then add(v, { 'registry', k }) end
  end
  local i = 1
  while queue[i] do
    local v, path = queue[i][1], queue[i][2]
    i = i + 1
    local depth = (#path - 2) / 2
    if depth < MAX_DEPTH then
      local function extend(kind, key, child)
        local p = { unpack(path) }
        p[#p + 1], p[#p + 2] = kind, key
        add(child, p)
      end
      if type(v) == 'table' then
        for k, child in pairs(v) do
          if type(k) == 'string' then extend('field', k, child) end
        end
      else
        for u = 1, 255 do
          local name, child = getupvalue(v, u)
          if name == nil then break end
          extend('upvalue', name, child)
        end
      end
    end
  end
  return paths
end

-- Follows a path of table_paths in this state; nil when it leads nowhere.
local function resolve(path, a)
  local v
  if path[1] == 'registry' then
    v = debug.getregistry()[path[2]]
  elseif path[1] == 'module' then
    local ok, m = pcall(require, path[2])
    v = ok and m or nil
  elseif path[1] == 'adapter' then
    v = a
  end
  local i = path[1] == 'adapter' and 2 or 3
  while v ~= nil and path[i] do
    local kind, key = path[i], path[i + 1]
    if kind == 'field' then
      v = type(v) == 'table' and rawget(v, key) or nil
    else
      local found
      if type(v) == 'function' then
        for u = 1, 255 do
          local name, child = getupvalue(v, u)
          if name == nil then break end
          if name == key then found = child; break end
        end
      end
      v = found
    end
    i = i + 2
  end
  return type(v) == 'table' and v or nil
end

local function describe_path(path)
  local parts = { path[1] == 'adapter' and 'the adapter' or format('%s %s', path[1], tostring(path[2])) }
  for i = path[1] == 'adapter' and 2 or 3, #path, 2 do parts[#parts + 1] = format('%s %s', path[i], path[i + 1]) end
  return concat(parts, ' > ')
end

--- What load left on self, as plain data the host copies to a fresh state:
--- the fields load set or replaced (compared with `before`), where tensors
--- become {[TENSOR] = i} (tensors[i] is the address of a new header sharing
--- the tensor's storage, owned by the caller from now on), the adapter itself
--- becomes {[SELF] = true}, and tables with a metatable are listed in metas
--- with the path of that metatable. Fails with nil and the reason when a
--- value cannot move (a function, a coroutine, a userdata, a stale view, a
--- metatable nothing names).
---@param a dl.Adapter
---@param before table from M.fields
---@return table|nil state {fields = {}, metas = {{table, path}}, tensors = {address}}
---@return string|nil err
function M.export(a, before)
  local tensor = require 'dl.tensor'
  local native = require 'dl.native'
  local C = native.C
  local headers, addresses, metas, memo = {}, {}, {}, {}
  local self_marker = { [SELF] = true }
  local paths
  local function fail(path, fmt, ...)
    error({ msg = format('self.%s %s', path, format(fmt, ...)) }, 0)
  end
  local copy
  local function copy_tensor(t, path)
    local box = ffi.new('dl_tensor *[1]')
    if C.dl_tensor_expand(box, t, t.ndim, t.shape, native.err) < 0 then
      fail(path, 'is a tensor that cannot be kept: %s', ffi.string(native.err.msg))
    end
    headers[#headers + 1] = box[0]
    addresses[#addresses + 1] = tonumber(ffi.cast('uintptr_t', box[0]))
    return { [TENSOR] = #addresses }
  end
  copy = function(v, path)
    local tv = type(v)
    if tv == 'nil' or tv == 'boolean' or tv == 'number' or tv == 'string' then return v end
    if memo[v] ~= nil then return memo[v] end
    if tv == 'cdata' and tensor.is_tensor(v) then
      local out = copy_tensor(v, path)
      memo[v] = out
      return out
    end
    if tv ~= 'table' then fail(path, 'is a %s, which cannot move to a fresh Lua state', tv) end
    if v == a then return self_marker end
    local out = {}
    memo[v] = out
    local mt = getmetatable(v)
    if mt ~= nil then
      if type(mt) ~= 'table' then fail(path, 'has a protected metatable') end
      paths = paths or table_paths(a)
      local p = paths[mt]
      if not p then fail(path, 'has a metatable that no loaded module or registry entry holds') end
      metas[#metas + 1] = { out, p }
    end
    for k, x in pairs(v) do
      local ck = copy(k, path .. '[key]')
      out[ck] = copy(x, type(k) == 'string' and (path .. '.' .. k) or format('%s[%s]', path, tostring(k)))
    end
    return out
  end
  local fields = {}
  local ok, err = pcall(function()
    for k, v in pairs(a) do
      if type(k) == 'string' and before[k] ~= v then fields[k] = copy(v, k) end
    end
  end)
  if not ok then
    for _, h in ipairs(headers) do C.dl_tensor_release(h) end
    return nil, type(err) == 'table' and err.msg or tostring(err)
  end
  return { fields = fields, metas = metas, tensors = addresses }
end

--- Puts an exported state on self in this (fresh) state: each tensor gets a
--- new header over the same storage, each listed table its metatable found
--- again by path (so objects get the methods of the code now loaded).
--- Returns true, or nil and the reason (self is then untouched).
---@param a dl.Adapter
---@param state table from M.export, copied into this state
---@return boolean|nil ok
---@return string|nil err
function M.import(a, state)
  local tensor = require 'dl.tensor'
  local native = require 'dl.native'
  local C = native.C
  local mts = {}
  for i, m in ipairs(state.metas) do
    local mt = resolve(m[2], a)
    if not mt then return nil, format('no metatable at %s in the new code', describe_path(m[2])) end
    mts[i] = mt
  end
  local tensors = {}
  for i, address in ipairs(state.tensors) do
    local src = ffi.cast('dl_tensor *', address)
    local box = ffi.new('dl_tensor *[1]')
    if C.dl_tensor_expand(box, src, src.ndim, src.shape, native.err) < 0 then
      return nil, 'cannot share a kept tensor: ' .. ffi.string(native.err.msg)
    end
    tensors[i] = tensor.adopt(box[0])
  end
  local fixed = {}
  local function fix(v)
    if type(v) ~= 'table' then return v end
    local ti = rawget(v, TENSOR)
    if ti then return tensors[ti] end
    if rawget(v, SELF) then return a end
    if fixed[v] then return v end
    fixed[v] = true
    local entries = {}
    for k, x in pairs(v) do entries[#entries + 1] = { k, x } end
    for _, e in ipairs(entries) do
      local k, x = fix(e[1]), fix(e[2])
      if k ~= e[1] then rawset(v, e[1], nil) end
      rawset(v, k, x)
    end
    return v
  end
  local fields = {}
  for k, v in pairs(state.fields) do fields[k] = fix(v) end
  for i, m in ipairs(state.metas) do setmetatable(m[1], mts[i]) end
  for k, v in pairs(fields) do rawset(a, k, v) end
  return true
end

--- The number of fields an exported state carries (for the host's messages).
---@param state table
---@return integer
function M.count(state)
  local n = 0
  for _ in next, state.fields do n = n + 1 end
  return n
end

return M
