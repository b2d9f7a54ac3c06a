-- B2's adapter: the whole predict_items path with a model that does no work.
-- Items are prepared by the native pipeline exactly as in B1 (3×224×224 f32,
-- bilinear, ImageNet mean/std, batches of 32); predict returns one class
-- annotation per item, which dlrun validates and writes into the dataset.
local dl = require 'dl'

local A = dl.Adapter {
  name = 'b2-noop',
  input = { size = { 224, 224 }, channels = 3, mean = { 0.485, 0.456, 0.406 }, std = { 0.229, 0.224, 0.225 } },
  labels = { 'photo' },
  configuration = { batch_size = 32 },
}

function A:load() end

function A:predict(batch)
  local out = {}
  for i = 1, batch.n do out[i] = { dl.classification('photo', 1) } end
  return out
end

return A
