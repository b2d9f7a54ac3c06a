--- Fashion-MNIST classifier: a multilayer perceptron 784-256-128-10 trained from scratch
--- with Adam, in dlrun's nn kernels.
---
---     dlrun dataset import fashion-mnist fashion-mnist
---     dlrun adapters_lua/fashion_mlp.lua train --dataset fashion-mnist
---     dlrun adapters_lua/fashion_mlp.lua predict --dataset fashion-mnist --filter dir=/test
---
--- The defaults below are the recipe the README reports (test accuracy >= 0.88).
local dl = require 'dl'
local classifier = require 'fashion_classifier'

local nn = dl.nn

local A = dl.Adapter {
  name = 'fashion-mlp',
  input = classifier.INPUT,
  output_type = 'class',
  labels = classifier.LABELS,
  configuration = { batch_size = 64, epochs = 15, learning_rate = 1e-3, lr_decay = 0.5, lr_decay_every = 5,
    seed = 1 },
}

--- The network: 784-256-128-n_classes (the embedder reuses it without its last layer).
function A.build(n_classes)
  return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, n_classes))
end

function A:load(local_path) self.net = classifier.load(self, A.build, local_path) end

function A:save(local_path) classifier.save(self.net, local_path) end

function A:train(data_path, output_path, opts) classifier.train(self, data_path, output_path, opts) end

function A:predict(batch) return classifier.predict(self, batch) end

return A
