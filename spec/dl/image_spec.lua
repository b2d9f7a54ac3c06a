-- Specs for lua/dl/image.lua. Expected pixels come from tests/data/make_images.py (PIL),
-- through the PAM files it writes; they are read here without any decoder of ours.
local image = require 'dl.image'
local tensor = require 'dl.tensor'

local IMAGES = 'tests/data/images/'

-- Reads a PAM reference: its width, height, depth and samples (a flat 1-based list).
local function read_pam(path)
  local f = assert(io.open(path, 'rb'))
  local head = {}
  for line in f:lines() do
    if line == 'ENDHDR' then break end
    local k, v = line:match('^(%u+) (%S+)$')
    if k then head[k] = tonumber(v) or v end
  end
  local data = f:read('*a')
  f:close()
  local samples = {}
  for i = 1, #data do samples[i] = data:byte(i) end
  return { width = head.WIDTH, height = head.HEIGHT, depth = head.DEPTH, samples = samples }
end

-- Largest |img - ref| over all samples (img: u8 H×W×C tensor, any row stride).
local function max_diff(img, ref)
  assert.same({ ref.height, ref.width, ref.depth }, img:size())
  local worst, i = 0, 0
  for y = 1, ref.height do
    for x = 1, ref.width do
      for c = 1, ref.depth do
        i = i + 1
        local d = math.abs(img:get(y, x, c) - ref.samples[i])
        if d > worst then worst = d end
      end
    end
  end
  return worst
end

describe('dl.image.load', function()
  it('decodes a JPEG as PIL does, with its info', function()
    local img, info = image.load(IMAGES .. 'rgb.jpg')
    assert.equals('u8', img:type())
    assert.equals(0, max_diff(img, read_pam(IMAGES .. 'rgb.jpg.pam')))
    assert.same({ format = 'jpeg', width = 45, height = 33, channels = 3, bit_depth = 8, orientation = 1,
      is_cmyk = false }, info)
  end)

  it('turns EXIF-rotated photos upright, unless told not to', function()
    local img, info = image.load(IMAGES .. 'exif6.jpg')
    assert.equals(6, info.orientation)
    assert.equals(0, max_diff(img, read_pam(IMAGES .. 'exif6.jpg.pam')))
    local stored = image.load(IMAGES .. 'exif6.jpg', { exif = false })
    assert.same({ 33, 45, 3 }, stored:size())
  end)

  it('converts channels and decodes at a DCT scale when asked for a small size', function()
    local gray = image.load(IMAGES .. 'rgb.jpg', { channels = 1 })
    assert.equals(0, max_diff(gray, read_pam(IMAGES .. 'rgb.jpg.L.pam')))
    local small, info = image.load(IMAGES .. 'rgb.jpg', { min_width = 6, min_height = 5 })
    assert.equals(0, max_diff(small, read_pam(IMAGES .. 'rgb.jpg.scale8.pam')))
    assert.equals(45, info.width) -- the original size
  end)

  it('decodes PNGs of every kind, and 16-bit kept as i32', function()
    assert.equals(0, max_diff(image.load(IMAGES .. 'palette_trns.png'), read_pam(IMAGES .. 'palette_trns.png.pam')))
    local wide = image.load(IMAGES .. 'gray16.png', { keep_16bit = true })
    assert.equals('i32', wide:type())
    local ref = read_pam(IMAGES .. 'gray16.png.pam') -- big-endian 16-bit samples
    assert.equals(ref.samples[1] * 256 + ref.samples[2], wide:get(1, 1, 1))
  end)

  it('returns nil and a message naming the file for bad files', function()
    for name, words in pairs({ ['truncated.jpg'] = 'Premature end', ['truncated.png'] = 'PNG',
      ['empty.jpg'] = 'empty', ['text.jpg'] = 'not a JPEG or PNG', ['huge.png'] = 'over the limit',
      ['huge.jpg'] = 'over the limit' }) do
      local img, err = image.load('tests/data/bad/' .. name)
      assert.is_nil(img)
      assert.matches(name, err, 1, true)
      assert.matches(words, err, 1, true)
    end
    local img, err = image.load('no/such/file.jpg')
    assert.is_nil(img)
    assert.matches('No such file', err, 1, true)
  end)

  it('refuses a file over max_bytes (default 1 GiB) before reading it', function()
    local sparse = os.tmpname()
    assert.is_true(os.execute('truncate -s 1073741825 ' .. sparse) == 0) -- sparse: no disk used
    local img, err = image.load(sparse)
    os.remove(sparse)
    assert.is_nil(img)
    assert.matches(sparse, err, 1, true)
    assert.matches('1073741825 bytes, over the limit of 1073741824 (max_bytes)', err, 1, true)
    local size = #assert(io.open(IMAGES .. 'rgb.jpg', 'rb')):read('*a')
    img, err = image.load(IMAGES .. 'rgb.jpg', { max_bytes = size - 1 })
    assert.is_nil(img)
    assert.matches('over the limit of ' .. (size - 1), err, 1, true)
    assert.is_not_nil(image.load(IMAGES .. 'rgb.jpg', { max_bytes = size }))
    assert.has_error(function() image.load(IMAGES .. 'rgb.jpg', { max_bytes = 0 }) end)
  end)

  it('raises on misuse', function()
    assert.has_error(function() image.load(42) end, "bad argument #1 to 'load' (string expected, got number)")
    assert.has_error(function() image.load(IMAGES .. 'rgb.jpg', { channels = 5 }) end)
    assert.has_error(function() image.load(IMAGES .. 'rgb.jpg', { chanels = 3 }) end)
  end)
end)

