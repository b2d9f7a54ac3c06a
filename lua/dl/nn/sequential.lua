--- dl.nn.sequential: layers applied one after the other, as PyTorch's nn.Sequential.
local module = require 'dl.nn.module'

local error, type, select, ipairs, getmetatable, tostring, rawequal =
  error, type, select, ipairs, getmetatable, tostring, rawequal
local format, concat = string.format, table.concat

local M = {}

---@class dl.nn.Sequential: dl.nn.Module
---@field modules dl.nn.Module[] the layers, 1-based here; their state dict names count from 0
local Sequential = module.class('Sequential')

local function is_module(m)
  local mt = type(m) == 'table' and getmetatable(m)
  return mt and type(mt.forward) == 'function' and type(mt.backward) == 'function' or false
end

--- Layers applied in order: Sequential(a, b, c) or Sequential{a, b, c}. State dict names
--- are '<i>.<param>' with i counting from 0, as in PyTorch, so nn.Sequential(Linear(784,
--- 256), ReLU(), Linear(256, 10)) has '0.weight', '0.bias', '2.weight', '2.bias'.
---@param ... dl.nn.Module|dl.nn.Module[]
---@return dl.nn.Sequential
function M.Sequential(...)
  local list = ...
  if select('#', ...) ~= 1 or is_module(list) then list = { ... } end
  if type(list) ~= 'table' then
    error(format("bad argument #1 to 'Sequential' (layers expected, got %s)", type(list)), 2)
  end
  local self = module.new(Sequential)
  self.modules = {}
  for i, m in ipairs(list) do
    if not is_module(m) then
      error(format("bad argument #%d to 'Sequential' (a dl.nn layer expected, got %s)", i, type(m)), 2)
    end
    self.modules[i] = m
    self:add_module(tostring(i - 1), m)
  end
  return self
end

---@return string
function Sequential:describe()
  local lines = { 'Sequential(' }
  for i, m in ipairs(self.modules) do
    lines[#lines + 1] = format('  (%d): %s', i - 1, (m:describe():gsub('\n', '\n  ')))
  end
  lines[#lines + 1] = ')'
  return concat(lines, '\n')
end

--- Runs x through every layer; keeps each layer's input for backward.
---@param x dl.Tensor
---@return dl.Tensor
function Sequential:forward(x)
  local inputs = {}
  for i, m in ipairs(self.modules) do
    inputs[i] = x
    x = m:forward(x)
  end
  self._inputs = inputs
  return x
end

--- Back-propagates grad_out through the layers of the latest forward, last to first,
--- adding into their parameters' grads. With input_grad = false (x is data, not something
--- to train), layers before the first one with parameters are skipped and that layer
--- computes no input gradient: the first Linear or Conv2d saves a whole GEMM.
---@param x dl.Tensor the input of the forward pass
---@param grad_out dl.Tensor the gradient of the loss with respect to forward's output
---@param input_grad? boolean default true
---@return dl.Tensor? grad_in the gradient with respect to x (nil when input_grad is false)
function Sequential:backward(x, grad_out, input_grad)
  local inputs = self._inputs
  if not inputs then module.raise('Sequential: backward called before forward', 2) end
  if not rawequal(inputs[1], x) then module.raise('Sequential: backward needs the x of the latest forward', 2) end
  local first = 1
  if input_grad == false then
    first = #self.modules + 1
    for i, m in ipairs(self.modules) do
      if #m:parameters() > 0 then
        first = i
        break
      end
    end
  end
  for i = #self.modules, first, -1 do
    grad_out = self.modules[i]:backward(inputs[i], grad_out, i > first or input_grad ~= false)
  end
  if input_grad == false then return nil end
  return grad_out
end

return M
