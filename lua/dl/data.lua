--- dl.data: training batches from a prepared subset folder, the layout train_model hands to
--- A:train (data_path/<subset>/items/<remote path> and json/<remote path>.json, as dtlpy's
--- prepare_data downloads it).
---
---     function A:train(data_path, output_path, opts)
---       local train = assert(dl.data.loader(data_path .. '/train', {
---         input = self.input, batch_size = 64, label_to_id = self.label_to_id_map }))
---       for epoch = 1, n_epochs do
---         for b in train:batches() do   -- reshuffled every epoch
---           -- b.x: N×C×H×W f32, normalized as input declares; b.y: i64 [N] class ids from 1
---         end
---       end
---     end
---
--- Each item's label is its first class annotation among the ground truth (annotations
--- without metadata.user.model). An item without one, or with a label that label_to_id does
--- not know, is an error naming its json file: training data must be clean.
---
--- Where the pixels come from: the native pipeline decodes and normalizes the items on
--- worker threads. When the whole subset fits in `cache_bytes` (1 GiB by default; 60,000
--- Fashion-MNIST images take 188 MB), it is decoded ONCE into one tensor in memory and every
--- batch is gathered from it by shuffled index: a batch then costs a few memcpy, where
--- decoding 28×28 PNGs again each epoch would cost more than the training step of a small
--- network. Larger subsets stream through a fresh pipeline every epoch, in shuffled order.
local ffi = require 'ffi'
local bit = require 'bit'
local cjson = require 'cjson'
local native = require 'dl.native'
local tensor = require 'dl.tensor'
local batch = require 'dl.batch'

local C = native.C
local error, type, pairs, ipairs, tostring, tonumber, setmetatable, pcall =
  error, type, pairs, ipairs, tostring, tonumber, setmetatable, pcall
local format, floor, min = string.format, math.floor, math.min
local bxor, lshift, rshift, tobit = bit.bxor, bit.lshift, bit.rshift, bit.tobit
local io_open = io.open
local ffi_copy, ffi_cast = ffi.copy, ffi.cast

---@class dl.data
local M = {}

--- Subsets up to this size (decoded, in bytes) are kept in memory by default.
M.DEFAULT_CACHE_BYTES = 2 ^ 30

-- The keys of an adapter's `input` table that shape the decoded tensors.
local INPUT_KEYS = { 'size', 'channels', 'layout', 'dtype', 'mean', 'std', 'resize', 'fit', 'pad' }

---@class dl.data.Item
---@field filename string remote path, "/train/00001.png"
---@field label string
---@field local_path string the file in the subset's items/ (derived on access)
---@field json_path string its annotation document (derived on access)

---@class dl.data.Batch
---@field n integer rows
---@field x dl.Tensor N×C×H×W (N×H×W×C with layout 'nhwc'); valid until the next batch
---@field y dl.Tensor i64 [N]: label_to_id[label], the class ids (from 1) nn.cross_entropy takes
---@field items dl.data.Item[]

---@class dl.data.Loader
---@field n integer items in the subset
---@field batch_size integer
---@field label_to_id table<string, integer> 1-based, as self.label_to_id_map
---@field items dl.data.Item[] in listing order (sorted by remote path)
---@field in_memory boolean whether the subset was decoded once into memory
local Loader = {}

-- xorshift32: a small generator per loader, so shuffles are reproducible from opts.seed
-- whatever else draws from math.random.
local function generator(seed)
  local s = tobit(seed)
  if s == 0 then s = tobit(0x2545F491) end
  return function(n) -- uniform-ish in 1..n
    s = bxor(s, lshift(s, 13))
    s = bxor(s, rshift(s, 17))
    s = bxor(s, lshift(s, 5))
    return s % n + 1
  end
end

local function read_json(path)
  local f, err = io_open(path, 'rb')
  if not f then return nil, err end
  local text = f:read('*a')
  f:close()
  local ok, doc = pcall(cjson.decode, text)
  if not ok or type(doc) ~= 'table' then
    return nil, format('%s: not a JSON object (%s)', path, ok and type(doc) or tostring(doc))
  end
  return doc
