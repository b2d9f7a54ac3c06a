--- dl.testing: helpers for an adapter's own specs, run with `dlrun test`.
---
--- They build images, items, batches and datasets in memory or in temp folders,
--- and run an adapter's predict or embed the way `dlrun ADAPTER.lua predict`
--- does: the same preparation (the native pipeline for a declared `input`,
--- prepare_item, or the defaults), and the same validation and conversion to
--- Dataloop annotations. No store, model entity or dataset is needed.
---
---     local testing = require 'dl.testing'
---     describe('cats', function()
---       local A = testing.adapter('cats.lua')         -- loaded, configured, load() called
---       teardown(testing.cleanup)                      -- removes the temp folders
---       it('sees a red image', function()
---         local img = testing.image { width = 32, height = 24, color = { 220, 30, 30 } }
---         local results = testing.predict(A, { img })  -- one list of annotations per item
---         assert.are.equal('red', results[1][1].label)
---       end)
---     end)
---
--- Results are the annotation tables a run writes into the item's JSON
--- (type, label, coordinates, metadata.user.model.confidence, ...), without ids.
--- An item that fails preparation or validation raises an error naming the
--- item and the field, so the spec fails with the message a run would record.
local cjson = require 'cjson'
local fs = require 'dl._fs'

local type, ipairs, pairs, next, tostring, error, setmetatable = type, ipairs, pairs, next, tostring, error, setmetatable
local format, floor, min, max = string.format, math.floor, math.min, math.max

---@class dl.testing
local M = {}

------------------------------------------------------------ temp folders

-- Temp folders made by this module, removed by cleanup() or when the Lua
-- state closes (dlrun test closes it at exit). Kept in the registry so that a
-- copy of the module reloaded by busted's insulation shares the list.
local registry = debug.getregistry()
local made = registry['dl.testing.tempdirs']
if not made then
  made = {}
  registry['dl.testing.tempdirs'] = made
  local sentinel = newproxy(true)
  getmetatable(sentinel).__gc = function()
    for _, dir in ipairs(made) do fs.rm_rf(dir) end
  end
  registry['dl.testing.sentinel'] = sentinel
end

