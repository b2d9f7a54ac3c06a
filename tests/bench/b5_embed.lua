-- B5's adapter: 128-dimensional embeddings of Fashion-MNIST images, a fixed
-- random projection (seeded) of the normalized pixels, computed with one
-- matmul per batch. What matters to B5 is the vectors' number and size.
local dl = require 'dl'

local A = dl.Adapter {
  name = 'b5-embed',
  input = { size = { 28, 28 }, channels = 1, mean = { 0.286 }, std = { 0.353 } },
  configuration = { batch_size = 256, embeddings_size = 128 },
}

function A:load()
  -- a deterministic pseudo-random 784x128 projection (a linear congruential generator)
  local w = dl.tensor.new({ 784, 128 })
  local p, state = w:data(), 12345
  for i = 0, 784 * 128 - 1 do
    state = (state * 1103515245 + 12345) % 2147483648
    p[i] = state / 2147483648 - 0.5
  end
  self.projection = w
end

function A:embed(batch)
  return batch.tensor:view(batch.n, 784):matmul(self.projection)
end

return A
