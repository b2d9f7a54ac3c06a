--- dl.scaffold: the files of `dlrun new NAME --template KIND` (the host calls
--- create). The templates are the files beside this module in dl/templates/:
--- an adapter and its spec per kind, a README and a .luarc.json, where
--- __NAME__, __TEMPLATE__, __COMMAND__ and __LUA_DIR__ are filled in. The
--- sample images are drawn with dl.testing.image, so no binary file ships.
local fs = require 'dl._fs'

local format = string.format

---@class dl.scaffold
local M = {}

--- The kinds of adapter `dlrun new` makes, and the command each one runs.
---@type table<string, string>
M.TEMPLATES = { classifier = 'predict', detector = 'predict', embedder = 'embed' }

--- Why name and template cannot make an adapter, or nil when they can.
---@param name string becomes NAME.lua, spec/NAME_spec.lua and the default model name
---@param template string a key of M.TEMPLATES
---@return string|nil problem
function M.check(name, template)
  if type(name) ~= 'string' or #name > 64 or not name:match('^%a[%w_%-]*$') then
    return format("adapter name '%s': use a letter, then letters, digits, - or _ (64 at most)", tostring(name))
  end
  if not M.TEMPLATES[template] then
    return format("unknown template '%s' (classifier, detector or embedder)", tostring(template))
  end
end

-- The folder of the dl package (…/lua), from where this file was loaded.
local function lua_dir()
  local source = debug.getinfo(1, 'S').source
  return source:match('^@(.*)/dl/scaffold%.lua$') or '.'
end

local function read(path)
  local f, err = io.open(path, 'rb')
  if not f then return nil, err end
  local text = f:read('*a')
  f:close()
  return text
end

local function fill(text, vars)
  for key, value in pairs(vars) do
    text = text:gsub('__' .. key .. '__', function() return value end)
  end
  return text
end

local function json_string_body(s) return (s:gsub('[\\"]', '\\%0')) end

-- name, spec of the sample images of each kind.
local function samples(template)
  if template == 'detector' then
    return {
      { 'one.png', { width = 96, height = 72, color = { 30, 35, 45 }, noise = 12, seed = 1,
        rects = { { x = 20, y = 14, width = 36, height = 24, color = { 235, 225, 200 } } } } },
      { 'two.png', { width = 96, height = 72, color = { 40, 30, 30 }, noise = 12, seed = 2,
        rects = { { x = 50, y = 30, width = 30, height = 30, color = { 220, 240, 230 } } } } },
      { 'empty.png', { width = 64, height = 48, color = { 25, 25, 25 }, noise = 12, seed = 3 } },
    }
  end
  local out = {}
  for i, c in ipairs({ { 'red', { 200, 45, 35 } }, { 'green', { 40, 180, 70 } }, { 'blue', { 30, 60, 200 } } }) do
    out[i] = { c[1] .. '.png', { width = 96, height = 72, color = c[2], noise = 30, seed = i,
      rects = { { x = 30, y = 20, width = 24, height = 24, color = { c[2][1] * 0.6, c[2][2] * 0.6, c[2][3] * 0.6 } } } } }
  end
  return out
end

---@class dl.scaffold.Result
---@field written string[] paths written, relative to dir
---@field kept string[] shared files that existed already and were left as they were
---@field command string the command the adapter runs: predict or embed

--- Writes the adapter NAME.lua, spec/NAME_spec.lua, README.md, .luarc.json
--- and samples/ into dir. NAME.lua and its spec must not exist yet; README.md,
--- .luarc.json and sample images that exist are kept (several adapters can
--- share a folder). Nothing is written when a check fails.
---@param name string
---@param template string a key of M.TEMPLATES
---@param dir string
---@return dl.scaffold.Result|nil result
---@return string|nil err
function M.create(name, template, dir)
  local problem = M.check(name, template)
  if problem then error(problem, 2) end
  local command = M.TEMPLATES[template]
  local lib = lua_dir()
  local vars = { NAME = name, TEMPLATE = template, COMMAND = command, LUA_DIR = json_string_body(lib) }
  local files = {
    { name .. '.lua', template .. '.lua', new = true },
    { 'spec/' .. name .. '_spec.lua', template .. '_spec.lua', new = true },
    { 'README.md', 'README.md' },
    { '.luarc.json', 'luarc.json' },
  }
  for _, f in ipairs(files) do
    if f.new and fs.exists(dir .. '/' .. f[1]) then
      return nil, format('%s/%s exists already; choose another name, or move it away', dir, f[1])
    end
  end
  local texts = {}
  for i, f in ipairs(files) do
    local text, err = read(lib .. '/dl/templates/' .. f[2])
    if not text then return nil, 'dl package: missing template: ' .. err end
    texts[i] = fill(text, vars)
  end
  local result = { written = {}, kept = {}, command = command }
  for _, sub in ipairs({ dir, dir .. '/spec', dir .. '/samples' }) do
    local ok, err = fs.mkdir_p(sub)
    if not ok then return nil, err end
  end
  for i, f in ipairs(files) do
    local path = dir .. '/' .. f[1]
    if not f.new and fs.exists(path) then
      result.kept[#result.kept + 1] = f[1]
    else
      local ok, err = fs.write_atomic(path, texts[i])
      if not ok then return nil, err end
      result.written[#result.written + 1] = f[1]
    end
  end
  local testing, image = require 'dl.testing', require 'dl.image'
  for _, s in ipairs(samples(template)) do
    local rel = 'samples/' .. s[1]
    if fs.exists(dir .. '/' .. rel) then
      result.kept[#result.kept + 1] = rel
    else
      local ok, err = image.save_png(testing.image(s[2]), dir .. '/' .. rel)
      if not ok then return nil, err end
      result.written[#result.written + 1] = rel
    end
  end
  return result
end

return M
