--- __NAME__: an image classifier adapter for dlrun.
---
--- As written it tells an image's dominant colour (red, green or blue) with a
--- tiny linear model: the mean of each colour channel times a 3×3 weight
--- matrix, then a softmax. load() reads the weights from the model's folder,
--- or starts from the identity while the model has no saved version; save()
--- writes them. Put your model in their place: read its weights in load(),
--- run it in predict().
---
---   dlrun __NAME__.lua predict samples/            predict the sample images
---   dlrun __NAME__.lua predict --watch samples/    ... and again on every save
---   dlrun test                                     run spec/__NAME___spec.lua
local dl = require 'dl'

local A = dl.Adapter {
  name = '__NAME__',
  labels = { 'red', 'green', 'blue' },
  -- Declared input: native worker threads decode and resize each image into
  -- batch.tensor, N×3×32×32 f32 with values x / 255 (no mean or std given).
  input = { type = 'image', size = { 32, 32 }, channels = 3, layout = 'nchw', dtype = 'f32' },
  output_type = 'class',
  configuration = { batch_size = 16, temperature = 0.1 },
}

local WEIGHTS = 'weights.safetensors'

--- Reads the model from local_path, the model's working copy.
---@param local_path string
---@param opts table
function A:load(local_path, opts)
  local file = local_path .. '/' .. WEIGHTS
  local f = io.open(file, 'rb')
  if f then
    f:close()
    local tensors = assert(dl.safetensors.load(file))
    self.weight = assert(tensors.weight, WEIGHTS .. ' holds no tensor named weight')
  else
    -- channels × labels: channel c votes for label c
    self.weight = dl.tensor.from_table({ { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } })
  end
end

--- Writes the model into local_path: `dlrun __NAME__.lua save` uploads it as
--- the model's next version.
---@param local_path string
---@param opts table
function A:save(local_path, opts)
  assert(dl.safetensors.save(local_path .. '/' .. WEIGHTS, { weight = self.weight }))
end

--- One list of annotations per item of the batch.
---@param batch dl.Batch
---@param opts table
---@return dl.Annotation[][]
function A:predict(batch, opts)
  local n = batch.n
  local colour = batch.tensor:view(n, 3, -1):mean(3)                   -- N×3: mean of each channel
  local logits = colour:matmul(self.weight) / self.configuration.temperature
  local probs = logits:softmax(2)                                      -- N×labels
  local results = {}
  for i = 1, n do
    local row = probs:select(1, i)
    local best = row:argmax()
    results[i] = { dl.classification(self.labels[best], row:get(best)) }
  end
  return results
end

return A
