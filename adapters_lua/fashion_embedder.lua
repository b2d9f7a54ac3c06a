--- Fashion-MNIST embeddings: the trained MLP (fashion_mlp.lua) without its last layer. Each
--- image becomes the 128 activations the classifier's last layer reads, a space where
--- garments of a kind lie close together.
---
---     dlrun adapters_lua/fashion_mlp.lua train --dataset fashion-mnist
---     dlrun adapters_lua/fashion_embedder.lua embed --model fashion-mlp --dataset fashion-mnist --filter dir=/test
---     dlrun similar --model fashion-mlp /test/00001.png
---
--- --model fashion-mlp loads the MLP's trained weights and stores the vectors in its feature set.
local dl = require 'dl'
local classifier = require 'fashion_classifier'
local mlp = require 'fashion_mlp'

local A = dl.Adapter {
  name = 'fashion-embedder',
  input = classifier.INPUT,
  output_type = 'embedding',
  labels = classifier.LABELS,
  configuration = { batch_size = 256, embeddings_size = 128, seed = 1 },
}

function A:load(local_path)
  self.net = classifier.load(self, mlp.build, local_path)
  self.net:eval()
  -- every layer but the last (the 128 -> 10 class scores)
  self.features = dl.nn.Sequential(unpack(self.net.modules, 1, #self.net.modules - 1))
end

function A:embed(batch)
  return self.features:forward(batch.tensor) -- N x 128: one vector per item
end

return A
