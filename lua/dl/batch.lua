--- dl.batch: the batch object handed to predict and embed, and the native
--- batching pipeline that fills batch tensors on worker threads.
---
--- ```lua
--- local pipe = dl.batch.pipeline { paths = files, size = {224, 224}, channels = 3,
---   mean = {0.485, 0.456, 0.406}, std = {0.229, 0.224, 0.225}, batch_size = 32 }
--- for b in pipe:batches() do        -- b.tensor is 32×3×224×224 f32
---   for i = 1, b.n do if not b.ok[i] then print(b.errors[i]) end end
--- end                               -- each batch is recycled when the next one comes
--- ```
local ffi = require 'ffi'
local native = require 'dl.native'
local tensor = require 'dl.tensor'

local C = native.C
local format = string.format
local type, ipairs, pairs, tostring, tonumber, rawget, rawset = type, ipairs, pairs, tostring, tonumber, rawget, rawset

---@class dl.batch
local M = {}

---@class dl.Item
---@field id string
---@field name string basename of the remote path
---@field filename string remote path, e.g. "/train/00001.png"
---@field local_path string the file on this machine
---@field mimetype string
---@field width integer|nil original width (after EXIF orientation)
---@field height integer|nil
---@field size integer|nil bytes
---@field metadata table

---@class dl.Batch
---@field n integer number of items
---@field items dl.Item[] the item records
---@field ok boolean[] false where the item failed preparation; its result is ignored
---@field errors (string|false)[] why an item failed preparation
---@field tensor dl.Tensor|nil the whole batch (N×C×H×W) when the adapter declares `input`
---@field letterbox table[]|nil where each image sits in its row, when input.fit = 'letterbox'
---@field [integer] any the prepared input of item i (a view of row i of batch.tensor)

-- Rows of batch.tensor are made on first access: batch[i] is tensor:select(1, i).
local BatchMT = {
  __name = 'dl.Batch',
  __index = function(b, i)
    if type(i) ~= 'number' then return nil end
    local t = rawget(b, 'tensor')
    if not t or i < 1 or i > b.n or i % 1 ~= 0 then return nil end
    local row = t:select(1, i)
    rawset(b, i, row)
    return row
  end,
}

