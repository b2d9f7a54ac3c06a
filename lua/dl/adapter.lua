--- dl.Adapter: the class every adapter file instantiates and returns.
---
--- ```lua
--- local A = dl.Adapter { name = 'fashion-mlp', configuration = { batch_size = 64 } }
--- function A:load(local_path, opts) ... end
--- function A:predict(batch, opts) ... end
--- return A
--- ```
---@class dl.adapter
local M = {}

---@class dl.InputSpec
---@field type 'image'
---@field size integer[] {width, height}
---@field channels integer 1, 3 or 4
---@field layout 'nchw'|'nhwc'|nil
---@field dtype 'f32'|'u8'|nil
---@field mean number[]|nil
---@field std number[]|nil
---@field resize 'bilinear'|'area'|'box'|nil 'area' and 'box' are the same area average
---@field fit 'stretch'|'letterbox'|'center_crop'|nil how the image fits size (default stretch)
---@field pad integer|nil letterbox padding value, 0..255

---@class dl.AdapterSpec
---@field name string? default model name (default: the adapter file's name)
---@field input dl.InputSpec? declares native item preparation (the fast path)
---@field output_type string? class|box|segment|polyline|point|binary|embedding
---@field labels string[]? default labels
---@field configuration table? defaults, overridden by the model entity and --config

---@class dl.Logger
---@field debug fun(fmt: string, ...)
---@field info fun(fmt: string, ...)
---@field warn fun(fmt: string, ...)
---@field error fun(fmt: string, ...)

---@class dl.Adapter
---@field name string
---@field input dl.InputSpec|nil
---@field output_type string
---@field configuration table merged: adapter defaults < model entity < --config
---@field labels string[]
---@field id_to_label_map table<integer, string> label ids start at 1, like every index in dl
---@field label_to_id_map table<string, integer>
---@field model_entity table|nil the model entity (model.json)
---@field log dl.Logger
---@field load? fun(self: dl.Adapter, local_path: string, opts: table) reads the model from its working copy
---@field save? fun(self: dl.Adapter, local_path: string, opts: table) writes the model into local_path
---@field train? fun(self: dl.Adapter, data_path: string, output_path: string, opts: table) opts.on_epoch_end(epoch, n_epochs, metrics)
---@field predict? fun(self: dl.Adapter, batch: dl.Batch, opts: table): dl.Annotation[][] one list per item
---@field embed? fun(self: dl.Adapter, batch: dl.Batch, opts: table): (number[]|dl.Tensor)[]|dl.Tensor one vector per item, or N×D
---@field prepare_item? fun(self: dl.Adapter, item: dl.Item): any becomes batch[i]

--- The user functions an adapter may define, in the order help texts list them.
M.USER_FUNCTIONS = { 'load', 'save', 'train', 'predict', 'embed', 'prepare_item' }

-- The fields of a spec and of its input table, in the order messages list them.
local SPEC_FIELDS = { 'name', 'input', 'output_type', 'labels', 'configuration' }
local INPUT_FIELDS = { 'type', 'size', 'channels', 'layout', 'dtype', 'mean', 'std', 'resize', 'fit', 'pad' }

local OUTPUT_TYPES = {
  class = true, box = true, segment = true, polyline = true, point = true, binary = true, embedding = true,
}

-- One metatable marks dl.Adapter objects. It lives in the registry so that a
-- module reloaded inside the same state (busted insulation) still recognises
-- adapters made before the reload.
local registry = debug.getregistry()
local mt = registry['dl.adapter.mt']
if not mt then
  mt = { __name = 'dl.Adapter' }
  mt.__tostring = function(a) return string.format('dl.Adapter(%s)', rawget(a, 'name')) end
  registry['dl.adapter.mt'] = mt
end

local function deep_copy(v)
  if type(v) ~= 'table' then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end
M.deep_copy = deep_copy

local function check_field(spec, key, want, level)
  local v = spec[key]
  if v ~= nil and type(v) ~= want then
    error(string.format("dl.Adapter: field '%s' must be a %s (got %s)", key, want, type(v)), level + 1)
  end
end

-- Raises at `level` naming every key of t that `known` does not list (a typo such as
-- `inputs` would otherwise silently lose the fast path); `prefix` is 'input.' for input's keys.
local function check_known(t, known, prefix, level)
  local is_known, unknown = {}, {}
  for _, k in ipairs(known) do is_known[k] = true end
  for k in pairs(t) do
    if not is_known[k] then unknown[#unknown + 1] = "'" .. prefix .. tostring(k) .. "'" end
  end
  if #unknown == 0 then return end
  table.sort(unknown)
  error(string.format('dl.Adapter: unknown field%s %s (known: %s)', #unknown > 1 and 's' or '',
    table.concat(unknown, ', '), table.concat(known, ', ')), level + 1)
end

--- The file that called dl.Adapter, for the default name.
local function caller_basename(level)
  local info = debug.getinfo(level + 1, 'S')
  local src = info and info.source or ''
  local base = src:match('^@.-([^/]+)%.lua$')
  return base or 'adapter'
end

--- Creates an adapter object from its spec. User functions are then defined
--- on it with `function A:predict(batch) ... end`.
---@param spec dl.AdapterSpec
---@return dl.Adapter
function M.new(spec)
  if type(spec) ~= 'table' then
    error(string.format('bad argument #1 to dl.Adapter (table expected, got %s)', type(spec)), 2)
  end
  for _, fname in ipairs(M.USER_FUNCTIONS) do
    if spec[fname] ~= nil then
      error(string.format("dl.Adapter: define '%s' as a function on the adapter (function A:%s(...)), not in the spec",
        fname, fname), 2)
    end
  end
  check_known(spec, SPEC_FIELDS, '', 2)
  check_field(spec, 'name', 'string', 2)
  check_field(spec, 'input', 'table', 2)
  check_field(spec, 'output_type', 'string', 2)
  check_field(spec, 'labels', 'table', 2)
  check_field(spec, 'configuration', 'table', 2)
  if spec.output_type and not OUTPUT_TYPES[spec.output_type] then
    error(string.format("dl.Adapter: output_type '%s' is not one of class, box, segment, polyline, point, binary, embedding",
      spec.output_type), 2)
  end
  if spec.input then
    local input = spec.input
    check_known(input, INPUT_FIELDS, 'input.', 2)
    if input.type ~= nil and input.type ~= 'image' then
      error(string.format("dl.Adapter: input.type '%s' is not supported (only 'image')", tostring(input.type)), 2)
    end
    if type(input.size) ~= 'table' or type(input.size[1]) ~= 'number' or type(input.size[2]) ~= 'number' then
      error("dl.Adapter: input.size must be {width, height}", 2)
    end
  end
  local labels = deep_copy(spec.labels or {})
  local a = {
    name = spec.name or caller_basename(2),
    input = deep_copy(spec.input),
    output_type = spec.output_type or 'class',
    labels = labels,
    configuration = deep_copy(spec.configuration or {}),
    -- the spec as written, for the host's configure step and model creation
    _defaults = { labels = deep_copy(labels), configuration = deep_copy(spec.configuration or {}) },
  }
  return setmetatable(a, mt)
end

---@return boolean
---@param v any
function M.is_adapter(v) return type(v) == 'table' and getmetatable(v) == mt end

--- Names of the user functions this adapter defines (dtlpy's
--- prepare_item_func counts as prepare_item).
---@param a dl.Adapter
---@return string[]
function M.defined_functions(a)
  local out = {}
  for _, fname in ipairs(M.USER_FUNCTIONS) do
    if type(a[fname]) == 'function' then out[#out + 1] = fname end
  end
  if type(a.prepare_item_func) == 'function' and type(a.prepare_item) ~= 'function' then
    out[#out + 1] = 'prepare_item_func'
  end
  return out
end

--- Builds id_to_label_map / label_to_id_map from a label list. Labels may be
--- strings or platform label objects ({tag = 'cat', color = ...}).
---@param labels (string|table)[]
---@return string[] names
---@return table<integer, string> id_to_label
---@return table<string, integer> label_to_id
function M.label_maps(labels)
  local names, id_to_label, label_to_id = {}, {}, {}
  for i, l in ipairs(labels or {}) do
    local name = type(l) == 'table' and (l.tag or l.label or l.name) or l
    if type(name) ~= 'string' then
      error(string.format('label #%d must be a string or a table with a tag (got %s)', i, type(name)), 2)
    end
    names[i] = name
    id_to_label[i] = name
    label_to_id[name] = i
  end
  return names, id_to_label, label_to_id
end

return M
