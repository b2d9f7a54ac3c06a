-- Specs for lua/dl/batch.lua: the pipeline through the FFI and the batch object.
local dl = require 'dl'
local batch = require 'dl.batch'

local IMAGES = 'tests/data/images/'
local paths = { IMAGES .. 'rgb8.png', IMAGES .. 'gray8.png', IMAGES .. 'rgba8.png', IMAGES .. 'exif6.jpg',
  IMAGES .. 'rgb.jpg' }

describe('dl.batch.pipeline', function()
  it('delivers N×C×H×W batches in item order with the original sizes', function()
    local pipe = dl.batch.pipeline { paths = paths, size = { 8, 6 }, channels = 3, batch_size = 2, threads = 2,
      mean = { 0.5 }, std = { 0.5 } }
    assert.equals(5, pipe:count())
    local seen, sizes = 0, {}
    for b in pipe:batches() do
      assert.same(b.n == 2 and { 2, 3, 6, 8 } or { 1, 3, 6, 8 }, b.tensor:size())
      for i = 1, b.n do
        seen = seen + 1
        assert.is_true(b.ok[i], b.errors[i])
        assert.same({ 3, 6, 8 }, b[i]:size())
        assert.equals(paths[seen], b.items[i].local_path)
        sizes[seen] = { b.items[i].width, b.items[i].height }
        -- normalized with mean 0.5, std 0.5: every value lies in [-1, 1]
        local v = b[i]:get(1, 1, 1)
        assert.is_true(v >= -1 and v <= 1)
      end
    end
    assert.equals(5, seen)
    local img = dl.image.load(paths[4])
    local shape = img:size()
    assert.same({ shape[2], shape[1] }, sizes[4]) -- after EXIF rotation
  end)

  it('fails a bad file in its own slot and keeps the others', function()
    local pipe = dl.batch.pipeline { paths = { paths[1], 'tests/data/bad/truncated.png', 'no/such/file.png' },
      size = { 4, 4 }, channels = 1, batch_size = 3 }
    local b = pipe:next()
    assert.is_true(b.ok[1])
    assert.is_false(b.ok[2])
    assert.is_false(b.ok[3])
    assert.matches('truncated.png', b.errors[2], 1, true)
    assert.matches('no/such/file.png', b.errors[3], 1, true)
    assert.is_nil(pipe:next())
    pipe:close()
  end)

  it('fails a file over max_bytes in its slot without reading it', function()
    local sparse = os.tmpname()
    assert.is_true(os.execute('truncate -s 1073741825 ' .. sparse) == 0) -- sparse: no disk used
    local pipe = dl.batch.pipeline { paths = { paths[1], sparse, paths[2] }, size = { 4, 4 }, batch_size = 3,
      max_bytes = 1000000 }
    local b = pipe:next()
    pipe:close()
    os.remove(sparse)
    assert.is_true(b.ok[1])
    assert.is_false(b.ok[2])
    assert.is_true(b.ok[3])
    assert.matches(sparse .. "': 1073741825 bytes, over the limit of 1000000 (max_bytes)", b.errors[2], 1, true)
  end)

  it('makes views of a recycled batch raise instead of reading reused memory', function()
    local pipe = dl.batch.pipeline { paths = paths, size = { 4, 4 }, batch_size = 2 }
    local b = pipe:next()
    local row = b[1]
    assert.is_number(row:get(1, 1, 1))
    pipe:next() -- releases the first batch
    assert.has_error(function() row:get(1, 1, 1) end)
    local ok, err = pcall(function() return b.tensor:sum() end)
    assert.is_false(ok)
    assert.matches('recycled', err)
    pipe:close()
  end)

  it('takes encoded images from memory', function()
    local f = assert(io.open(paths[1], 'rb'))
    local bytes = f:read('*a')
    f:close()
    local pipe = dl.batch.pipeline { bytes = { bytes, 'not an image' }, size = { 5, 5 }, batch_size = 4, dtype = 'u8',
      layout = 'nhwc' }
    local b = pipe:next()
    assert.same({ 2, 5, 5, 3 }, b.tensor:size())
    assert.equals('u8', b.tensor:type())
    assert.is_true(b.ok[1])
    assert.is_false(b.ok[2])
    pipe:close()
  end)
end)

describe('dl.batch.spec', function()
  it('names the field of a bad input declaration', function()
    local function err_of(input)
      local ok, err = pcall(batch.spec, input, 4)
      assert.is_false(ok)
      return err
    end
    assert.matches('input.size must be', err_of({}))
    assert.matches('input.channels must be 1, 3 or 4', err_of({ size = { 2, 2 }, channels = 2 }))
    assert.matches('input.layout must be one of nchw, nhwc', err_of({ size = { 2, 2 }, layout = 'chw' }))
    assert.matches('input.mean must list 1 or 3 numbers', err_of({ size = { 2, 2 }, mean = { 1, 2 } }))
    assert.matches('input.resize must be one of', err_of({ size = { 2, 2 }, resize = 'cubic' }))
    local ok, err = pcall(batch.spec, { size = { 2, 2 } }, 0)
    assert.matches('configuration.batch_size must be a positive integer', err)
  end)
end)

describe('dl.batch.new', function()
  it('holds caller-filled inputs and failure marks', function()
    local b = batch.new({ { id = 'a' }, { id = 'b' } })
    assert.equals(2, b.n)
    b[1] = 'x'
    batch.fail(b, 2, 'bad')
    assert.equals('x', b[1])
    assert.is_false(b.ok[2])
    assert.equals('bad', b.errors[2])
  end)
end)
