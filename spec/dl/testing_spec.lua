-- dl.testing: images, items, batches and datasets for adapter specs, and
-- predict/embed run as a real run does. Expected values are worked out by
-- hand from the inputs, and files are read back through independent paths
-- (dl.image decoding, cjson, dl._fs listing).
local testing = require 'dl.testing'
local image = require 'dl.image'
local cjson = require 'cjson'
local fs = require 'dl._fs'

local function write_file(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

-- An adapter file in a temp folder; body defines the user functions.
local function adapter_file(spec_fields, body)
  local path = testing.tempdir() .. '/adapter.lua'
  write_file(path, "local dl = require 'dl'\nlocal A = dl.Adapter { " .. spec_fields .. ' }\n' .. body .. '\nreturn A\n')
  return path
end

describe('dl.testing', function()
  teardown(testing.cleanup)

  describe('image', function()
    it('fills the background and the rectangles', function()
      local img = testing.image { width = 5, height = 4, color = { 10, 20, 30 },
        rects = { { x = 1, y = 2, width = 2, height = 1, color = { 200, 100, 0 } } } }
      assert.are.same({ 4, 5, 3 }, img:size())
      assert.are.equal('u8', img:type())
      assert.are.same({ 10, 20, 30 }, { img:get(1, 1, 1), img:get(1, 1, 2), img:get(1, 1, 3) })
      -- row y = 2, columns x = 1..2 (0-based) are rows 3, columns 2..3 here
      assert.are.same({ 200, 100, 0 }, { img:get(3, 2, 1), img:get(3, 2, 2), img:get(3, 2, 3) })
      assert.are.same({ 200, 100, 0 }, { img:get(3, 3, 1), img:get(3, 3, 2), img:get(3, 3, 3) })
      assert.are.equal(10, img:get(3, 4, 1))
      assert.are.equal(10, img:get(4, 2, 1))
    end)

    it('gives the same noise for the same seed, other noise for another', function()
      local a = testing.image { width = 8, height = 8, color = { 128, 128, 128 }, noise = 20, seed = 3 }
      local b = testing.image { width = 8, height = 8, color = { 128, 128, 128 }, noise = 20, seed = 3 }
      local c = testing.image { width = 8, height = 8, color = { 128, 128, 128 }, noise = 20, seed = 4 }
      assert.are.same(a:totable(), b:totable())
      assert.are_not.same(a:totable(), c:totable())
      for _, v in ipairs(a:view(-1):totable()) do assert.is_true(v >= 108 and v <= 148) end
    end)

    it('makes gray and RGBA images (alpha 255 unless given)', function()
      assert.are.same({ 2, 3, 1 }, testing.image { width = 3, height = 2, channels = 1, color = { 7 } }:size())
      local rgba = testing.image { width = 1, height = 1, channels = 4, color = { 1, 2, 3 } }
      assert.are.same({ 1, 2, 3, 255 }, rgba:view(-1):totable())
    end)

    it('names the bad field', function()
      assert.has_error(function() testing.image { color = { 1, 2 } } end,
        'dl.testing.image: color must list 3 values (one per channel)')
      assert.has_error(function() testing.image { rects = { { x = 0, y = 0, width = 1, height = 1, color = { 1, 2, 300 } } } } end,
        'dl.testing.image: rects[1].color[3] must be a number in 0..255 (got 300)')
    end)
  end)

  describe('tempdir', function()
    it('makes empty folders that cleanup removes', function()
      local dir = testing.tempdir()
      assert.is_true(fs.exists(dir))
      assert.are.same({}, fs.list_files(dir))
      write_file(dir .. '/x.txt', 'x')
      testing.cleanup()
      assert.is_false(fs.exists(dir))
    end)
  end)

  describe('items', function()
    it('writes images as PNG files that decode to the same pixels', function()
      local img = testing.image { width = 6, height = 5, color = { 1, 2, 3 }, noise = 50 }
      local items = testing.items({ img, img })
      assert.are.equal(2, #items)
      assert.are.equal('/item1.png', items[1].filename)
      assert.are.equal('image/png', items[2].mimetype)
      assert.are_not.equal(items[1].id, items[2].id)
      local back = assert(image.load(items[2].local_path))
      assert.are.same(img:totable(), back:totable())
    end)

    it('keeps file paths and rejects missing files', function()
      local path = testing.tempdir() .. '/note.txt'
      write_file(path, 'hello')
      local items = testing.items({ path })
      assert.are.equal(path, items[1].local_path)
      assert.are.equal('/note.txt', items[1].filename)
      assert.are.equal('text/plain', items[1].mimetype)
      assert.are.equal(5, items[1].size)
      assert.has_error(function() testing.items({ '/nonexistent/x.png' }) end,
        'dl.testing.items: /nonexistent/x.png: no such file')
    end)
  end)

  describe('adapter', function()
    it('configures the adapter and calls load with a folder', function()
      local path = adapter_file("name = 'toy', labels = { 'a', 'b' }, configuration = { k = 1, batch_size = 4 }", [[
function A:load(dir, opts) self.loaded_from = dir end
function A:predict(batch) return {} end]])
      local A = testing.adapter(path, { configuration = { k = 2 } })
      assert.are.equal(2, A.configuration.k)
      assert.are.equal(4, A.configuration.batch_size)
      assert.are.same({ 'a', 'b' }, A.labels)
      assert.are.equal(2, A.label_to_id_map.b)
      assert.is_true(fs.exists(A.loaded_from))
      local B = testing.adapter(path, { load = false, labels = { 'x' } })
      assert.is_nil(B.loaded_from)
      assert.are.same({ 'x' }, B.labels)
    end)

    it('reports a file that does not return an adapter, with its path', function()
      local path = testing.tempdir() .. '/bad.lua'
      write_file(path, 'return 42\n')
      assert.has_error(function() testing.adapter(path) end)
      local ok, err = pcall(testing.adapter, path)
      assert.is_false(ok)
      assert.matches('bad.lua must return a dl.Adapter, but it returned a number', err, 1, true)
    end)
  end)

  describe('batch', function()
    it('prepares a declared input through the native pipeline', function()
      local path = adapter_file("input = { size = { 4, 2 }, channels = 3, mean = { 0 }, std = { 1 } }",
        'function A:load() end function A:predict() end')
      local A = testing.adapter(path)
      local b = testing.batch(A, { testing.image { width = 8, height = 4, color = { 255, 0, 51 } } })
      assert.are.equal(1, b.n)
      assert.are.same({ 1, 3, 2, 4 }, b.tensor:size())
      -- a flat colour resizes to itself; x / 255 with mean 0, std 1
      assert.are.near(1.0, b.tensor:get(1, 1, 1, 1), 1e-6)
      assert.are.near(0.0, b.tensor:get(1, 2, 2, 4), 1e-6)
      assert.are.near(0.2, b.tensor:get(1, 3, 2, 3), 1e-6)
      assert.are.equal(8, b.items[1].width)
    end)

    it('gives decoded u8 images by default, and prepare_item results when defined', function()
      local img = testing.image { width = 3, height = 2, color = { 9, 8, 7 } }
      local plain = testing.adapter(adapter_file('', 'function A:load() end'))
      local b = testing.batch(plain, { img })
      assert.are.same(img:totable(), b[1]:totable())
      local custom = testing.adapter(adapter_file('', [[
function A:load() end
function A:prepare_item(item) return item.filename .. ':' .. item.mimetype end]]))
      assert.are.equal('/item1.png:image/png', testing.batch(custom, { img })[1])
    end)
  end)

  describe('predict', function()
    local path = adapter_file("labels = { 'dark', 'bright' }, configuration = { batch_size = 2 }", [[
function A:load() self.calls = 0 end
function A:predict(batch)
  self.calls = self.calls + 1
  local out = {}
  for i = 1, batch.n do
    local v = batch[i]:get(1, 1, 1)
    out[i] = { dl.box(1, 2, 3, 4, v > 127 and 'bright' or 'dark', v / 255) }
  end
  return out
end]])

    it('returns Dataloop annotations per item, in batches of batch_size', function()
      local A = testing.adapter(path)
      local imgs = {}
      for i, v in ipairs({ 0, 255, 51, 204, 102 }) do imgs[i] = testing.image { width = 2, height = 2, color = { v, v, v } } end
      local results = testing.predict(A, imgs)
      assert.are.equal(5, #results)
      assert.are.equal(3, A.calls)
      assert.are.equal('bright', results[2][1].label)
      assert.are.equal('dark', results[3][1].label)
      assert.are.equal('box', results[4][1].type)
      assert.are.same({ { x = 1, y = 2, z = 0 }, { x = 3, y = 4, z = 0 } }, results[4][1].coordinates)
      assert.are.near(0.8, results[4][1].metadata.user.model.confidence, 1e-12)
      assert.is_true(results[4][1].metadata.system.automated)
    end)

    it('fails as a run does: naming the item and the field', function()
      local A = testing.adapter(adapter_file('', [[
function A:load() end
function A:predict(batch) return { { dl.classification('x', 1.5) } } end]]))
      assert.has_error(function() testing.predict(A, { testing.image() }) end,
        "item /item1.png: annotation 1 (class): field 'confidence' must be a number in [0, 1] (got 1.5)")
      local B = testing.adapter(adapter_file('', [[
function A:load() end
function A:predict(batch) return {} end]]))
      assert.has_error(function() testing.predict(B, { testing.image() }) end,
        'predict returned 0 results for a batch of 1 items')
    end)

    it('fails an item that cannot be prepared', function()
      local bad = testing.tempdir() .. '/bad.png'
      write_file(bad, 'not a png')
      local A = testing.adapter(path)
      local ok, err = pcall(testing.predict, A, { bad })
      assert.is_false(ok)
      assert.matches('item /bad.png: preparation failed', err, 1, true)
    end)

    it('makes the batch views stale after predict, as a run does', function()
      local A = testing.adapter(adapter_file('input = { size = { 2, 2 }, channels = 1 }', [[
function A:load() end
function A:predict(batch) self.kept = batch.tensor return { {} } end]]))
      assert.are.same({ {} }, testing.predict(A, { testing.image { channels = 1, color = { 5 } } }))
      assert.has_error(function() return A.kept:get(1, 1, 1, 1) end)
    end)
  end)

  describe('embed', function()
    it('returns checked vectors', function()
      local A = testing.adapter(adapter_file('configuration = { embeddings_size = 3 }', [[
function A:load() end
function A:embed(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { i, batch[i]:get(1, 1, 1), 0.5 } end
  return out
end]]))
      local v = testing.embed(A, { testing.image { color = { 4, 0, 0 } }, testing.image { color = { 9, 0, 0 } } })
      assert.are.same({ { 1, 4, 0.5 }, { 2, 9, 0.5 } }, v)
    end)

    it('rejects vectors of the wrong length, naming the item', function()
      local A = testing.adapter(adapter_file('configuration = { embeddings_size = 4 }', [[
function A:load() end
function A:embed(batch) return { { 1, 2 } } end]]))
      assert.has_error(function() testing.embed(A, { testing.image() }) end,
        'item /item1.png: vector has 2 values, but embeddings_size is 4')
    end)
  end)

  describe('dataset', function()
    it('writes the export layout with ground truth', function()
      local dl = require 'dl'
      local ds = testing.dataset {
        name = 'toy', labels = { 'cat', 'dog' },
        items = {
          { filename = '/train/a.png', image = testing.image { width = 3, height = 2 },
            annotations = { dl.classification('cat', 1) } },
          { filename = '/test/b.png', image = testing.image { width = 4, height = 4 },
            annotations = { dl.box(0, 1, 2, 3, 'dog', 1) } },
          { filename = '/test/c.png', image = testing.image() },
        },
      }
      assert.are.same({ 'dataset.json', 'items/test/b.png', 'items/test/c.png', 'items/train/a.png',
        'json/test/b.json', 'json/test/c.json', 'json/train/a.json' }, fs.list_files(ds.path))
      local info = cjson.decode(assert(io.open(ds.path .. '/dataset.json')):read('*a'))
      assert.are.equal('toy', info.name)
      assert.are.equal(ds.id, info.id)
      assert.are.same({ { tag = 'cat' }, { tag = 'dog' } }, info.labels)
      local text = assert(io.open(ds.path .. '/json/test/b.json')):read('*a')
      local doc = cjson.decode(text)
      assert.are.equal('/test/b.png', doc.filename)
      assert.are.equal(4, doc.metadata.system.width)
      local a = doc.annotations[1]
      assert.are.equal('dog', a.label)
      assert.are.same({ { x = 0, y = 1, z = 0 }, { x = 2, y = 3, z = 0 } }, a.coordinates)
      assert.is_nil(a.metadata.user) -- ground truth: no model
      assert.matches('"attributes":[]', text, 1, true)
      local empty = assert(io.open(ds.path .. '/json/test/c.json')):read('*a')
      assert.matches('"annotations":[]', empty, 1, true)
      local img = assert(image.load(ds.path .. '/items/train/a.png'))
      assert.are.same({ 2, 3, 3 }, img:size())
    end)

    it('names the bad item', function()
      assert.has_error(function() testing.dataset { items = { { filename = 'a.png', image = testing.image() } } } end,
        "dl.testing.dataset: items[1].filename must be a remote path such as '/train/a.png'")
      assert.has_error(function() testing.dataset { items = { { filename = '/a.png' } } } end,
        'dl.testing.dataset: items[1] needs an image or a file')
    end)
  end)
end)
