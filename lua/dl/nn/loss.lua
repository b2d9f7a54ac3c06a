--- dl.nn.loss: softmax cross-entropy from logits.
local ffi = require 'ffi'
local native = require 'dl.native'
local tensor = require 'dl.tensor'

local C, err = native.C, native.err
local error, type, pcall, format, concat = error, type, pcall, string.format, table.concat

local M = {}

local loss_box = ffi.new('double[1]')

--- Softmax cross-entropy averaged over the batch, and its gradient with respect to logits.
--- Labels are class ids counting from 1, like every index in dl: self.label_to_id_map's ids
--- and argmax's results (the C kernel is told so; PyTorch's ids are these minus 1).
---@param logits dl.Tensor f32 [N, K] (N >= 1)
---@param labels dl.Tensor|integer[] i64 or i32 [N], or a Lua array of N class ids in 1..K
---@return number loss
---@return dl.Tensor grad d loss / d logits, f32 [N, K]
function M.cross_entropy(logits, labels)
  if not tensor.is_tensor(logits) then
    error(format("bad argument #1 to 'cross_entropy' (dl.tensor expected, got %s)", type(logits)), 2)
  end
  if type(labels) == 'table' then
    local ok, t = pcall(tensor.from_table, labels, 'i64')
    if not ok then -- from_table's reason, as a misuse of cross_entropy's argument
      error(format("bad argument #2 to 'cross_entropy' (labels: %s)", t:match('%((.*)%)$') or t), 2)
    end
    labels = t
  elseif not tensor.is_tensor(labels) then
    error(format("bad argument #2 to 'cross_entropy' (dl.tensor or array of class ids expected, got %s)",
      type(labels)), 2)
  end
  -- A recycled or freed tensor raises here, at the caller, not inside :contiguous().
  native.assert(C.dl_tensor_check(logits, err), 2)
  native.assert(C.dl_tensor_check(labels, err), 2)
  logits = logits:contiguous()
  if logits.ndim ~= 2 then
    error(format("bad argument #1 to 'cross_entropy' (logits must be [N, K], got %s)",
      logits.ndim == 0 and 'a scalar' or concat(logits:size(), 'x')), 2)
  end
  local grad = tensor.empty(logits:size())
  native.assert(C.dl_nn_cross_entropy(logits, labels:contiguous(), 1, loss_box, grad, err), 2)
  return loss_box[0], grad
end

return M
