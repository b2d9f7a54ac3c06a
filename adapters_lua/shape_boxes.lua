--- shape_boxes: a classical box detector, the box example of dlrun.
---
--- It finds the rectangles, ellipses and triangles of the dataset that
--- `dlrun dataset import shapes DEST` makes, without training:
---   1. the background colour is the per-channel median of the image border;
---   2. with dl.tensor ops, every pixel's squared RGB distance to it: pixels
---      far enough are foreground;
---   3. foreground pixels grow into regions of one colour (4-connected, each
---      pixel close to its region's mean colour), so touching shapes of
---      different colours stay apart;
---   4. a region's box is its extent; its fill ratio (area / box area) names
---      the shape: about 1 for a rectangle, pi/4 for an ellipse, 1/2 for a
---      triangle; the closer to the ideal, the higher the confidence.
--- A shape partly hidden by another one gives a smaller box or an odd fill
--- ratio, so the AP is high but not 1.
---
---   dlrun dataset import shapes shapes
---   dlrun adapters_lua/shape_boxes.lua evaluate --dataset shapes
local dl = require 'dl'
local ffi = require 'ffi'

local floor, abs, min, max, pi = math.floor, math.abs, math.min, math.max, math.pi
local sort = table.sort

local A = dl.Adapter {
  name = 'shape-boxes',
  output_type = 'box',
  labels = { 'rectangle', 'ellipse', 'triangle' },
  configuration = {
    batch_size = 16,
    background_distance = 60, -- RGB distance from the background that makes a pixel foreground
    colour_distance = 60,     -- RGB distance from a region's mean colour that lets a pixel join it
    min_area = 40,            -- smaller regions are specks, not shapes
  },
}

-- How much of its box each shape fills.
local IDEAL_FILL = { rectangle = 1.0, ellipse = pi / 4, triangle = 0.5 }

--- Per-channel median of the border pixels of a contiguous u8 H x W x 3 image.
---@param p ffi.cdata* uint8_t* of the image
---@param w integer
---@param h integer
---@return number[] {r, g, b}
local function border_median(p, w, h)
  local channels = { {}, {}, {} }
  local function take(x, y)
    local o = (y * w + x) * 3
    for c = 1, 3 do
      local list = channels[c]
      list[#list + 1] = p[o + c - 1]
    end
  end
  for x = 0, w - 1 do
    take(x, 0)
    take(x, h - 1)
  end
  for y = 1, h - 2 do
    take(0, y)
    take(w - 1, y)
  end
  local median = {}
  for c = 1, 3 do
    sort(channels[c])
    median[c] = channels[c][floor(#channels[c] / 2) + 1]
  end
  return median
end

--- The shape a fill ratio looks like, and how sure that is (0.05 .. 1).
---@param fill number
---@return string label
---@return number confidence
local function classify(fill)
  local best, gap = nil, math.huge
  for label, ideal in pairs(IDEAL_FILL) do
    local d = abs(fill - ideal)
    if d < gap then best, gap = label, d end
  end
  return best, max(0.05, min(1, 1 - 4 * gap))
end

--- Regions of one colour among the foreground pixels, as boxes.
---@param rgb ffi.cdata* uint8_t*, contiguous H x W x 3
---@param fg ffi.cdata* uint8_t*, H x W, 1 for foreground
---@param w integer
---@param h integer
---@param cfg table the adapter's configuration
---@return dl.Annotation[]
local function find_boxes(rgb, fg, w, h, cfg)
  local n = w * h
  local taken = ffi.new('uint8_t[?]', n)
  local stack = ffi.new('int32_t[?]', n)
  local near2 = cfg.colour_distance * cfg.colour_distance
  local boxes = {}
  for seed = 0, n - 1 do
    if fg[seed] == 1 and taken[seed] == 0 then
      taken[seed] = 1
      stack[0] = seed
      local sp, area = 1, 0
      local sr, sg, sb = 0, 0, 0
      local left, top, right, bottom = w, h, -1, -1
      while sp > 0 do
        sp = sp - 1
        local q = stack[sp]
        local x, y = q % w, floor(q / w)
        area = area + 1
        sr, sg, sb = sr + rgb[3 * q], sg + rgb[3 * q + 1], sb + rgb[3 * q + 2]
        left, right, top, bottom = min(left, x), max(right, x), min(top, y), max(bottom, y)
        local mr, mg, mb = sr / area, sg / area, sb / area
        -- the four neighbours: left, right, up, down
        for k = 1, 4 do
          local nx, ny = x, y
          if k == 1 then nx = x - 1 elseif k == 2 then nx = x + 1 elseif k == 3 then ny = y - 1 else ny = y + 1 end
          if nx >= 0 and nx < w and ny >= 0 and ny < h then
            local r = ny * w + nx
            if fg[r] == 1 and taken[r] == 0 then
              local dr, dg, db = rgb[3 * r] - mr, rgb[3 * r + 1] - mg, rgb[3 * r + 2] - mb
              if dr * dr + dg * dg + db * db <= near2 then
                taken[r] = 1
                stack[sp] = r
                sp = sp + 1
              end
            end
          end
        end
      end
      if area >= cfg.min_area then
        local bw, bh = right - left + 1, bottom - top + 1
        local label, confidence = classify(area / (bw * bh))
        boxes[#boxes + 1] = dl.box(left, top, right + 1, bottom + 1, label, confidence)
      end
    end
  end
  return boxes
end

--- The boxes of one image.
---@param img dl.Tensor u8 H x W x 3
---@param cfg table the adapter's configuration
---@return dl.Annotation[]
local function detect(img, cfg)
  if img:dim() ~= 3 or img:size(3) ~= 3 then
    local dims = {}
    for d = 1, img:dim() do dims[d] = img:size(d) end
    error('bad argument #1 to \'detect\' (expected an RGB image, H x W x 3; got ' .. table.concat(dims, ' x ') .. ')', 2)
  end
  local h, w = img:size(1), img:size(2)
  img = img:contiguous()
  local rgb = img:data()
  local bg = dl.tensor.from_table(border_median(rgb, w, h), 'f32')
  local diff = img:float() - bg -- broadcast over H x W
  local dist2 = (diff * diff):sum(3):contiguous()
  local far2 = cfg.background_distance * cfg.background_distance
  local d = dist2:data()
  local fg = ffi.new('uint8_t[?]', w * h)
  for i = 0, w * h - 1 do fg[i] = d[i] > far2 and 1 or 0 end
  return find_boxes(rgb, fg, w, h, cfg)
end

function A:load(local_path, opts) end -- nothing to load: the detector has no weights

function A:predict(batch, opts)
  local results = {}
  for i = 1, batch.n do
    results[i] = batch.ok[i] == false and {} or detect(batch[i], self.configuration)
  end
  return results
end

A.detect = detect

return A