describe('dl.image.decode and info', function()
  it('decodes bytes in a string and probes headers', function()
    local f = assert(io.open(IMAGES .. 'rgb8.png', 'rb'))
    local bytes = f:read('*a')
    f:close()
    local img = image.decode(bytes)
    assert.equals(0, max_diff(img, read_pam(IMAGES .. 'rgb8.png.pam')))
    local nothing, err = image.decode('not an image')
    assert.is_nil(nothing)
    assert.matches('not a JPEG or PNG', err, 1, true)
    local info = image.info(IMAGES .. 'exif8.jpg')
    assert.same({ 33, 45, 8 }, { info.width, info.height, info.orientation })
  end)
end)

describe('image methods on tensors', function()
  it('chains load, resize and to_tensor into a normalized C×H×W f32 tensor', function()
    local mean, std = { 0.485, 0.456, 0.406 }, { 0.229, 0.224, 0.225 }
    local x = image.load(IMAGES .. 'photo.png'):resize(17, 13):to_tensor { mean = mean, std = std }
    assert.same({ 3, 13, 17 }, x:size())
    assert.equals('f32', x:type())
    -- numpy's float32 (x / 255 - mean) / std of PIL's resize
    local f = assert(io.open(IMAGES .. 'photo.bilinear.17x13.norm.f32', 'rb'))
    local raw = f:read('*a')
    f:close()
    local ref = require('ffi').cast('const float *', raw)
    local worst = 0
    for c = 1, 3 do
      for y = 1, 13 do
        for xx = 1, 17 do
          worst = math.max(worst, math.abs(x:get(c, y, xx) - ref[((c - 1) * 13 + y - 1) * 17 + xx - 1]))
        end
      end
    end
    assert.is_true(worst < 1e-6)
  end)

  it('resizes as PIL does, bilinear and box', function()
    local src = image.load(IMAGES .. 'photo.png')
    assert.equals(0, max_diff(src:resize(97, 71), read_pam(IMAGES .. 'photo.bilinear.97x71.pam')))
    assert.equals(0, max_diff(image.resize(src, 17, 13, 'box'), read_pam(IMAGES .. 'photo.box.17x13.pam')))
    assert.has_error(function() src:resize(0, 5) end)
    assert.has_error(function() src:resize(5, 5, 'bicubic') end,
      "bad argument #4 to 'resize' (mode 'bilinear' or 'box' expected, got bicubic)")
  end)

  it('crops as views, centre crops as torchvision, letterboxes with a way back', function()
    local src = image.load(IMAGES .. 'photo.png')
    local c = src:crop(40, 30, 5, 3)
    assert.same({ 3, 5, 3 }, c:size())
    assert.equals(src:get(33, 45, 2), c:get(3, 5, 2))
    c:set(1, 1, 1, 7) -- a view: writes show in the source
    assert.equals(7, src:get(31, 41, 1))
    assert.has_error(function() src:crop(41, 30, 5, 3) end)
    -- torchvision: top = round(11.5) = 12, left = round(12.5) = 12 (halves to even)
    assert.equals(src:get(13, 13, 1), src:center_crop(20, 10):get(1, 1, 1))
    local lb, where = src:letterbox(17, 17, { pad = 0 })
    assert.same({ 17, 17, 3 }, lb:size())
    assert.same({ x = 0, y = 2, width = 17, height = 12 }, { x = where.x, y = where.y, width = where.width,
      height = where.height })
    assert.near(17 / 45, where.scale, 1e-12)
    assert.equals(0, lb:get(1, 1, 1))
  end)

  it('encodes and saves PNG and JPEG', function()
    local src = image.load(IMAGES .. 'rgba8.png')
    local back = image.decode(src:encode_png())
    assert.equals(0, max_diff(back, read_pam(IMAGES .. 'rgba8.png.pam')))
    local photo = image.load(IMAGES .. 'photo.png')
    local jpeg = image.decode(photo:encode_jpeg(95))
    assert.equals(0, max_diff(jpeg, read_pam(IMAGES .. 'photo.q95.jpg.pam'))) -- as PIL's quality=95
    local path = os.tmpname()
    assert.is_true(photo:save_png(path))
    assert.equals(0, max_diff(image.load(path), read_pam(IMAGES .. 'photo.png.pam')))
    assert.is_true(photo:save_jpeg(path, 90))
    assert.equals('jpeg', image.info(path).format)
    os.remove(path)
    local ok, err = photo:save_png('/no/such/dir/x.png')
    assert.is_nil(ok)
    assert.matches('/no/such/dir/x.png', err, 1, true)
    assert.has_error(function() photo:encode_jpeg(0) end)
    assert.has_error(function() image.encode_png(tensor.new({ 2, 2 }, 'f32')) end)
  end)
end)
