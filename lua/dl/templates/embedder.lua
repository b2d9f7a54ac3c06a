--- __NAME__: an image embedding adapter for dlrun.
---
--- As written it describes an image by its colour histogram: 4 bins for each
--- of red, green and blue, scaled to unit length, so that images of similar
--- colours get vectors with a high cosine similarity. Put your model in its
--- place: read its weights in load(), compute its vectors in embed().
---
---   dlrun __NAME__.lua embed samples/              embed the sample images
---   dlrun __NAME__.lua embed --watch samples/      ... and again on every save
---   dlrun similar --model __NAME__ /red.png        nearest neighbours, after embed
---   dlrun test                                     run spec/__NAME___spec.lua
local dl = require 'dl'

local BINS = 4

local A = dl.Adapter {
  name = '__NAME__',
  -- Declared input: native worker threads decode and resize each image into
  -- batch.tensor, N×3×32×32 f32 with values x / 255.
  input = { type = 'image', size = { 32, 32 }, channels = 3, layout = 'nchw', dtype = 'f32' },
  output_type = 'embedding',
  configuration = { batch_size = 16, embeddings_size = 3 * BINS },
}

--- Reads the model from local_path, the model's working copy (this one has
--- nothing to read).
---@param local_path string
---@param opts table
function A:load(local_path, opts) end

--- One vector per item of the batch (Lua arrays; an N×D tensor works too).
---@param batch dl.Batch
---@param opts table
---@return number[][]
function A:embed(batch, opts)
  local vectors = {}
  for i = 1, batch.n do
    local img = batch[i]:contiguous()                  -- 3×32×32
    local p, plane = img:data(), img:size(2) * img:size(3)
    local v = {}
    for k = 1, 3 * BINS do v[k] = 0 end
    for c = 0, 2 do
      for j = 0, plane - 1 do
        local bin = math.min(math.floor(p[c * plane + j] * BINS), BINS - 1)
        v[c * BINS + bin + 1] = v[c * BINS + bin + 1] + 1
      end
    end
    local norm = 0
    for k = 1, #v do norm = norm + v[k] * v[k] end
    norm = math.sqrt(norm)
    for k = 1, #v do v[k] = v[k] / norm end
    vectors[i] = v
  end
  return vectors
end

return A
