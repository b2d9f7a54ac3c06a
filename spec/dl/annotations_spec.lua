-- Specs for lua/dl/annotations.lua: builders and the Dataloop conversion.
local dl = require 'dl'
local annotations = require 'dl.annotations'

local ctx = { model_name = 'm1', model_id = 'id-1' }

local function convert_one(ann)
  local out, err = annotations.to_dataloop({ ann }, ctx)
  return out and out[1], err
end

describe('annotation builders', function()
  it('converts a classification with model metadata on both sides', function()
    local a = assert(convert_one(dl.classification('cat', 0.75, { description = 'fluffy', attributes = { 'a' } })))
    assert.equals('class', a.type)
    assert.equals('cat', a.label)
    assert.is_nil(a.coordinates)
    assert.equals('fluffy', a.description)
    assert.same({ 'a' }, a.attributes)
    assert.same({ name = 'm1', model_id = 'id-1', confidence = 0.75 }, a.metadata.user.model)
    assert.same(a.metadata.user.model, a.metadata.system.model)
    assert.is_true(a.metadata.system.automated)
  end)

  it('converts boxes, points, polygons and polylines to Dataloop coordinates', function()
    local box = assert(convert_one(dl.box(1, 2, 30, 40, 'car', 0.5)))
    assert.same({ { x = 1, y = 2, z = 0 }, { x = 30, y = 40, z = 0 } }, box.coordinates)
    local pt = assert(convert_one(dl.point(5, 6, 'eye', 1)))
    assert.same({ x = 5, y = 6, z = 0 }, pt.coordinates)
    local poly = assert(convert_one(dl.polygon({ { 0, 0 }, { 4, 0 }, { 4, 3 } }, 'roof', 0.9)))
    assert.equals('segment', poly.type)
    assert.same({ { { x = 0, y = 0 }, { x = 4, y = 0 }, { x = 4, y = 3 } } }, poly.coordinates)
    local flat = assert(convert_one(dl.polygon({ 0, 0, 4, 0, 4, 3 }, 'roof', 0.9)))
    assert.same(poly.coordinates, flat.coordinates)
    local line = assert(convert_one(dl.polyline({ { x = 1, y = 1 }, { x = 2, y = 5 } }, 'lane', 0.2)))
    assert.same({ { { x = 1, y = 1 }, { x = 2, y = 5 } } }, line.coordinates)
  end)

  it('accepts an empty list for an item with nothing found', function()
    assert.same({}, annotations.to_dataloop({}, ctx))
  end)
end)

