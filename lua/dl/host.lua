--- The Lua half of the runtime glue: functions the C host calls around the
--- adapter's user functions. Adapters do not call this module.
local adapter = require 'dl.adapter'
local log = require 'dl.log'
local cjson = require 'cjson'

local M = {}

local function describe(v)
  if type(v) == 'table' then
    local mt = getmetatable(v)
    return (mt and mt.__name) and ('a ' .. mt.__name) or 'a plain table'
  end
  return v == nil and 'nothing' or ('a ' .. type(v))
end

--- Checks what the adapter file returned and that it defines `requires`.
---@return dl.Adapter|nil adapter
---@return string|nil err
function M.validate(value, path, command, requires)
  if not adapter.is_adapter(value) then
    return nil, string.format(
      "%s must return a dl.Adapter, but it returned %s; end the file with `return A` where `local A = dl.Adapter{...}`",
      path, describe(value))
  end
  if value.prepare_item == nil and type(value.prepare_item_func) == 'function' then
    value.prepare_item = value.prepare_item_func
  end
  local missing = {}
  for _, fname in ipairs(requires) do
    if type(value[fname]) ~= 'function' then missing[#missing + 1] = fname end
  end
  if #missing > 0 then
    local defined = adapter.defined_functions(value)
    return nil, string.format("%s: '%s' needs the user function%s %s, but the adapter does not define %s (it defines: %s)",
      path, command, #requires > 1 and 's' or '', table.concat(requires, ', '),
      table.concat(missing, ', '), #defined > 0 and table.concat(defined, ', ') or 'none')
  end
  return value
end

-- cjson decodes JSON null as a sentinel; configurations treat null as absent.
local function strip_nulls(v)
  if type(v) ~= 'table' then return v ~= cjson.null and v or nil end
  for k, x in pairs(v) do v[k] = strip_nulls(x) end
  return v
end

local function is_array(t)
  return type(t) == 'table' and (next(t) == nil or t[1] ~= nil)
end

--- Deep merge: objects merge key by key, anything else (arrays included) replaces.
local function merge(into, from)
  for k, v in pairs(from) do
    if type(v) == 'table' and not is_array(v) and type(into[k]) == 'table' and not is_array(into[k]) then
      merge(into[k], v)
    else
      into[k] = adapter.deep_copy(v)
    end
  end
  return into
end

--- Parses a --config value: JSON when it parses, the raw string otherwise.
local function parse_value(text)
  local ok, v = pcall(cjson.decode, text)
  if ok then return strip_nulls(v), v == cjson.null end
  return text, false
end

--- Applies one "a.b.c=value" override to cfg.
local function apply_override(cfg, spec)
  local key, text = spec:match('^([^=]+)=(.*)$')
  if not key or key == '' then
    error(string.format("--config '%s' must look like key=value (dotted keys allowed: optimizer.lr=0.01)", spec), 0)
  end
  local value, is_null = parse_value(text)
  local node, parts = cfg, {}
  for part in key:gmatch('[^.]+') do parts[#parts + 1] = part end
  for i = 1, #parts - 1 do
    local p = parts[i]
    if node[p] == nil then node[p] = {} end
    if type(node[p]) ~= 'table' then
      error(string.format("--config '%s': '%s' is a %s, not a table", spec, table.concat(parts, '.', 1, i), type(node[p])), 0)
    end
    node = node[p]
  end
  node[parts[#parts]] = (not is_null) and value or nil
end

--- Fills the adapter's `self` fields: configuration (adapter defaults, then
--- the model entity's configuration, then --config), labels and their maps,
--- model_entity and log.
---@param a dl.Adapter
---@param entity_json string|nil
---@param overrides string[]
function M.configure(a, entity_json, overrides)
  local entity
  if entity_json then entity = strip_nulls(cjson.decode(entity_json)) end
  local cfg = adapter.deep_copy(a._defaults.configuration)
  if entity and type(entity.configuration) == 'table' then merge(cfg, entity.configuration) end
  for _, spec in ipairs(overrides) do apply_override(cfg, spec) end
  a.configuration = cfg
  local labels = a._defaults.labels
  if entity and type(entity.labels) == 'table' and #entity.labels > 0 then labels = entity.labels end
  a.labels, a.id_to_label_map, a.label_to_id_map = adapter.label_maps(labels)
  a.model_entity = entity
  a.log = a.log or log.new(a.name)
end

return M
