--- __NAME__: an object detector adapter for dlrun.
---
--- As written it finds the bright region of an image (pixels whose mean over
--- the colour channels passes configuration.threshold) and returns one box
--- around it, labelled 'object', with the share of bright pixels inside the
--- box as its confidence. Put your detector in its place: read its weights in
--- load(), run it in predict() and return dl.box(...) per object found.
---
---   dlrun __NAME__.lua predict samples/            detect in the sample images
---   dlrun __NAME__.lua predict --watch samples/    ... and again on every save
---   dlrun test                                     run spec/__NAME___spec.lua
local dl = require 'dl'

local A = dl.Adapter {
  name = '__NAME__',
  labels = { 'object' },
  -- No declared input: batch[i] is each image as decoded, a u8 H×W×C tensor
  -- at its own size, so boxes come out in the image's pixel coordinates.
  output_type = 'box',
  configuration = { batch_size = 8, threshold = 128 },
}

--- Reads the model from local_path, the model's working copy (this one has
--- nothing to read).
---@param local_path string
---@param opts table
function A:load(local_path, opts)
  self.threshold = self.configuration.threshold
end

-- The box {left, top, right, bottom} around the pixels brighter than the
-- threshold, in pixel edges (a pixel at column x spans x..x+1), and the share
-- of bright pixels in it; nil when there is none.
local function bright_box(img, threshold)
  local shape = img:size()
  local h, w, c = shape[1], shape[2], shape[3]
  local p = img:contiguous():data()
  local left, top, right, bottom, count = w, h, -1, -1, 0
  for y = 0, h - 1 do
    for x = 0, w - 1 do
      local sum = 0
      for k = 0, c - 1 do sum = sum + p[(y * w + x) * c + k] end
      if sum / c > threshold then
        count = count + 1
        if x < left then left = x end
        if x > right then right = x end
        if y < top then top = y end
        if y > bottom then bottom = y end
      end
    end
  end
  if count == 0 then return nil end
  local area = (right - left + 1) * (bottom - top + 1)
  return { left, top, right + 1, bottom + 1 }, count / area
end

--- One list of annotations per item of the batch.
---@param batch dl.Batch
---@param opts table
---@return dl.Annotation[][]
function A:predict(batch, opts)
  local results = {}
  for i = 1, batch.n do
    local found = {}
    if batch.ok[i] then
      local box, confidence = bright_box(batch[i], self.threshold)
      if box then found[1] = dl.box(box[1], box[2], box[3], box[4], 'object', confidence) end
    end
    results[i] = found
  end
  return results
end

return A