--- A batch of items whose inputs the caller fills in (batch[i] = ...).
---@param items dl.Item[]
---@return dl.Batch
function M.new(items)
  local ok, errors = {}, {}
  for i = 1, #items do ok[i], errors[i] = true, false end
  return setmetatable({ n = #items, items = items, ok = ok, errors = errors }, BatchMT)
end

--- Marks item i as failed in preparation. Its input becomes false, except
--- in a batch tensor, where its row stays (zero-filled) so that predict can
--- run over the whole tensor; its result is ignored either way.
---@param b dl.Batch
---@param i integer
---@param message string
function M.fail(b, i, message)
  b.ok[i], b.errors[i] = false, message
  if not rawget(b, 'tensor') then rawset(b, i, false) end
end

------------------------------------------------------------ pipeline spec

local LAYOUTS = { nchw = C.DL_LAYOUT_NCHW, nhwc = C.DL_LAYOUT_NHWC }
local DTYPES = { f32 = C.DL_F32, u8 = C.DL_U8 }
local RESIZE = { bilinear = C.DL_RESIZE_BILINEAR, area = C.DL_RESIZE_BOX, box = C.DL_RESIZE_BOX }
local FITS = { stretch = C.DL_FIT_STRETCH, letterbox = C.DL_FIT_LETTERBOX, center_crop = C.DL_FIT_CENTER_CROP }

local function choice(tbl, v, field, default)
  if v == nil then return tbl[default] end
  local c = tbl[v]
  if c == nil then
    local names = {}
    for k in pairs(tbl) do names[#names + 1] = k end
    table.sort(names)
    error(format("%s must be one of %s (got %s)", field, table.concat(names, ', '), tostring(v)), 0)
  end
  return c
end

local function positive_int(v, field, default)
  if v == nil then return default end
  if type(v) ~= 'number' or v < 1 or v % 1 ~= 0 then
    error(format('%s must be a positive integer (got %s)', field, tostring(v)), 0)
  end
  return v
end

--- Builds a native pipeline spec from an adapter's `input` table (spec §2)
--- plus the batch size. Raises a message naming the field (prefix `where`).
---@param input table {size={w,h}, channels=, layout=, dtype=, mean=, std=, resize=, fit=, pad=}
---@param batch_size integer
---@param opts {threads: integer|nil, prefetch: integer|nil, max_pixels: integer|nil, max_bytes: integer|nil}|nil
---@return ffi.cdata* dl_pipeline_spec
function M.spec(input, batch_size, opts)
  opts = opts or {}
  local s = ffi.new('dl_pipeline_spec')
  local size = input.size
  if type(size) ~= 'table' then error('input.size must be {width, height}', 0) end
  s.width = positive_int(size[1], 'input.size[1] (width)')
  s.height = positive_int(size[2], 'input.size[2] (height)')
  s.channels = positive_int(input.channels, 'input.channels', 3)
  if s.channels ~= 1 and s.channels ~= 3 and s.channels ~= 4 then
    error(format('input.channels must be 1, 3 or 4 (got %d)', s.channels), 0)
  end
  s.layout = choice(LAYOUTS, input.layout, 'input.layout', 'nchw')
  s.dtype = choice(DTYPES, input.dtype, 'input.dtype', 'f32')
  s.resize_mode = choice(RESIZE, input.resize, 'input.resize', 'bilinear')
  s.fit = choice(FITS, input.fit, 'input.fit', 'stretch')
  s.pad_value = input.pad or 0
  for _, key in ipairs({ 'mean', 'std' }) do
    local v = input[key]
    if v ~= nil then
      if type(v) ~= 'table' or (#v ~= 1 and #v ~= s.channels) then
        error(format('input.%s must list 1 or %d numbers (one per channel)', key, s.channels), 0)
      end
      for c = 0, s.channels - 1 do
        local x = v[#v == 1 and 1 or c + 1]
        if type(x) ~= 'number' or x ~= x then error(format('input.%s[%d] must be a number', key, c + 1), 0) end
        s[key][c] = x
      end
    elseif key == 'std' then
      for c = 0, 3 do s.std[c] = 1 end
    end
  end
  s.batch_size = positive_int(batch_size, 'configuration.batch_size')
  s.threads = opts.threads or 0
  s.prefetch = opts.prefetch or 0
  s.max_pixels = opts.max_pixels or 0
  s.max_bytes = opts.max_bytes or 0
  return s
end

------------------------------------------------------------ native batches

--- Wraps a native pipeline batch as a dl.Batch. The tensor and its rows are
--- views that turn stale when the batch is released (after predict returns).
---@param nb ffi.cdata* dl_pipeline_batch *
---@param items dl.Item[] records of the batch's items, updated with sizes
---@return dl.Batch
function M.from_native(nb, items)
  local b = M.new(items)
  local box = ffi.new('dl_tensor *[1]')
  native.assert(C.dl_tensor_narrow(box, nb.tensor, 0, 0, nb.n, native.err))
  b.tensor = tensor.adopt(box[0])
  local letterbox
  for i = 1, nb.n do
    local it = nb.items[i - 1]
    local item = items[i]
    if item and it.width > 0 then item.width, item.height = it.width, it.height end
    if it.status ~= 0 then
      M.fail(b, i, ffi.string(it.message))
    end
    if it.letterbox.x ~= 0 or it.letterbox.y ~= 0 or it.letterbox.scale ~= 1 then
      letterbox = letterbox or {}
      local lb = it.letterbox
      letterbox[i] = { scale = lb.scale, x = lb.x, y = lb.y, width = lb.width, height = lb.height }
    end
  end
  b.letterbox = letterbox
  return b
end

---@class dl.Pipeline
local Pipeline = {}
Pipeline.__index = Pipeline

--- A pipeline over image files (`paths`) or encoded images in memory
--- (`bytes`, a list of strings). Options as an adapter's `input`, plus
--- batch_size, threads (default: online cores), prefetch, max_pixels, max_bytes (a larger file
--- fails its slot unread; default 1 GiB).
---@param opts table
---@return dl.Pipeline
function M.pipeline(opts)
  if type(opts) ~= 'table' then error("bad argument #1 to 'pipeline' (table expected)", 2) end
  local ok, spec = pcall(M.spec, opts, opts.batch_size or 32, opts)
  if not ok then error('dl.batch.pipeline: ' .. spec, 2) end
  local box = ffi.new('dl_pipeline *[1]')
  native.assert(C.dl_pipeline_new(box, spec, native.err), 2)
  local p = setmetatable({ ptr = ffi.gc(box[0], C.dl_pipeline_free), items = {} }, Pipeline)
  for i, path in ipairs(opts.paths or {}) do
    native.assert(C.dl_pipeline_add_path(p.ptr, path, native.err), 2)
    p.items[#p.items + 1] = { id = tostring(i), local_path = path, filename = path }
  end
  for i, bytes in ipairs(opts.bytes or {}) do
    native.assert(C.dl_pipeline_add_bytes(p.ptr, bytes, #bytes, native.err), 2)
    p.items[#p.items + 1] = { id = tostring(#p.items + 1), filename = format('bytes[%d]', i) }
  end
  native.assert(C.dl_pipeline_start(p.ptr, native.err), 2)
  return p
end

--- Number of items in the pipeline.
---@return integer
function Pipeline:count() return tonumber(C.dl_pipeline_count(self.ptr)) end

--- The next batch (the previous one is released first: its views turn
--- stale), or nil after the last.
---@return dl.Batch|nil
function Pipeline:next()
  self:release()
  local box = ffi.new('dl_pipeline_batch *[1]')
  native.assert(C.dl_pipeline_next(self.ptr, box, native.err), 2)
  local nb = box[0]
  if nb == nil then return nil end
  self.current = nb
  local items = {}
  for i = 1, nb.n do items[i] = self.items[tonumber(nb.first) + i] end
  return M.from_native(nb, items)
end

--- Gives the current batch back to the pipeline.
function Pipeline:release()
  if self.current then
    native.assert(C.dl_pipeline_release(self.ptr, self.current, native.err), 2)
    self.current = nil
  end
end

--- Iterates over the batches: `for b in pipe:batches() do ... end`.
---@return fun(): dl.Batch|nil
function Pipeline:batches()
  return function() return self:next() end
end

--- Stops the workers and frees the buffers now (the GC would do it later).
function Pipeline:close()
  if self.ptr then
    self.current = nil
    C.dl_pipeline_free(ffi.gc(self.ptr, nil))
    self.ptr = nil
  end
  -- A compiled trace may keep the closure of batches(), and with it this pipeline, alive
  -- after the caller dropped it: let the item records (one per path) go now. Otherwise
  -- dl.data's 60,000 of them stayed in the Lua heap and doubled every full collection.
  self.items = {}
end

------------------------------------------------------------ default inputs

--- The default input of an item when the adapter declares neither `input`
--- nor prepare_item: images decode to u8 H×W×C tensors, text reads as a
--- string, anything else is the item record itself.
---@param item dl.Item
---@return any|nil value
---@return string|nil err
function M.default_input(item)
  local mime = item.mimetype or ''
  if mime:match('^image/') then
    local img, err = require('dl.image').load(item.local_path)
    if not img then return nil, err end
    local shape = img:size()
    item.width, item.height = shape[2], shape[1]
    return img
  end
  if mime:match('^text/') or mime == 'application/json' then
    local f, err = io.open(item.local_path, 'rb')
    if not f then return nil, err end
    local text = f:read('*a')
    f:close()
    return text
  end
  return item
end

return M