end

local function is_ground_truth(a)
  local md = a.metadata
  local user = type(md) == 'table' and md.user
  return not (type(user) == 'table' and user.model ~= nil and user.model ~= cjson.null)
end

-- The first class label among a document's ground truth, or nil.
local function class_label(doc)
  local anns = doc.annotations
  if type(anns) ~= 'table' then return nil end
  for _, a in ipairs(anns) do
    if type(a) == 'table' and a.type == 'class' and type(a.label) == 'string' and is_ground_truth(a) then
      return a.label
    end
  end
end

-- Item records hold only filename and label, and derive their paths on access.
local function item_class(dir)
  return { __index = function(it, k)
    if k == 'local_path' then return dir .. '/items' .. it.filename end
    if k == 'json_path' then return dir .. '/json' .. it.filename:gsub('%.[^./]*$', '') .. '.json' end
  end }
end

-- Reads every json document of the subset: the remote paths in order and their labels.
local function scan(dir, label_to_id)
  local files, err = require('dl._fs').list_files(dir .. '/json')
  if not files then return nil, err end
  local filenames, labels, found = {}, {}, {}
  for _, rel in ipairs(files) do
    if rel:match('%.json$') then
      local json_path = dir .. '/json/' .. rel
      local doc, derr = read_json(json_path)
      if not doc then return nil, derr end
      local filename = doc.filename
      if type(filename) ~= 'string' or filename:sub(1, 1) ~= '/' then
        return nil, format('%s: field filename must be the remote path of the item ("/train/1.png")', json_path)
      end
      local label = class_label(doc)
      if not label then
        return nil, format('%s: the item has no class annotation in its ground truth (each training item needs one)',
          json_path)
      end
      if label_to_id and not label_to_id[label] then
        return nil, format("%s: label '%s' is not one of the model's labels", json_path, label)
      end
      found[label] = true
      filenames[#filenames + 1], labels[#labels + 1] = filename, label
    end
  end
  if #filenames == 0 then return nil, format('%s/json holds no item documents', dir) end
  if not label_to_id then -- the labels found, in sorted order
    local names = {}
    for l in pairs(found) do names[#names + 1] = l end
    table.sort(names)
    label_to_id = {}
    for i, l in ipairs(names) do label_to_id[l] = i end
  end
  return filenames, labels, label_to_id
end

-- The loader keeps its items as two columns: the remote paths joined into one string (with
-- where each ends) and the label ids. Records are made when asked for (a batch's b.items,
-- loader.items). 60,000 tables in the Lua heap made every full collection, which the tensor
-- module runs once per so many native bytes allocated in training, take 40 ms; the columns
-- are three objects.
local function keep_columns(self, filenames, labels)
  local ends, ids = ffi.new('int32_t[?]', self.n + 1), ffi.new('int64_t[?]', self.n)
  for i = 1, self.n do
    ends[i] = ends[i - 1] + #filenames[i]
    ids[i - 1] = self.label_to_id[labels[i]]
  end
  self._names, self._ends, self._ids = table.concat(filenames), ends, ids
  self._id_to_label = {}
  for label, id in pairs(self.label_to_id) do self._id_to_label[id] = label end
end

-- The remote path of item i (from 1).
local function filename_of(self, i) return self._names:sub(self._ends[i - 1] + 1, self._ends[i]) end

-- The record of item i: loader.items[i] once that list was asked for, else a new one.
local function item_of(self, i)
  local list = rawget(self, 'items')
  if list then return list[i] end
  return setmetatable({ filename = filename_of(self, i), label = self._id_to_label[tonumber(self._ids[i - 1])] },
    self._class)
end

-- loader.items: every record, made on first access and kept.
function Loader.__index(self, k)
  if k ~= 'items' then return Loader[k] end
  local list = {}
  for i = 1, self.n do list[i] = item_of(self, i) end
  rawset(self, 'items', list)
  return list
end

local function check_opts(dir, opts)
  if type(dir) ~= 'string' then
    error(format("bad argument #1 to 'loader' (subset folder expected, got %s)", type(dir)), 3)
  end
  if type(opts) ~= 'table' then
    error(format("bad argument #2 to 'loader' (options table expected, got %s)", type(opts)), 3)
  end
  if opts.input ~= nil and type(opts.input) ~= 'table' then
    error("bad argument #2 to 'loader' (input must be an adapter input table)", 3)
  end
  local input = {} -- the decoding options: given directly, else from opts.input
  for _, k in ipairs(INPUT_KEYS) do
    input[k] = opts[k]
    if input[k] == nil and opts.input then input[k] = opts.input[k] end
  end
  local bs = opts.batch_size
  if type(bs) ~= 'number' or bs < 1 or bs % 1 ~= 0 then
    error(format("bad argument #2 to 'loader' (batch_size must be a positive integer, got %s)", tostring(bs)), 3)
  end
  if opts.label_to_id ~= nil and type(opts.label_to_id) ~= 'table' then
    error("bad argument #2 to 'loader' (label_to_id must be a table label -> id, as self.label_to_id_map)", 3)
  end
  if opts.seed ~= nil and (type(opts.seed) ~= 'number' or opts.seed % 1 ~= 0) then
    error(format("bad argument #2 to 'loader' (seed must be an integer, got %s)", tostring(opts.seed)), 3)
  end
  local ok, spec = pcall(batch.spec, input, opts.batch_size, { threads = opts.threads })
  if not ok then error("bad argument #2 to 'loader' (" .. spec .. ')', 3) end
  return spec, input
end

-- Decodes every item once into one tensor [n, ...]: the in-memory path.
local function decode_all(self)
  local s = self._spec
  local paths = {}
  for i = 1, self.n do paths[i] = self._dir .. '/items' .. filename_of(self, i) end
  local shape = s.layout == C.DL_LAYOUT_NHWC and { self.n, s.height, s.width, s.channels }
    or { self.n, s.channels, s.height, s.width }
  local cache = tensor.empty(shape, s.dtype == C.DL_U8 and 'u8' or 'f32')
  local pipe = batch.pipeline(setmetatable({ paths = paths, batch_size = 256, threads = self._threads },
    { __index = self._input }))
  local row = 0
  for b in pipe:batches() do
    for i = 1, b.n do
      if not b.ok[i] then
        pipe:close()
        return nil, b.errors[i]
      end
    end
    cache:narrow(1, row + 1, b.n):copy(b.tensor)
    row = row + b.n
  end
  pipe:close()
  self._cache = cache
  self._row_bytes = cache:nelement() / self.n * tonumber(C.dl_dtype_size(cache.dtype))
  return true
end

--- A loader over the subset folder dir (holding items/ and json/).
---
--- Options: batch_size (required); size = {w, h}, channels, mean, std, resize, layout, dtype
--- as in an adapter's `input`, or input = self.input to take them from there; label_to_id
--- (default: the labels found, sorted, from 1); shuffle (default true); seed (default 1);
--- drop_last (default false); threads (decoding workers, default the online cores);
--- cache_bytes (keep the decoded subset in memory up to this size, default 1 GiB; 0 streams).
---
--- Returns nil and a message naming the file when the folder, a document or an image is
--- unusable; raises on bad options.
---@param dir string
---@param opts table
---@return dl.data.Loader|nil
---@return string? err
function M.loader(dir, opts)
  local spec, input = check_opts(dir, opts)
  local filenames, labels, label_to_id = scan(dir, opts.label_to_id)
  if not filenames then return nil, labels end
  local self = setmetatable({
    n = #filenames,
    batch_size = opts.batch_size,
    label_to_id = label_to_id,
    shuffle = opts.shuffle ~= false,
    drop_last = opts.drop_last == true,
    _spec = spec,
    _input = input,
    _threads = opts.threads,
    _random = generator(opts.seed or 1),
    _dir = dir,
    _class = item_class(dir),
  }, Loader)
  keep_columns(self, filenames, labels)
  filenames, labels = nil, nil
  local order = {}
  for i = 1, self.n do order[i] = i end
  self._order = order
  local pixels = spec.width * spec.height * spec.channels * (spec.dtype == C.DL_U8 and 1 or 4)
  local budget = opts.cache_bytes == nil and M.DEFAULT_CACHE_BYTES or opts.cache_bytes
  self.in_memory = pixels * self.n <= budget
  if self.in_memory then
    local ok, err = decode_all(self)
    if not ok then return nil, err end
  end
  return self
end

--- Number of batches in one epoch.
---@return integer
function Loader:count()
  if self.drop_last then return floor(self.n / self.batch_size) end
  return floor((self.n + self.batch_size - 1) / self.batch_size)
end

-- A new shuffled order (Fisher-Yates over the previous one).
local function reshuffle(self)
  local order, random = self._order, self._random
  for i = self.n, 2, -1 do
    local j = random(i)
    order[i], order[j] = order[j], order[i]
  end
end

local function labels_for(self, first, n)
  local y = tensor.empty({ n }, 'i64')
  local yp, ids, order = y:data(), self._ids, self._order
  for k = 0, n - 1 do yp[k] = ids[order[first + k] - 1] end
  return y
end

local function items_for(self, first, n)
  local list, order = {}, self._order
  for k = 1, n do list[k] = item_of(self, order[first + k - 1]) end
  return list
end

-- One epoch from the in-memory tensor: rows gathered by index.
local function memory_batches(self)
  local cache, row_bytes, order = self._cache, self._row_bytes, self._order
  local src = ffi_cast('uint8_t *', cache.ptr)
  local shape = cache:size()
  local dtype = cache:type()
  local last = self:count()
  local b = 0
  return function()
    b = b + 1
    if b > last then return nil end
    local first = (b - 1) * self.batch_size + 1
    local n = min(self.batch_size, self.n - first + 1)
    shape[1] = n
    local x = tensor.empty(shape, dtype)
    local dst = ffi_cast('uint8_t *', x.ptr)
    for k = 0, n - 1 do ffi_copy(dst + k * row_bytes, src + (order[first + k] - 1) * row_bytes, row_bytes) end
    return { n = n, x = x, y = labels_for(self, first, n), items = items_for(self, first, n) }
  end
end

-- One epoch streamed through a fresh pipeline over the items in this epoch's order.
local function streamed_batches(self)
  local paths = {}
  local last = self:count()
  for k = 1, last * self.batch_size do
    local i = self._order[k]
    if not i then break end
    paths[k] = self._dir .. '/items' .. filename_of(self, i)
  end
  local pipe = batch.pipeline(setmetatable({ paths = paths, batch_size = self.batch_size, threads = self._threads },
    { __index = self._input }))
  local b = 0
  return function()
    b = b + 1
    local nb = b <= last and pipe:next() or nil
    if not nb then
      pipe:close()
      return nil
    end
    local first = (b - 1) * self.batch_size + 1
    for i = 1, nb.n do
      if not nb.ok[i] then
        pipe:close()
        error(format('dl.data: %s', nb.errors[i]), 2)
      end
    end
    return { n = nb.n, x = nb.tensor, y = labels_for(self, first, nb.n), items = items_for(self, first, nb.n) }
  end
end

--- The batches of one epoch, in a new random order when shuffle is on:
--- `for b in loader:batches() do ... end`. b.x is valid until the next batch is drawn.
---@return fun(): dl.data.Batch|nil
function Loader:batches()
  if self.shuffle then reshuffle(self) end
  if self.in_memory then return memory_batches(self) end
  return streamed_batches(self)
end

return M
