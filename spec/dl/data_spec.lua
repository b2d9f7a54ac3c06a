-- Specs for lua/dl/data.lua: a subset folder drawn by spec/support/image_subset.lua,
-- read back through the native pipeline.
local dl = require 'dl'
local cjson = require 'cjson'
local subset = require 'spec.support.image_subset'

local LABELS = { 'Trouser', 'Bag' }
local MAP = { Trouser = 1, Bag = 2 } -- 1-based, as self.label_to_id_map
local INPUT = { size = { 28, 28 }, channels = 1, mean = { 0.5 }, std = { 0.25 } }

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function opts(extra)
  local o = { input = INPUT, batch_size = 4, label_to_id = MAP }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- Every batch of one epoch: the filenames in order, and per filename its label id and
-- its first pixel.
local function epoch(loader)
  local order, seen = {}, {}
  for b in loader:batches() do
    assert.equals(b.n, b.x:size(1))
    assert.same({ b.n, 1, 28, 28 }, b.x:size())
    assert.equals('i64', b.y:type())
    for i = 1, b.n do
      local f = b.items[i].filename
      order[#order + 1] = f
      seen[f] = { id = b.y:get(i), pixel = b.x:get(i, 1, 1, 1), label = b.items[i].label }
    end
  end
  return order, seen
end

describe('dl.data.loader', function()
  local dir
  before_each(function()
    dir = subset.temp_dir()
    subset.make(dir, LABELS, 5)
  end)
  after_each(function() subset.remove(dir) end)

  it('yields every item once per epoch, with 0-based class ids and normalized pixels', function()
    local loader = assert(dl.data.loader(dir, opts()))
    assert.equals(10, loader.n)
    assert.is_true(loader.in_memory)
    assert.equals(3, loader:count())
    local order, seen = epoch(loader)
    assert.equals(10, #order)
    for f, s in pairs(seen) do
      assert.equals(MAP[s.label], s.id)
      -- the same pixel decoded by dl.image: (x / 255 - 0.5) / 0.25
      local img = dl.image.load(dir .. '/items' .. f)
      assert.near((img:get(1, 1, 1) / 255 - 0.5) / 0.25, s.pixel, 1e-5)
    end
    assert.equals(LABELS[1], seen['/train/Trouser01.png'].label)
  end)

  it('lists loader.items in path order, with the records batches hand out', function()
    local loader = assert(dl.data.loader(dir, opts { shuffle = false }))
    local first = loader:batches()()
    local items = loader.items
    assert.equals(10, #items)
    assert.equals(items, loader.items) -- made once
    assert.equals('/train/Bag01.png', items[1].filename)
    assert.equals('Bag', items[1].label)
    assert.equals(dir .. '/items/train/Bag01.png', items[1].local_path)
    assert.equals(dir .. '/json/train/Bag01.json', items[1].json_path)
    assert.same({ filename = items[1].filename, label = items[1].label },
      { filename = first.items[1].filename, label = first.items[1].label })
    -- once the list exists, batches hand out its records
    assert.equals(items[1], loader:batches()().items[1])
  end)

  it('reshuffles every epoch, reproducibly from the seed', function()
    local a = assert(dl.data.loader(dir, opts { seed = 3 }))
    local b = assert(dl.data.loader(dir, opts { seed = 3 }))
    local a1, a2 = epoch(a), epoch(a)
    assert.same(a1, (epoch(b)))
    assert.are_not.same(a1, a2)
    local sorted = {}
    for i, f in ipairs(a2) do sorted[i] = f end
    table.sort(sorted)
    local plain = epoch(assert(dl.data.loader(dir, opts { shuffle = false })))
    assert.same(sorted, plain)
  end)

  it('streams through the pipeline when the subset exceeds cache_bytes, with the same data', function()
    local loader = assert(dl.data.loader(dir, opts { cache_bytes = 0, seed = 5 }))
    assert.is_false(loader.in_memory)
    local _, streamed = epoch(loader)
    local _, cached = epoch(assert(dl.data.loader(dir, opts { seed = 5 })))
    assert.same(cached, streamed)
  end)

  it('drops the short last batch when asked', function()
    local loader = assert(dl.data.loader(dir, opts { drop_last = true }))
    assert.equals(2, loader:count())
    assert.equals(8, #epoch(loader))
  end)

  it('numbers the labels found, sorted, when no label_to_id is given', function()
    local loader = assert(dl.data.loader(dir, { input = INPUT, batch_size = 10 }))
    assert.same({ Bag = 1, Trouser = 2 }, loader.label_to_id)
    local _, seen = epoch(loader)
    assert.equals(1, seen['/train/Bag01.png'].id)
  end)

  it('reads ground truth only: a model prediction does not label the item', function()
    local path = dir .. '/json/train/Bag01.json'
    local doc = cjson.decode(io.open(path):read('*a'))
    table.insert(doc.annotations, 1, { type = 'class', label = 'Trouser',
      metadata = { user = { model = { name = 'm', confidence = 0.9 } } } })
    write(path, cjson.encode(doc))
    local _, seen = epoch(assert(dl.data.loader(dir, opts())))
    assert.equals('Bag', seen['/train/Bag01.png'].label)
  end)

  it('names the document of an item without a class, or with an unknown label', function()
    local path = dir .. '/json/train/Bag02.json'
    write(path, cjson.encode({ filename = '/train/Bag02.png', annotations = {} }))
    local loader, err = dl.data.loader(dir, opts())
    assert.is_nil(loader)
    assert.matches('Bag02.json: the item has no class annotation', err, 1, true)

    loader, err = dl.data.loader(dir, opts { label_to_id = { Trouser = 1 } })
    assert.is_nil(loader)
    assert.matches("label 'Bag' is not one of the model's labels", err, 1, true)
  end)

  it('names an image that does not decode', function()
    write(dir .. '/items/train/Trouser03.png', 'not a png')
    local loader, err = dl.data.loader(dir, opts())
    assert.is_nil(loader)
    assert.matches('Trouser03.png', err, 1, true)
    local streaming = assert(dl.data.loader(dir, opts { cache_bytes = 0, shuffle = false }))
    assert.has_error(function() epoch(streaming) end)
  end)

  it('returns nil and a message for a missing folder, and raises on bad options', function()
    local loader, err = dl.data.loader(dir .. '/nope', opts())
    assert.is_nil(loader)
    assert.matches('nope/json: no such folder', err, 1, true)
    assert.has_error(function() dl.data.loader(dir, { input = INPUT }) end,
      "bad argument #2 to 'loader' (batch_size must be a positive integer, got nil)")
    assert.has_error(function() dl.data.loader(dir, { batch_size = 2 }) end)
    assert.has_error(function() dl.data.loader(42, opts()) end)
  end)
end)
