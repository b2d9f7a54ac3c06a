--- Fashion-MNIST classifier: a small convolutional network (conv 32, pool, conv 64, pool,
--- fc 128, fc 10) trained from scratch with Adam, in dlrun's nn kernels.
---
---     dlrun dataset import fashion-mnist fashion-mnist
---     dlrun adapters_lua/fashion_cnn.lua train --dataset fashion-mnist
---     dlrun adapters_lua/fashion_cnn.lua predict --dataset fashion-mnist --filter dir=/test
---
--- The defaults below are the recipe the README reports (test accuracy >= 0.91).
local dl = require 'dl'
local classifier = require 'fashion_classifier'

local nn = dl.nn

local A = dl.Adapter {
  name = 'fashion-cnn',
  input = classifier.INPUT,
  output_type = 'class',
  labels = classifier.LABELS,
  configuration = { batch_size = 64, epochs = 10, learning_rate = 1e-3, lr_decay = 0.5, lr_decay_every = 4,
    seed = 1 },
}

local function build(n_classes)
  return nn.Sequential(
    nn.Conv2d(1, 32, 3, { padding = 1 }), nn.ReLU(), nn.MaxPool2d(2),  -- 32×14×14
    nn.Conv2d(32, 64, 3, { padding = 1 }), nn.ReLU(), nn.MaxPool2d(2), -- 64×7×7
    nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, n_classes))
end

function A:load(local_path) self.net = classifier.load(self, build, local_path) end

function A:save(local_path) classifier.save(self.net, local_path) end

function A:train(data_path, output_path, opts) classifier.train(self, data_path, output_path, opts) end

function A:predict(batch) return classifier.predict(self, batch) end

return A
