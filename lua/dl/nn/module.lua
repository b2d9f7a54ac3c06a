--- dl.nn.module: what every layer shares — parameters, gradients, train/eval mode, and
--- state dicts named as PyTorch names them.
---
--- A layer is a table whose class comes from `module.class(name)`. It registers its
--- parameters with self:add_parameter(name, tensor) and its sub-layers with
--- self:add_module(name, layer); the rest (parameters, zero_grad, train, eval, state_dict,
--- load_state_dict) then works over the whole tree. Layers implement
---   forward(x) -> y                    (also reachable as layer(x))
---   backward(x, grad_out [, input_grad]) -> grad_in   (adds into the parameters' grads)
--- where backward uses what the latest forward saved (max-pool positions, dropout masks),
--- and input_grad = false skips grad_in (returns nil) when x needs no gradient.
local tensor = require 'dl.tensor'
local native = require 'dl.native'

local ffi = require 'ffi'

local error, type, ipairs, pairs, setmetatable, tostring, tonumber =
  error, type, ipairs, pairs, setmetatable, tostring, tonumber
local format, concat, sort = string.format, table.concat, table.sort
local getinfo = debug.getinfo
local is_tensor = tensor.is_tensor
local C, err = native.C, native.err

local M = {}

-- The chunkname prefix shared by the dl.nn source files ('@.../dl/nn/').
local NN_SOURCE = getinfo(1, 'S').source:match('^(.*/)[^/]*$')

--- Raises msg at the user's line: the function at `level` (counted as error() counts from
--- raise's caller), or when that one is dl.nn code (a Sequential, the `layer(x)` call, a
--- layer), the first function above it that is not, however deeply Sequentials nest.
---@param msg string
---@param level integer
function M.raise(msg, level)
  local at = level + 1
  while true do
    local info = getinfo(at, 'S')
    if not (info and info.source:sub(1, #NN_SOURCE) == NN_SOURCE) then break end
    at = at + 1
  end
  error(msg, at)
end
local raise = M.raise

---@class dl.nn.Parameter
---@field data dl.Tensor the values (f32); optimizers and load_state_dict update them in place
---@field grad dl.Tensor same shape; backward adds to it, zero_grad sets it to 0

---@class dl.nn.Module
---@field training boolean true (the default) in training mode, false after :eval()
local Module = {}
Module.__index = Module
M.Module = Module

--- A shape for messages: '2x3', or 'scalar'.
---@param t dl.Tensor
---@return string
local function shape_str(t)
  local s = t:size()
  return #s == 0 and 'scalar' or concat(s, 'x')
end
M.shape_str = shape_str

--- A new layer class: instances get Module's methods, printing and `layer(x)` calls.
---@param name string shown in messages, e.g. 'Linear'
---@return table class
function M.class(name)
  local class = setmetatable({ __name = name }, { __index = Module })
  class.__index = class
  class.__call = function(self, x) return self:forward(x) end
  class.__tostring = function(self) return self:describe() end
  return class
end

--- A new instance of class, in training mode with no parameters.
---@param class table from module.class
---@return dl.nn.Module
function M.new(class)
  local self = { training = true, _param_names = {}, _params = {}, _child_names = {}, _children = {} }
  return setmetatable(self, class)
end

--- One line describing the layer (its class and configuration).
---@return string
function Module:describe() return self.__name .. '()' end

--- Registers a parameter; its gradient starts at zero. Returns the Parameter.
---@param name string
---@param data dl.Tensor f32
---@return dl.nn.Parameter
function Module:add_parameter(name, data)
  local p = { data = data, grad = tensor.new(data:size()) }
  self._param_names[#self._param_names + 1] = name
  self._params[name] = p
  return p
end

--- Registers a sub-layer; its parameters appear in state dicts as `<name>.<param>`.
---@param name string
---@param child dl.nn.Module
function Module:add_module(name, child)
  self._child_names[#self._child_names + 1] = name
  self._children[name] = child
end

-- Calls fn(full_name, parameter) for every parameter of the tree, in registration order.
local function each_parameter(mod, prefix, fn)
  for _, name in ipairs(mod._param_names) do fn(prefix .. name, mod._params[name]) end
  for _, name in ipairs(mod._child_names) do each_parameter(mod._children[name], prefix .. name .. '.', fn) end
end

--- Every parameter of this layer and its sub-layers, in order (weight before bias, layer
--- by layer): an array of dl.nn.Parameter tables `{ data = tensor, grad = tensor }`, shared
--- with the layers (pass it to an optimizer).
---@return dl.nn.Parameter[]
function Module:parameters()
  local list = {}
  each_parameter(self, '', function(_, p) list[#list + 1] = p end)
  return list
end

--- Sets every parameter's gradient to zero.
function Module:zero_grad()
  each_parameter(self, '', function(_, p) p.grad:fill(0) end)
end

--- Training mode (the default) for this layer and its sub-layers; train(false) is eval().
---@param mode? boolean default true
---@return dl.nn.Module self
function Module:train(mode)
  self.training = mode ~= false
  for _, name in ipairs(self._child_names) do self._children[name]:train(mode) end
  return self
end

--- Evaluation mode: dropout passes its input through.
---@return dl.nn.Module self
function Module:eval() return self:train(false) end

--- The parameters by PyTorch-style name ('weight', '0.bias', '3.weight', ...): a table
--- name -> tensor. The tensors ARE the parameters (shared storage): clone them to keep a
--- snapshot. dl.safetensors.save(path, model:state_dict()) writes a checkpoint that PyTorch's
--- nn.Sequential of the same layers loads.
---@return table<string, dl.Tensor>
function Module:state_dict()
  local dict = {}
  each_parameter(self, '', function(name, p) dict[name] = p.data end)
  return dict
end

--- Copies values from a state dict into the parameters. Every parameter needs an f32 entry
--- of its shape, and every entry must name a parameter; on any mismatch nothing is copied.
---@param dict table<string, dl.Tensor>
---@return true|nil ok
---@return string? err what does not match
function Module:load_state_dict(dict)
  if type(dict) ~= 'table' then
    error(format("bad argument #1 to 'load_state_dict' (table expected, got %s)", type(dict)), 2)
  end
  local problems, wanted = {}, {}
  each_parameter(self, '', function(name, p)
    wanted[name] = true
    local t = dict[name]
    if t == nil then
      problems[#problems + 1] = format('missing %s', name)
    elseif not is_tensor(t) then
      problems[#problems + 1] = format('%s is a %s, not a tensor', name, type(t))
    elseif t:type() ~= 'f32' then
      problems[#problems + 1] = format('%s has dtype %s, expected f32', name, t:type())
    elseif shape_str(t) ~= shape_str(p.data) then
      problems[#problems + 1] = format('%s has shape %s, expected %s', name, shape_str(t), shape_str(p.data))
    end
  end)
  for name in pairs(dict) do
    if not wanted[name] then problems[#problems + 1] = format('unexpected %s', tostring(name)) end
  end
  if #problems > 0 then
    sort(problems)
    return nil, 'state dict does not fit ' .. self:describe() .. ': ' .. concat(problems, '; ')
  end
  each_parameter(self, '', function(name, p) p.data:copy(dict[name]) end)
  return true
end

--- Raises misuse of forward/backward: `what` names the problem. The error points at the
--- caller of the layer method that called this, or past dl.nn code to the user's line.
---@param what string
function Module:fail(what) raise(self:describe() .. ': ' .. what, 3) end

--- Raises the pending native error of rc (if any), prefixed with the layer, where fail does.
---@param rc integer
function Module:check(rc)
  if rc >= 0 then return end
  local _, msg = native.check(rc)
  raise(self:describe() .. ': ' .. msg, 3)
end

--- Checks that x is a live tensor (not recycled or freed); `what` names it ('x',
--- 'grad_out'). Raises where fail does.
---@param x any
---@param what string
function Module:expect_tensor(x, what)
  if not is_tensor(x) then
    raise(format('%s: %s must be a dl.tensor, got %s', self:describe(), what, type(x)), 3)
  end
  if C.dl_tensor_check(x, err) < 0 then
    raise(format('%s: %s: %s', self:describe(), what, ffi.string(err.msg)), 3)
  end
end

--- An int64 dim of a tensor as a Lua number (0-based d, as the C fields).
---@param t dl.Tensor
---@param d integer
---@return integer
function M.dim(t, d) return tonumber(t.shape[d]) end

return M
