-- The checks the Fashion-MNIST example adapters' specs share: each adapter trains
-- from scratch on a drawn two-class subset, saves, loads into a fresh copy and predicts.
local dl = require 'dl'
local assert = require 'luassert'
local host = require 'dl.host'
local subset = require 'spec.support.image_subset'

package.path = 'adapters_lua/?.lua;' .. package.path

local LABELS = { 'Trouser', 'Bag' }

-- A fresh copy of the adapter file, configured as the host would (no model entity yet).
local function fresh(path, overrides)
  local A = dofile(path)
  host.configure(A, nil, overrides or {})
  A.log = require('dl.log').new(A.name, { level = 'warn' }) -- no info lines in the TAP output
  return A
end

local M = {}

-- Trains the adapter at path for `epochs` on 2×16 items, checks every report and a
-- perfect validation accuracy, saves, and checks a fresh copy's predictions.
function M.train_save_predict(path, epochs)
  local root = subset.temp_dir()
  local data = root .. '/datasets/ds'
  subset.make(data .. '/train', LABELS, 16, 'train', 1)
  local val = subset.make(data .. '/validation', LABELS, 4, 'validation', 2)
  os.execute("mkdir -p '" .. root .. "/model' '" .. root .. "/output'")

  local A = fresh(path, { 'epochs=' .. epochs })
  A:load(root .. '/model') -- no weights yet: a new model
  local reports = {}
  A:train(data, root .. '/output', { on_epoch_end = function(epoch, n, metrics)
    reports[#reports + 1] = { epoch = epoch, n = n, metrics = metrics }
  end })
  assert.equals(epochs, #reports)
  for i, r in ipairs(reports) do
    assert.same({ i, epochs }, { r.epoch, r.n })
    for _, k in ipairs({ 'loss', 'accuracy', 'val_loss', 'val_accuracy' }) do assert.is_number(r.metrics[k]) end
  end
  assert.is_true(reports[epochs].metrics.loss < reports[1].metrics.loss)
  assert.equals(1, reports[epochs].metrics.val_accuracy)

  A:save(root .. '/output')
  local B = fresh(path)
  B:load(root .. '/output')
  local paths = {}
  for i, f in ipairs(val) do paths[i] = data .. '/validation/items' .. f end
  local pipe = dl.batch.pipeline(setmetatable({ paths = paths, batch_size = #paths }, { __index = B.input }))
  local results = B:predict(pipe:next())
  assert.equals(#val, #results)
  for i, f in ipairs(val) do
    local ann = results[i][1]
    assert.equals(f:match('Trouser') and 'Trouser' or 'Bag', ann.label)
    assert.is_true(ann.confidence > 0.5 and ann.confidence <= 1)
  end
  pipe:close()
  subset.remove(root)
end

-- Loading a weights file of another network fails, naming the file.
function M.misfit_weights(path)
  local root = subset.temp_dir()
  assert(dl.safetensors.save(root .. '/model.safetensors', { ['0.weight'] = dl.tensor.new({ 2, 2 }) }))
  local A = fresh(path)
  local ok, err = pcall(A.load, A, root)
  subset.remove(root)
  assert.is_false(ok)
  assert.matches(root .. '/model.safetensors: state dict does not fit', err, 1, true)
end

return M
