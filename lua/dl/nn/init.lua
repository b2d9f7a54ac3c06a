--- dl.nn: layers with explicit forward and backward passes over native kernels, PyTorch
--- style names and initialisation.
---
---     local nn = require 'dl.nn'
---     nn.manual_seed(1)
---     local model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
---     local opt = require('dl.optim').Adam { params = model:parameters(), lr = 1e-3 }
---     -- per batch x [N, 1, 28, 28] f32 and labels [N] i64 (class ids from 1):
---     opt:zero_grad()
---     local logits = model:forward(x)
---     local loss, grad = nn.cross_entropy(logits, labels)
---     model:backward(x, grad, false)   -- false: x is data, no gradient for it
---     opt:step()
---     dl.safetensors.save('model.safetensors', model:state_dict())
---
--- Every layer has forward(x), backward(x, grad_out [, input_grad]) -> grad_in (adding into
--- parameter grads), parameters(), zero_grad(), train()/eval(), state_dict()/load_state_dict();
--- see dl.nn.module. Misuse (a wrong shape, a missing argument) raises an error naming the
--- layer, at the line that called the model (not inside a Sequential).
local layers = require 'dl.nn.layers'
local loss = require 'dl.nn.loss'
local module = require 'dl.nn.module'
local random = require 'dl.nn.random'
local sequential = require 'dl.nn.sequential'

---@class dl.nn
return {
  Linear = layers.Linear,
  Conv2d = layers.Conv2d,
  ReLU = layers.ReLU,
  MaxPool2d = layers.MaxPool2d,
  Flatten = layers.Flatten,
  Dropout = layers.Dropout,
  Sequential = sequential.Sequential,
  cross_entropy = loss.cross_entropy,
  manual_seed = random.manual_seed,
  --- The base of every layer, for layers written in Lua (see dl.nn.module).
  Module = module,
}