describe('annotations.to_dataloop errors name the annotation and the field', function()
  local cases = {
    { 'NaN confidence', dl.classification('cat', 0 / 0), "annotation 1 (class): field 'confidence' must be a number in [0, 1] (got NaN)" },
    { 'confidence above 1', dl.classification('cat', 1.5), "field 'confidence' must be a number in [0, 1] (got 1.5)" },
    { 'missing confidence', dl.box(0, 0, 1, 1, 'x'), "field 'confidence'" },
    { 'missing label', dl.box(0, 0, 1, 1, nil, 0.5), "annotation 1 (box): field 'label' must be a non-empty string (got nil)" },
    { 'unknown type', { type = 'cuboid', label = 'x', confidence = 1 }, "field 'type' unknown annotation type 'cuboid'" },
    { 'plain table without type', { label = 'x' }, "field 'type' is missing" },
    { 'NaN coordinate', dl.box(0 / 0, 0, 1, 1, 'x', 0.5), "annotation 1 (box): field 'left' must be a finite number (got NaN)" },
    { 'inverted box', dl.box(5, 0, 1, 1, 'x', 0.5), "field 'right' right (1) is left of left (5)" },
    { 'polygon too short', dl.polygon({ { 0, 0 }, { 1, 1 } }, 'x', 0.5), "field 'points' needs at least 3 points (got 2)" },
    { 'odd flat list', dl.polyline({ 0, 0, 1 }, 'x', 0.5), "field 'points' a flat list needs an even count" },
    { 'bad attributes', dl.classification('x', 0.5, { attributes = 'no' }), "field 'attributes' must be a table" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local out, err = annotations.to_dataloop({ dl.classification('ok', 1), c[2] }, ctx)
      assert.is_nil(out)
      assert.matches('annotation 2', err, 1, true)
      local expected = c[3]:gsub('annotation 1', 'annotation 2')
      assert.matches(expected, err, 1, true)
    end)
  end

  it('refuses a single annotation where a list is expected, with a hint', function()
    local out, err = annotations.to_dataloop(dl.classification('cat', 1), ctx)
    assert.is_nil(out)
    assert.matches('got a single annotation (wrap it', err, 1, true)
    out, err = annotations.to_dataloop('cat', ctx)
    assert.matches('expected a list of annotations (got a string)', err, 1, true)
    out, err = annotations.to_dataloop({ label = 'cat' }, ctx)
    assert.matches("it has the key 'label'", err, 1, true)
  end)
end)

describe('annotations.base64', function()
  it('matches the RFC 4648 test vectors', function()
    local vectors = { [''] = '', f = 'Zg==', fo = 'Zm8=', foo = 'Zm9v', foob = 'Zm9vYg==', fooba = 'Zm9vYmE=',
      foobar = 'Zm9vYmFy' }
    for input, want in pairs(vectors) do assert.equals(want, annotations.base64(input)) end
    assert.equals('AP8=', annotations.base64('\0\255'))
  end)
end)

describe('segmentation masks', function()
  it('become an RGBA PNG of the label colour, opaque where the mask is set', function()
    local tensor = require 'dl.tensor'
    local mask = tensor.from_table({ { 0, 1, 1 }, { 0, 0, 1 } }, 'u8')
    local out = assert(annotations.to_dataloop({ dl.segmentation(mask, 'road', 0.8) },
      { model_name = 'm', label_colors = { road = '#ff8000' } }))
    local url = out[1].coordinates
    assert.equals('binary', out[1].type)
    local b64 = url:match('^data:image/png;base64,(.+)$')
    assert.is_string(b64)
    -- decode the base64 (RFC 4648) and the PNG, and check the pixels
    local alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    local bytes, acc, nbits = {}, 0, 0
    for c in b64:gsub('=', ''):gmatch('.') do
      acc, nbits = acc * 64 + (alphabet:find(c, 1, true) - 1), nbits + 6
      if nbits >= 8 then
        nbits = nbits - 8
        bytes[#bytes + 1] = string.char(math.floor(acc / 2 ^ nbits))
        acc = acc % 2 ^ nbits
      end
    end
    local img = assert(dl.image.decode(table.concat(bytes)))
    assert.same({ 2, 3, 4 }, img:size())
    assert.same({ 0, 0, 0, 0 }, { img:get(1, 1, 1), img:get(1, 1, 2), img:get(1, 1, 3), img:get(1, 1, 4) })
    assert.same({ 255, 128, 0, 255 }, { img:get(1, 2, 1), img:get(1, 2, 2), img:get(1, 2, 3), img:get(1, 2, 4) })
    assert.same({ 255, 128, 0, 255 }, { img:get(2, 3, 1), img:get(2, 3, 2), img:get(2, 3, 3), img:get(2, 3, 4) })
  end)

  it('refuses a mask that is not a u8 H×W tensor, naming the field', function()
    local tensor = require 'dl.tensor'
    local _, err = annotations.to_dataloop({ dl.segmentation(tensor.new({ 2, 2 }), 'x', 1) }, ctx)
    assert.matches("field 'mask' must be a u8 tensor (got f32)", err, 1, true)
    _, err = annotations.to_dataloop({ dl.segmentation('no', 'x', 1) }, ctx)
    assert.matches("field 'mask' must be a u8 tensor H×W", err, 1, true)
  end)
end)
