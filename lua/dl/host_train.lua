--- The Lua half of train_model: the `opts` that A:train(data_path, output_path, opts)
--- receives. Adapters do not require this module; they call
---
---     opts.on_epoch_end(epoch, n_epochs, { loss = 0.41, accuracy = 0.85, val_accuracy = 0.84 })
---
--- at the end of each epoch (dtlpy's on_epoch_end_callback). The host prints
--- "epoch i/n  loss=... accuracy=..." on stderr and appends the epoch to the model
--- entity's metrics.train.
local cjson = require 'cjson'

local error, type, pairs, ipairs, tostring, huge = error, type, pairs, ipairs, tostring, math.huge
local format, concat, sort = string.format, table.concat, table.sort

local M = {}

-- Keys the host writes itself into each metrics.train entry.
local RESERVED = { epoch = true, epochs = true, seconds = true, time = true }

local function whole(v) return type(v) == 'number' and v % 1 == 0 and v >= 1 and v < huge end

-- The metric names in report order: loss first, then the others sorted.
local function names_of(metrics)
  local names = {}
  for k in pairs(metrics) do if k ~= 'loss' then names[#names + 1] = k end end
  sort(names)
  if metrics.loss ~= nil then table.insert(names, 1, 'loss') end
  return names
end

-- "loss=0.4213 accuracy=0.8512 ..."
local function describe(metrics, names)
  local parts = {}
  for i, k in ipairs(names) do parts[i] = format('%s=%.4g', k, metrics[k]) end
  return concat(parts, ' ')
end

-- The metrics.train entry as JSON text, keys in report order (cjson would use hash order).
local function encode_entry(epoch, n_epochs, metrics, names)
  local parts = { format('"epoch":%d', epoch), format('"epochs":%d', n_epochs) }
  for _, k in ipairs(names) do parts[#parts + 1] = cjson.encode(k) .. ':' .. cjson.encode(metrics[k]) end
  return '{' .. concat(parts, ',') .. '}'
end

--- The options table handed to A:train.
---@param record fun(entry_json: string): number writes one metrics.train entry, returns the
---  seconds since the previous epoch ended (or since train started)
---@param quiet boolean no epoch lines on stderr
---@return table opts { on_epoch_end = function(epoch, n_epochs, metrics) }
function M.options(record, quiet)
  local opts = {}
  --- Reports the end of an epoch: prints it and records it in the model entity.
  ---@param epoch integer from 1
  ---@param n_epochs integer
  ---@param metrics table<string, number>|nil loss, accuracy, val_loss, ... (finite numbers)
  function opts.on_epoch_end(epoch, n_epochs, metrics)
    if not whole(epoch) then
      error(format("bad argument #1 to 'on_epoch_end' (epoch must be a whole number >= 1, got %s)",
        tostring(epoch)), 2)
    end
    if not whole(n_epochs) or n_epochs < epoch then
      error(format("bad argument #2 to 'on_epoch_end' (n_epochs must be a whole number >= epoch %d, got %s)",
        epoch, tostring(n_epochs)), 2)
    end
    if metrics ~= nil and type(metrics) ~= 'table' then
      error(format("bad argument #3 to 'on_epoch_end' (table of metrics expected, got %s)", type(metrics)), 2)
    end
    metrics = metrics or {}
    for k, v in pairs(metrics) do
      if type(k) ~= 'string' or RESERVED[k] then
        error(format("bad argument #3 to 'on_epoch_end' (metric name %s is %s)", tostring(k),
          type(k) ~= 'string' and 'not a string' or 'reserved for the host'), 2)
      end
      if type(v) ~= 'number' or v ~= v or v == huge or v == -huge then
        error(format("bad argument #3 to 'on_epoch_end' (metric %s must be a finite number, got %s)", k,
          tostring(v)), 2)
      end
    end
    local names = names_of(metrics)
    local seconds = record(encode_entry(epoch, n_epochs, metrics, names))
    if not quiet then
      io.stderr:write(format('epoch %d/%d  %s  (%.1f s)\n', epoch, n_epochs, describe(metrics, names), seconds))
    end
  end
  return opts
end

return M
