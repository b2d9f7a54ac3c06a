--- The Lua half of the runtime glue: functions the C host calls around the
--- adapter's user functions. Adapters do not call this module.
local adapter = require 'dl.adapter'
local log = require 'dl.log'
local cjson = require 'cjson'
local ffi = require 'ffi'

---@class dl.host
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
---@param value any what the adapter file returned
---@param path string the adapter file
---@param command string
---@param requires string[] user functions the command needs
function M.validate(value, path, command, requires)
  if not adapter.is_adapter(value) then
    return nil, string.format(
      "%s must return a dl.Adapter, but it returned %s; end the file with `return A` where `local A = dl.Adapter{...}`",
      path, describe(value))
  end
  if value.prepare_item == nil and type(value.prepare_item_func) == 'function' then
    value.prepare_item = value.prepare_item_func
  end
  -- A declared input that cannot become a pipeline fails now, before the
  -- command creates anything (a model on first use); prepare_item replaces it.
  if value.input ~= nil and type(value.prepare_item) ~= 'function' then
    local ok, err = pcall(require('dl.batch').spec, value.input, 1)
    if not ok then return nil, string.format('%s: adapter %s: %s', path, tostring(value.name), err) end
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
    error(string.format("--config '%s' must look like KEY=VALUE (dotted keys allowed: optimizer.lr=0.01)", spec), 0)
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
  local last, old = parts[#parts], node[parts[#parts]]
  -- A number, boolean or table in the configuration keeps its type: a typo
  -- such as epochs=1o fails here, naming the key, not deep in train.
  if not is_null and old ~= nil and type(old) ~= 'string' and type(value) ~= type(old) then
    error(string.format("--config '%s': %s is a %s in the configuration (%s), but '%s' is a %s", spec, key,
      is_array(old) and 'list' or type(old) == 'table' and 'table' or type(old),
      type(old) == 'table' and cjson.encode(old) or tostring(old), text, type(value)), 0)
  end
  node[last] = (not is_null) and value or nil
end

--- Checks --config overrides against the adapter's defaults, before the
--- command creates or changes anything: nil when they apply, else the message.
---@param a dl.Adapter
---@param overrides string[]
---@return string|nil
function M.check_overrides(a, overrides)
  local cfg = adapter.deep_copy(a._defaults.configuration)
  for _, spec in ipairs(overrides) do
    local ok, err = pcall(apply_override, cfg, spec)
    if not ok then return tostring(err) end
  end
  return nil
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

--- What a model created on first use starts from: the adapter's labels,
--- configuration, input and output types, as model.json fields (JSON text).
---@param a dl.Adapter
---@return string
function M.model_defaults(a)
  local labels = {}
  for i, l in ipairs(a._defaults.labels) do labels[i] = type(l) == 'table' and (l.tag or l.label or l.name) or l end
  local cfg = a._defaults.configuration
  return cjson.encode({
    labels = labels, -- an empty list encodes as {}; the host reads only arrays
    configuration = cfg,
    inputType = a.input and (a.input.type or 'image') or nil,
    outputType = a.output_type,
  })
end

--- Sends self.log to the run folder's log.txt as well as stderr.
---@param a dl.Adapter
---@param path string
function M.attach_log(a, path)
  local f = io.open(path, 'a')
  if f then
    f:setvbuf('line')
    a.log.file = f
  end
end

------------------------------------------------------------ batches

local DEFAULT_BATCH_SIZE = 16

--- How the host prepares items for this adapter: 'pipeline' (declared
--- input, native workers), 'adapter' (its prepare_item) or 'default'.
---@return string|nil mode
---@return integer|string batch_size_or_err
---@return ffi.cdata*|nil spec dl_pipeline_spec, for 'pipeline'
---@param a dl.Adapter
---@param threads integer 0: the online cores
function M.batch_plan(a, threads)
  local bs = a.configuration.batch_size
  if bs == nil then bs = DEFAULT_BATCH_SIZE end
  if type(bs) ~= 'number' or bs < 1 or bs % 1 ~= 0 then
    return nil, string.format('configuration.batch_size must be a positive integer (got %s)', tostring(bs))
  end
  if type(a.prepare_item) == 'function' then return 'adapter', bs end
  if a.input then
    local ok, spec = pcall(require('dl.batch').spec, a.input, bs, { threads = threads })
    if not ok then return nil, string.format("%s: adapter %s", a.name, spec) end
    return 'pipeline', bs, spec
  end
  return 'default', bs
end

--- Wraps the pipeline batch the host hands over (a dl_pipeline_batch *).
---@param ptr lightuserdata
---@param items dl.Item[]
---@return dl.Batch
function M.native_batch(ptr, items)
  return require('dl.batch').from_native(ffi.cast('dl_pipeline_batch *', ptr), items)
end

--- An empty batch of items, filled with set_input / fail_input.
---@param items dl.Item[]
---@return dl.Batch
function M.new_batch(items) return require('dl.batch').new(items) end

--- batch[i] = what prepare_item returned.
---@param b dl.Batch
---@param i integer
---@param value any
function M.set_input(b, i, value) b[i] = value end

--- Marks item i failed in preparation.
---@param b dl.Batch
---@param i integer
---@param message string
function M.fail_input(b, i, message) require('dl.batch').fail(b, i, message) end

--- Default preparation for each item (image tensor, text, or the record).
---@param items dl.Item[]
---@return dl.Batch
function M.default_batch(items)
  local batch = require 'dl.batch'
  local b = batch.new(items)
  for i, item in ipairs(items) do
    local v, err = batch.default_input(item)
    if v == nil then batch.fail(b, i, tostring(err)) else b[i] = v end
  end
  return b
end

------------------------------------------------------------ predictions

-- Each item's annotations as the JSON text of an array ("[]" when empty:
-- cjson would write an empty table as an object).
local function encode_list(list)
  if #list == 0 then return '[]' end
  return cjson.encode(list)
