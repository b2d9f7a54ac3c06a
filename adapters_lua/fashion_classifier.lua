--- What the Fashion-MNIST example adapters (fashion_mlp.lua, fashion_cnn.lua) share: the
--- weights file, the training loop over dl.data, and class predictions. Each adapter brings
--- its own network and recipe (configuration) and defines its user functions with these.
---
--- Configuration keys the training loop reads:
---   epochs, batch_size, learning_rate  Adam's step size
---   lr_decay, lr_decay_every           multiply the step size by lr_decay every N epochs
---   weight_decay                       Adam's L2 term
---   seed                               weights and shuffling
---   threads                            image decoding workers (default: the online cores)
local dl = require 'dl'

local tonumber, format = tonumber, string.format
local nn, optim, safetensors = dl.nn, dl.optim, dl.safetensors

local M = {}

--- The ten classes, in the order of the original IDX label ids.
M.LABELS = { 'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
  'Ankle boot' }

--- How items are prepared, for predict (native pipeline) and training (dl.data) alike:
--- grayscale 28×28, normalized with the training set's mean and standard deviation.
M.INPUT = { type = 'image', size = { 28, 28 }, channels = 1, layout = 'nchw', dtype = 'f32', mean = { 0.286 },
  std = { 0.353 } }

--- The file A:save writes and A:load reads: the network's state dict.
M.WEIGHTS = 'model.safetensors'

local function exists(path)
  local f = io.open(path, 'rb')
  if f then f:close() end
  return f ~= nil
end

--- A network from build(n_classes), with the weights found in local_path (none yet: a new
--- model starts from the seeded initialisation).
---@param a dl.Adapter
---@param build fun(n_classes: integer): dl.nn.Module
---@param local_path string
---@return dl.nn.Module
function M.load(a, build, local_path)
  nn.manual_seed(a.configuration.seed or 1)
  local net = build(#a.labels)
  local path = local_path .. '/' .. M.WEIGHTS
  if exists(path) then
    local weights, err = safetensors.load(path)
    if not weights then error(err, 2) end
    local ok, why = net:load_state_dict(weights)
    if not ok then error(format('%s: %s', path, why), 2) end
  end
  return net
end

--- Writes the network's weights into local_path.
---@param net dl.nn.Module
---@param local_path string
function M.save(net, local_path)
  local ok, err = safetensors.save(local_path .. '/' .. M.WEIGHTS, net:state_dict())
  if not ok then error(err, 2) end
end

-- Rows of logits whose argmax is the label (both count from 1).
local function count_correct(logits, y)
  local pred = logits:argmax(2):data()
  local yp = y:data()
  local correct = 0
  for i = 0, y:nelement() - 1 do
    if pred[i] == yp[i] then correct = correct + 1 end
  end
  return correct
end

-- Mean loss and accuracy of net over a loader, in eval mode.
local function evaluate(net, loader)
  net:eval()
  local loss_sum, correct = 0, 0
  for b in loader:batches() do
    local logits = net:forward(b.x)
    local loss = nn.cross_entropy(logits, b.y)
    loss_sum = loss_sum + loss * b.n
    correct = correct + count_correct(logits, b.y)
  end
  return loss_sum / loader.n, correct / loader.n
end

local function loader(a, dir, shuffle)
  local cfg = a.configuration
  local l, err = dl.data.loader(dir, { input = a.input, batch_size = cfg.batch_size, shuffle = shuffle,
    seed = cfg.seed, label_to_id = a.label_to_id_map, threads = cfg.threads })
  if not l then error(err, 3) end
  return l
end

--- Trains a.net from scratch or from its loaded weights on data_path/train with Adam,
--- reporting loss and accuracy on train and data_path/validation after every epoch, and
--- keeping the latest epoch's weights in output_path (so a run that fails later still
--- leaves them to save).
---@param a dl.Adapter with a.net
---@param data_path string
---@param output_path string
---@param opts table with on_epoch_end
function M.train(a, data_path, output_path, opts)
  local cfg = a.configuration
  local net = a.net
  local train = loader(a, data_path .. '/train', true)
  local validation = loader(a, data_path .. '/validation', false)
  a.log.info('training on %d items, validating on %d', train.n, validation.n)
  local opt = optim.Adam { params = net:parameters(), lr = cfg.learning_rate, weight_decay = cfg.weight_decay }
  for epoch = 1, cfg.epochs do
    if cfg.lr_decay and cfg.lr_decay_every and epoch > 1 and (epoch - 1) % cfg.lr_decay_every == 0 then
      opt.lr = opt.lr * cfg.lr_decay
    end
    net:train()
    local loss_sum, correct = 0, 0
    for b in train:batches() do
      opt:zero_grad()
      local logits = net:forward(b.x)
      local loss, grad = nn.cross_entropy(logits, b.y)
      net:backward(b.x, grad, false)
      opt:step()
      loss_sum = loss_sum + loss * b.n
      correct = correct + count_correct(logits, b.y)
    end
    local val_loss, val_accuracy = evaluate(net, validation)
    M.save(net, output_path)
    opts.on_epoch_end(epoch, cfg.epochs, { loss = loss_sum / train.n, accuracy = correct / train.n,
      val_loss = val_loss, val_accuracy = val_accuracy, lr = opt.lr })
  end
end

--- One class annotation per item: the most probable label and its probability.
---@param a dl.Adapter with a.net
---@param batch dl.Batch prepared by the native pipeline (batch.tensor N×1×28×28)
---@return table[]
function M.predict(a, batch)
  a.net:eval()
  local probs = a.net:forward(batch.tensor):softmax(2)
  local conf, idx = probs:max(2)
  local c, k = conf:data(), idx:data()
  local results = {}
  for i = 1, batch.n do
    results[i] = { dl.classification(a.id_to_label_map[tonumber(k[i - 1])], c[i - 1]) }
  end
  return results
end

return M