--- A new empty folder, removed by testing.cleanup() (or at exit).
---@return string path
function M.tempdir()
  local dir, err = fs.temp_dir('dlrun-test-')
  if not dir then error('dl.testing.tempdir: ' .. err, 2) end
  made[#made + 1] = dir
  return dir
end

--- Removes every folder tempdir made so far (for busted's teardown).
function M.cleanup()
  for i = #made, 1, -1 do
    fs.rm_rf(made[i])
    made[i] = nil
  end
end

------------------------------------------------------------ images

---@class dl.testing.Rect
---@field x integer left column (from 0)
---@field y integer top row (from 0)
---@field width integer
---@field height integer
---@field color integer[] one value per channel, 0..255

---@class dl.testing.ImageSpec
---@field width? integer default 32
---@field height? integer default 32
---@field channels? integer 1, 3 (default) or 4
---@field color? integer[] background, one value per channel (default black; RGBA alpha 255)
---@field rects? dl.testing.Rect[] filled rectangles, drawn in order
---@field noise? integer add a deterministic pseudo-random offset in [-noise, noise] to every sample
---@field seed? integer of the noise (default 1)

local function channel_values(color, channels, what)
  if color == nil then
    local c = {}
    for i = 1, channels do c[i] = (channels == 4 and i == 4) and 255 or 0 end
    return c
  end
  if type(color) ~= 'table' or (#color ~= channels and not (channels == 4 and #color == 3)) then
    error(format('dl.testing.image: %s must list %d values (one per channel)', what, channels), 3)
  end
  local c = {}
  for i = 1, channels do
    local v = color[i] or 255
    if type(v) ~= 'number' or v < 0 or v > 255 then
      error(format('dl.testing.image: %s[%d] must be a number in 0..255 (got %s)', what, i, tostring(v)), 3)
    end
    c[i] = floor(v)
  end
  return c
end

--- A u8 H×W×C image made in memory: a background colour, filled rectangles,
--- optional noise. Same spec, same pixels.
---@param spec? dl.testing.ImageSpec
---@return dl.Tensor image u8 H×W×C
function M.image(spec)
  spec = spec or {}
  if type(spec) ~= 'table' then error("bad argument #1 to 'image' (table expected, got " .. type(spec) .. ')', 2) end
  local tensor = require 'dl.tensor'
  local w, h, ch = spec.width or 32, spec.height or 32, spec.channels or 3
  if ch ~= 1 and ch ~= 3 and ch ~= 4 then error('dl.testing.image: channels must be 1, 3 or 4', 2) end
  local img = tensor.new({ h, w, ch }, 'u8')
  local p = img:data()
  local bg = channel_values(spec.color, ch, 'color')
  for i = 0, w * h - 1 do
    for c = 1, ch do p[i * ch + c - 1] = bg[c] end
  end
  for k, r in ipairs(spec.rects or {}) do
    local color = channel_values(r.color, ch, format('rects[%d].color', k))
    for y = max(r.y, 0), min(r.y + r.height, h) - 1 do
      for x = max(r.x, 0), min(r.x + r.width, w) - 1 do
        for c = 1, ch do p[(y * w + x) * ch + c - 1] = color[c] end
      end
    end
  end
  if spec.noise and spec.noise > 0 then
    local state, amp = spec.seed or 1, floor(spec.noise)
    for i = 0, w * h * ch - 1 do
      state = (state * 1103515245 + 12345) % 2147483648 -- a fixed LCG: the same image on every machine
      local v = p[i] + state % (2 * amp + 1) - amp
      p[i] = v < 0 and 0 or (v > 255 and 255 or v)
    end
  end
  return img
end

------------------------------------------------------------ items

local MIMETYPES = { png = 'image/png', jpg = 'image/jpeg', jpeg = 'image/jpeg', txt = 'text/plain',
  json = 'application/json' }

local function mimetype_of(path)
  local ext = path:match('%.([%w]+)$')
  return ext and MIMETYPES[ext:lower()] or 'application/octet-stream'
end

local function file_size(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local n = f:seek('end')
  f:close()
  return n
end

--- Item records (as batch.items holds them) for images and files. An entry
--- is an image tensor (written as PNG into a temp folder) or a file path.
--- Remote paths are /item1.png, ... for images and /<basename> for files.
---@param inputs (dl.Tensor|string)[]
---@return dl.Item[]
function M.items(inputs)
  if type(inputs) ~= 'table' then error("bad argument #1 to 'items' (list of images or paths expected)", 2) end
  local tensor = require 'dl.tensor'
  local dir
  local items = {}
  for i, v in ipairs(inputs) do
    local path, name
    if tensor.is_tensor(v) then
      dir = dir or M.tempdir()
      name = format('item%d.png', i)
      path = dir .. '/' .. name
      local ok, err = require('dl.image').save_png(v, path)
      if not ok then error(format('dl.testing.items: image %d: %s', i, err), 2) end
    elseif type(v) == 'string' then
      path, name = v, v:match('[^/]+$')
      if not fs.exists(path) then error(format('dl.testing.items: %s: no such file', path), 2) end
    else
      error(format('dl.testing.items: entry %d must be an image tensor or a file path (got %s)', i, type(v)), 2)
    end
    items[i] = { id = format('item-%d', i), name = name, filename = '/' .. name, local_path = path,
      mimetype = mimetype_of(path), size = file_size(path), metadata = {} }
  end
  return items
end

------------------------------------------------------------ adapters

---@class dl.testing.AdapterOptions
---@field configuration? table overrides, applied after the adapter's defaults (as --config)
---@field labels? string[] instead of the adapter's labels (as a model entity's)
---@field model_dir? string the folder load() reads (default: a new empty temp folder)
---@field load? boolean false: do not call load()

--- Loads an adapter file as dlrun does: runs it, checks that it returns a
--- dl.Adapter, fills self (configuration, labels and their maps, log), then
--- calls load(model_dir). Each call gives a fresh adapter.
---@param path string the adapter file
---@param opts? dl.testing.AdapterOptions
---@return dl.Adapter
function M.adapter(path, opts)
  opts = opts or {}
  local host = require 'dl.host'
  local chunk, err = loadfile(path)
  if not chunk then error(err, 2) end
  local a, msg = host.validate(chunk(), path, 'test', {})
  if not a then error(msg, 2) end
  local entity = { name = a.name, configuration = opts.configuration or {}, labels = opts.labels }
  host.configure(a, cjson.encode(entity), {})
  if opts.load ~= false and type(a.load) == 'function' then a:load(opts.model_dir or M.tempdir(), {}) end
  return a
end

------------------------------------------------------------ batches

local function check_adapter(a, fname)
  if not require('dl.adapter').is_adapter(a) then
    error(format("bad argument #1 to '%s' (dl.Adapter expected, got %s)", fname, type(a)), 3)
  end
end

-- Items from inputs, or inputs themselves when they are item records already.
local function as_items(inputs, fname)
  if type(inputs) ~= 'table' then
    error(format("bad argument #2 to '%s' (list of images, paths or items expected)", fname), 3)
  end
  if type(inputs[1]) == 'table' and inputs[1].local_path then return inputs end
  return M.items(inputs)
end

-- The batch of items as the host prepares it for a; second result: a function
-- that releases it (the views handed to predict turn stale then).
local function prepare(a, items)
  local host = require 'dl.host'
  local mode, bs, _ = host.batch_plan(a, 1)
  if not mode then error(bs, 3) end
  if mode == 'pipeline' then
    local opts = {}
    for k, v in pairs(a.input) do opts[k] = v end
    local paths = {}
    for i, it in ipairs(items) do paths[i] = it.local_path end
    opts.paths, opts.batch_size, opts.threads = paths, #items, 1
    local p = require('dl.batch').pipeline(opts)
    p.items = items
    local b = p:next()
    rawset(b, '_pipeline', p) -- keeps the native buffers alive while the batch is in use
    return b, function() p:close() end
  end
  if mode == 'adapter' then
    local b = host.new_batch(items)
    for i, it in ipairs(items) do
      local ok, v = xpcall(a.prepare_item, debug.traceback, a, it)
      if ok then host.set_input(b, i, v) else host.fail_input(b, i, v) end
    end
    return b, function() end
  end
  return host.default_batch(items), function() end
end

--- The batch predict or embed would get for these inputs (images, paths or
--- item records), prepared as the host prepares it. With a declared `input`,
--- batch.tensor holds the whole batch.
---@param a dl.Adapter
---@param inputs (dl.Tensor|string|dl.Item)[]
---@return dl.Batch
function M.batch(a, inputs)
  check_adapter(a, 'batch')
  return (prepare(a, as_items(inputs, 'batch')))
end

-- Runs fn over the items in batches of configuration.batch_size; each(b, first, out) gets each batch.
local function in_batches(a, items, each)
  local bs = a.configuration.batch_size or 16
  local out = {}
  for first = 1, #items, bs do
    local chunk = {}
    for i = first, min(first + bs - 1, #items) do chunk[#chunk + 1] = items[i] end
    local b, release = prepare(a, chunk)
    for i = 1, b.n do
      if not b.ok[i] then
        release()
        error(format('item %s: preparation failed: %s', chunk[i].filename, tostring(b.errors[i])), 3)
      end
    end
    local ok, err = pcall(each, b, first, out)
    release()
    if not ok then error(err, 0) end
  end
  return out
end

--- Runs a:predict over the inputs (images, paths or item records) in batches
--- of configuration.batch_size, checks each item's result as a run does, and
--- returns each item's annotations as Dataloop JSON tables (decoded).
---@param a dl.Adapter
---@param inputs (dl.Tensor|string|dl.Item)[]
---@return table[][] annotations per item
function M.predict(a, inputs)
  check_adapter(a, 'predict')
  local items = as_items(inputs, 'predict')
  local host = require 'dl.host'
  return in_batches(a, items, function(b, first, out)
    local results = a:predict(b, {})
    local jsons, errors = host.convert_predictions(a, b, results, nil)
    if not jsons then error(errors, 0) end
    for i = 1, b.n do
      if errors[i] then error(format('item %s: %s', b.items[i].filename, errors[i]), 0) end
      out[first + i - 1] = cjson.decode(jsons[i])
    end
  end)
end

--- Runs a:embed over the inputs like predict, checks the vectors as a run
--- does (length = configuration.embeddings_size, finite numbers) and returns
--- one Lua array of numbers per item.
---@param a dl.Adapter
---@param inputs (dl.Tensor|string|dl.Item)[]
---@return number[][] vectors
function M.embed(a, inputs)
  check_adapter(a, 'embed')
  local items = as_items(inputs, 'embed')
  local host = require 'dl.host'
  local dim = 0
  return in_batches(a, items, function(b, first, out)
    local rows, d, errors = host.convert_embeddings(a, b, a:embed(b, {}), dim)
    if not rows then error(d, 0) end
    dim = d
    for i = 1, b.n do
      if errors[i] then error(format('item %s: %s', b.items[i].filename, errors[i]), 0) end
      local v = {}
      for j = 1, d do v[j] = rows[(i - 1) * d + j - 1] end
      out[first + i - 1] = v
    end
  end)
end

------------------------------------------------------------ datasets

---@class dl.testing.DatasetItem
---@field filename string remote path, e.g. '/train/a.png'
---@field image? dl.Tensor written as PNG
---@field file? string copied
---@field annotations? dl.Annotation[] ground truth (dl.classification, dl.box, ...)

---@class dl.testing.DatasetSpec
---@field name? string default 'test-dataset'
---@field labels? string[]
---@field items dl.testing.DatasetItem[]
---@field dir? string where to write it (default: a new temp folder)

---@class dl.testing.Dataset
---@field path string the dataset folder: pass it to --dataset
---@field id string
---@field name string

local function hex_id(seed)
  local out, state = {}, seed
  for i = 1, 24 do
    state = (state * 1103515245 + 12345) % 2147483648
    out[i] = format('%x', floor(state / 65536) % 16)
  end
  return table.concat(out)
end

local function string_hash(s)
  local h = 7
  for i = 1, #s do h = (h * 31 + s:byte(i)) % 2147483647 end
  return h
end

local function write(path, data, what)
  local dir = path:match('^(.*)/[^/]+$')
  if dir then
    local ok, err = fs.mkdir_p(dir)
    if not ok then error(format('dl.testing.dataset: %s: %s', what, err), 4) end
  end
  local ok, err = fs.write_atomic(path, data)
  if not ok then error(format('dl.testing.dataset: %s: %s', what, err), 4) end
end

-- cjson writes an empty table as {}; the documents hold empty lists as [].
local EMPTY = '\1dl.testing.empty-list'
local function encode_doc(doc)
  if #doc.annotations == 0 then doc.annotations = EMPTY end
  for _, a in ipairs(type(doc.annotations) == 'table' and doc.annotations or {}) do
    if next(a.attributes) == nil then a.attributes = EMPTY end
  end
  return (cjson.encode(doc):gsub('"\\u0001dl.testing.empty%-list"', '[]'))
end

--- Writes a dataset in Dataloop export layout (dataset.json, items/,
--- json/ with ground truth), ready for `--dataset PATH` or dl.data.
---@param spec dl.testing.DatasetSpec
---@return dl.testing.Dataset
function M.dataset(spec)
  if type(spec) ~= 'table' or type(spec.items) ~= 'table' then
    error("bad argument #1 to 'dataset' (table with an items list expected)", 2)
  end
  local annotations = require 'dl.annotations'
  local image = require 'dl.image'
  local name = spec.name or 'test-dataset'
  local root = spec.dir or (M.tempdir() .. '/' .. name)
  local id = hex_id(string_hash(name))
  local labels = {}
  for i, l in ipairs(spec.labels or {}) do labels[i] = { tag = l } end
  write(root .. '/dataset.json', cjson.encode({ id = id, name = name, labels = #labels > 0 and labels or nil }),
    'dataset.json')
  for k, it in ipairs(spec.items) do
    local filename = it.filename
    if type(filename) ~= 'string' or filename:sub(1, 1) ~= '/' then
      error(format("dl.testing.dataset: items[%d].filename must be a remote path such as '/train/a.png'", k), 2)
    end
    local path = root .. '/items' .. filename
    local data
    if it.image then
      data = image.encode_png(it.image)
    elseif it.file then
      local f = io.open(it.file, 'rb')
      if not f then error(format('dl.testing.dataset: items[%d].file %s cannot be read', k, it.file), 2) end
      data = f:read('*a')
      f:close()
    else
      error(format('dl.testing.dataset: items[%d] needs an image or a file', k), 2)
    end
    write(path, data, filename)
    local gt = {}
    for j, ann in ipairs(it.annotations or {}) do
      local list, err = annotations.to_dataloop({ ann }, { model_name = name })
      if not list then error(format('dl.testing.dataset: items[%d].annotations[%d]: %s', k, j, err), 2) end
      local a = list[1]
      -- ground truth carries no model: the platform's reading of "not a prediction"
      a.id, a.metadata = hex_id(string_hash(filename) + j), { system = { automated = false } }
      gt[j] = a
    end
    local item_id = hex_id(string_hash(filename))
    local doc = { id = item_id, filename = filename,
      metadata = { system = { mimetype = mimetype_of(filename), size = #data } }, annotations = gt }
    if it.image then
      local shape = it.image:size()
      doc.metadata.system.width, doc.metadata.system.height = shape[2], shape[1]
    end
    write(root .. '/json' .. filename:gsub('%.[^./]*$', '') .. '.json', encode_doc(doc), filename)
  end
  return setmetatable({ path = root, id = id, name = name }, { __name = 'dl.testing.Dataset' })
end

return M