end

--- Checks predict's results for a batch and converts each item's list to
--- Dataloop annotation JSON.
---@param a dl.Adapter
---@param b dl.Batch
---@param results any what predict returned
---@param model_id string|nil
---@return (string|false)[]|nil jsons per item, false where it failed
---@return (string|false)[]|string errors per item, or one message failing the whole batch
function M.convert_predictions(a, b, results, model_id)
  local annotations = require 'dl.annotations'
  if type(results) ~= 'table' then
    return nil, string.format('predict must return a list with one entry per item (got a %s)', type(results))
  end
  if #results ~= b.n then
    return nil, string.format('predict returned %d results for a batch of %d items', #results, b.n)
  end
  local ctx = { model_name = a.model_entity and a.model_entity.name or a.name, model_id = model_id,
    label_colors = M.label_colors(a) }
  local jsons, errors = {}, {}
  for i = 1, b.n do
    jsons[i], errors[i] = false, false
    if b.ok[i] then
      local list, err = annotations.to_dataloop(results[i], ctx)
      if list then
        local ok, text = pcall(encode_list, list)
        if ok then jsons[i] = text else errors[i] = 'cannot encode the annotations: ' .. tostring(text) end
      else
        errors[i] = err
      end
    end
  end
  return jsons, errors
end

------------------------------------------------------------ embeddings

local function finite(x) return type(x) == 'number' and x == x and x ~= math.huge and x ~= -math.huge end

--- Checks embed's vectors for a batch and packs the good ones into one
--- float buffer (row i for item i). D comes from configuration.embeddings_size,
--- else from the feature set (known_dim > 0), else from the first vector.
---@return ffi.cdata*|nil rows float[n * D]
---@return integer|string dim_or_err D, or a message failing the whole batch
---@return (string|false)[]|nil errors per item
---@param a dl.Adapter
---@param b dl.Batch
---@param result any what embed returned
---@param known_dim integer the feature set's D, 0 when empty
function M.convert_embeddings(a, b, result, known_dim)
  local tensor = require 'dl.tensor'
  local want = a.configuration.embeddings_size
  if want ~= nil and (type(want) ~= 'number' or want < 1 or want % 1 ~= 0) then
    return nil, string.format('configuration.embeddings_size must be a positive integer (got %s)', tostring(want))
  end
  if want and known_dim > 0 and want ~= known_dim then
    return nil, string.format('configuration.embeddings_size is %d, but the feature set holds %d-dimensional vectors',
      want, known_dim)
  end
  want = want or (known_dim > 0 and known_dim or nil)
  local rows = {}
  if tensor.is_tensor(result) then
    local shape = result:size()
    if #shape ~= 2 or shape[1] ~= b.n then
      return nil, string.format('embed returned a tensor of shape %s for a batch of %d items (expected %d×D)',
        table.concat(shape, '×'), b.n, b.n)
    end
    for i = 1, b.n do rows[i] = result:select(1, i) end
  elseif type(result) == 'table' then
    if #result ~= b.n then
      return nil, string.format('embed returned %d vectors for a batch of %d items', #result, b.n)
    end
    rows = result
  else
    return nil, string.format('embed must return a list of vectors or an N×D tensor (got a %s)', type(result))
  end
  -- D from the first usable row when nothing fixed it yet
  local function length(v)
    if tensor.is_tensor(v) then return v:dim() == 1 and v:size(1) or nil end
    if type(v) == 'table' then return #v end
  end
  if not want then
    for i = 1, b.n do
      if b.ok[i] and length(rows[i]) and length(rows[i]) > 0 then want = length(rows[i]); break end
    end
  end
  local errors = {}
  local buf = ffi.new('float[?]', b.n * (want or 1))
  for i = 1, b.n do
    errors[i] = false
    if b.ok[i] then
      local v, n = rows[i], length(rows[i])
      if n == nil then
        errors[i] = string.format('vector must be a list of numbers or a 1-D tensor (got %s)',
          tensor.is_tensor(v) and (v:dim() .. '-D tensor') or ('a ' .. type(v)))
      elseif n ~= want then
        errors[i] = string.format('vector has %d values, but embeddings_size is %d', n, want)
      else
        local values = tensor.is_tensor(v) and v:to('f32'):totable() or v
        for j = 1, n do
          local x = values[j]
          if not finite(x) then
            errors[i] = string.format('value %d of the vector is %s (must be a finite number)', j, tostring(x))
            break
          end
          buf[(i - 1) * want + j - 1] = x
        end
      end
    end
  end
  return buf, want or 0, errors
end

--- self.dataset: the dataset the command works on ({id, name, labels}).
---@param a dl.Adapter
---@param info_json string dataset.json
---@param name string
function M.set_dataset(a, info_json, name)
  local info = strip_nulls(cjson.decode(info_json))
  info.name = info.name or name
  a.dataset = info
end

--- label -> colour, from the labels of the dataset and then of the model
--- (platform label objects {tag, color}).
---@param a dl.Adapter
---@return table<string, string|integer[]>
function M.label_colors(a)
  local colors = {}
  for _, labels in ipairs({ a.model_entity and a.model_entity.labels, a.dataset and a.dataset.labels }) do
    if type(labels) == 'table' then
      for _, l in ipairs(labels) do
        if type(l) == 'table' and l.tag and l.color then colors[l.tag] = colors[l.tag] or l.color end
      end
    end
  end
  return colors
end

return M
