--- dl.optim: SGD and Adam over dl.nn parameters, with torch.optim's update rules, run as
--- one fused native pass per parameter.
---
---     local opt = optim.Adam { params = model:parameters(), lr = 1e-3 }
---     opt:zero_grad(); ...backward...; opt:step()
---
--- Hyper-parameters are plain fields (opt.lr = 1e-4 takes effect at the next step), so a
--- learning-rate schedule is a line of Lua.
local ffi = require 'ffi'
local native = require 'dl.native'
local tensor = require 'dl.tensor'

local C, err = native.C, native.err
local error, type, ipairs, tostring, setmetatable = error, type, ipairs, tostring, setmetatable
local format, huge = string.format, math.huge
local is_tensor = tensor.is_tensor

---@class dl.optim
local M = {}

-- Checks opts.params: a non-empty array of dl.nn.Parameter.
local function check_params(params, fn)
  if type(params) ~= 'table' or #params == 0 then
    error(format("bad argument #1 to '%s' (params must be a non-empty array of parameters "
      .. '(model:parameters()), got %s)', fn, type(params) == 'table' and 'an empty table' or type(params)), 3)
  end
  for i, p in ipairs(params) do
    if type(p) ~= 'table' or not is_tensor(p.data) or not is_tensor(p.grad) then
      error(format("bad argument #1 to '%s' (params[%d] is not a parameter { data = tensor, grad = tensor })",
        fn, i), 3)
    end
  end
end

-- opts[key] (default when nil), which must be a finite number >= 0.
local function number_opt(opts, key, default, fn)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= 'number' or not (v >= 0 and v < huge) then
    error(format("bad argument #1 to '%s' (%s must be a finite number >= 0, got %s)", fn, key, tostring(v)), 3)
  end
  return v
end

local function options(opts, fn)
  if type(opts) ~= 'table' then
    error(format("bad argument #1 to '%s' (options table expected, got %s)", fn, type(opts)), 3)
  end
  check_params(opts.params, fn)
  return opts
end

-- State tensors (zero-filled, the parameter's shape) for the parameter at index i.
local function state_for(self, i, names)
  local s = self.state[i]
  if not s then
    s = {}
    local shape = self.params[i].data:size()
    for _, name in ipairs(names) do s[name] = tensor.new(shape) end
    self.state[i] = s
  end
  return s
end

-- Sets every gradient to zero.
local function zero_grad(self)
  for _, p in ipairs(self.params) do p.grad:fill(0) end
end

-- --------------------------------------------------------------------- SGD

---@class dl.optim.SGD
---@field params dl.nn.Parameter[]
---@field lr number
---@field momentum number
---@field dampening number
---@field weight_decay number
---@field nesterov boolean
---@field steps integer steps taken so far
local SGD = {}
SGD.__index = SGD

--- Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
--- weight decay (torch.optim.SGD semantics).
---@param opts {params: dl.nn.Parameter[], lr: number?, momentum: number?, dampening: number?, weight_decay: number?, nesterov: boolean?}
---@return dl.optim.SGD
function M.SGD(opts)
  options(opts, 'SGD')
  local self = setmetatable({
    params = opts.params,
    lr = number_opt(opts, 'lr', 1e-3, 'SGD'),
    momentum = number_opt(opts, 'momentum', 0, 'SGD'),
    dampening = number_opt(opts, 'dampening', 0, 'SGD'),
    weight_decay = number_opt(opts, 'weight_decay', 0, 'SGD'),
    nesterov = opts.nesterov == true,
    steps = 0,
    state = {},
    _opts = ffi.new('dl_nn_sgd_opts'),
  }, SGD)
  if self.nesterov and (self.momentum <= 0 or self.dampening ~= 0) then
    error("bad argument #1 to 'SGD' (nesterov needs momentum > 0 and dampening 0)", 2)
  end
  return self
end

local SGD_STATE = { 'velocity' }

--- Updates every parameter in place from its gradient.
function SGD:step()
  local o = self._opts
  o.lr, o.momentum, o.dampening, o.weight_decay = self.lr, self.momentum, self.dampening, self.weight_decay
  o.nesterov = self.nesterov and 1 or 0
  self.steps = self.steps + 1
  for i, p in ipairs(self.params) do
    local velocity = self.momentum ~= 0 and state_for(self, i, SGD_STATE).velocity or nil
    native.assert(C.dl_nn_sgd_step(p.data, p.grad, velocity, o, self.steps, err), 2)
  end
end

--- Sets every parameter's gradient to zero.
SGD.zero_grad = zero_grad

-- -------------------------------------------------------------------- Adam

---@class dl.optim.Adam
---@field params dl.nn.Parameter[]
---@field lr number
---@field betas number[] {beta1, beta2}
---@field eps number
---@field weight_decay number
---@field steps integer steps taken so far
local Adam = {}
Adam.__index = Adam

--- Adam with bias correction and optional L2 weight decay (torch.optim.Adam semantics).
---@param opts {params: dl.nn.Parameter[], lr: number?, betas: number[]?, eps: number?, weight_decay: number?}
---@return dl.optim.Adam
function M.Adam(opts)
  options(opts, 'Adam')
  local betas = opts.betas or { 0.9, 0.999 }
  if type(betas) ~= 'table' then
    error(format("bad argument #1 to 'Adam' (betas must be {beta1, beta2}, got %s)", type(betas)), 2)
  end
  for k = 1, 2 do
    local b = betas[k]
    if type(b) ~= 'number' or not (b >= 0 and b < 1) then
      error(format("bad argument #1 to 'Adam' (betas[%d] must be a number in [0, 1), got %s)", k, tostring(b)), 2)
    end
  end
  return setmetatable({
    params = opts.params,
    lr = number_opt(opts, 'lr', 1e-3, 'Adam'),
    betas = { betas[1], betas[2] },
    eps = number_opt(opts, 'eps', 1e-8, 'Adam'),
    weight_decay = number_opt(opts, 'weight_decay', 0, 'Adam'),
    steps = 0,
    state = {},
    _opts = ffi.new('dl_nn_adam_opts'),
  }, Adam)
end

local ADAM_STATE = { 'exp_avg', 'exp_avg_sq' }

--- Updates every parameter in place from its gradient.
function Adam:step()
  local o = self._opts
  o.lr, o.beta1, o.beta2, o.eps, o.weight_decay = self.lr, self.betas[1], self.betas[2], self.eps,
    self.weight_decay
  self.steps = self.steps + 1
  for i, p in ipairs(self.params) do
    local s = state_for(self, i, ADAM_STATE)
    native.assert(C.dl_nn_adam_step(p.data, p.grad, s.exp_avg, s.exp_avg_sq, o, self.steps, err), 2)
  end
end

--- Sets every parameter's gradient to zero.
Adam.zero_grad = zero_grad

return M
