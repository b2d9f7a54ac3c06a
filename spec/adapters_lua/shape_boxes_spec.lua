-- Specs for adapters_lua/shape_boxes.lua: the detector on images drawn here,
-- pixel by pixel, so every expected box is known exactly.
local dl = require 'dl'

local A = dofile('adapters_lua/shape_boxes.lua')
local cfg = { background_distance = 60, colour_distance = 60, min_area = 40 }

-- A w x h RGB image of one grey.
local function canvas(w, h, grey)
  local img = dl.tensor.new({ h, w, 3 }, 'u8')
  img:fill(grey)
  return img
end

-- Paints the pixels (x, y), 0-based, for which inside(x, y) holds.
local function paint(img, colour, inside)
  local h, w = img:size(1), img:size(2)
  local p = img:data()
  for y = 0, h - 1 do
    for x = 0, w - 1 do
      if inside(x, y) then
        for c = 0, 2 do p[(y * w + x) * 3 + c] = colour[c + 1] end
      end
    end
  end
end

local function rect(l, t, r, b) return function(x, y) return x >= l and x < r and y >= t and y < b end end

local function sorted_boxes(boxes)
  table.sort(boxes, function(a, b) return a.left < b.left end)
  return boxes
end

describe('shape_boxes detector', function()
  it('finds a rectangle and a triangle with their exact boxes and names them by fill ratio', function()
    local img = canvas(80, 60, 120)
    paint(img, { 220, 40, 40 }, rect(10, 5, 30, 20))
    -- a triangle with its apex at the top: 31 pixels wide at the bottom row, 16 rows high
    paint(img, { 40, 70, 220 }, function(x, y) return y >= 40 and y < 56 and math.abs(x - 60) <= (y - 40) end)
    local boxes = sorted_boxes(A.detect(img, cfg))
    assert.equals(2, #boxes)
    local r, t = boxes[1], boxes[2]
    assert.same({ 10, 5, 30, 20, 'rectangle' }, { r.left, r.top, r.right, r.bottom, r.label })
    assert.equals(1, r.confidence)
    assert.same({ 45, 40, 76, 56, 'triangle' }, { t.left, t.top, t.right, t.bottom, t.label })
    assert.is_true(t.confidence > 0.8 and t.confidence < 1)
  end)

  it('finds an ellipse', function()
    local img = canvas(64, 48, 200)
    paint(img, { 40, 180, 60 }, function(x, y)
      local u, v = (x + 0.5 - 32) / 20, (y + 0.5 - 24) / 12
      return u * u + v * v <= 1
    end)
    local boxes = A.detect(img, cfg)
    assert.equals(1, #boxes)
    assert.same({ 12, 12, 52, 36, 'ellipse' }, { boxes[1].left, boxes[1].top, boxes[1].right, boxes[1].bottom, boxes[1].label })
  end)

  it('keeps touching shapes of different colours apart and ignores specks', function()
    local img = canvas(64, 32, 60)
    paint(img, { 230, 210, 40 }, rect(4, 4, 20, 28))
    paint(img, { 200, 50, 200 }, rect(20, 8, 40, 24)) -- shares an edge with the first
    paint(img, { 230, 210, 40 }, rect(50, 10, 55, 15)) -- 25 pixels: under min_area
    local boxes = sorted_boxes(A.detect(img, cfg))
    assert.equals(2, #boxes)
    assert.same({ 4, 4, 20, 28 }, { boxes[1].left, boxes[1].top, boxes[1].right, boxes[1].bottom })
    assert.same({ 20, 8, 40, 24 }, { boxes[2].left, boxes[2].top, boxes[2].right, boxes[2].bottom })
  end)

  it('finds nothing on an empty background', function()
    assert.same({}, A.detect(canvas(32, 32, 90), cfg))
  end)

  it('names a grey image as the wrong input', function()
    local grey = dl.tensor.new({ 8, 8, 1 }, 'u8')
    local ok, err = pcall(A.detect, grey, cfg)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'detect' %(expected an RGB image, H x W x 3; got 8 x 8 x 1%)", err)
  end)
end)
