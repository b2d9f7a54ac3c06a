--- dl.nn.layers: Linear, Conv2d, ReLU, MaxPool2d, Flatten and Dropout over the native nn
--- kernels. Activations are f32: rows [N, D] for Linear, images [N, C, H, W] for Conv2d and
--- MaxPool2d, any shape for ReLU and Dropout. Each forward returns a new tensor.
local native = require 'dl.native'
local tensor = require 'dl.tensor'
local module = require 'dl.nn.module'
local random = require 'dl.nn.random'

local C, err = native.C, native.err
local error, type, ipairs, tostring = error, type, ipairs, tostring
local floor, sqrt, format = math.floor, math.sqrt, string.format
local empty = tensor.empty
local dim, shape_str, raise = module.dim, module.shape_str, module.raise

local M = {}

local function positive_int(v, what, fn)
  if type(v) ~= 'number' or v ~= floor(v) or v < 1 then
    error(format("bad argument to '%s' (%s must be a whole number >= 1, got %s)", fn, what, tostring(v)), 3)
  end
  return v
end

-- A size given as n or {h, w}, as a pair h, w; `min` is the smallest allowed value.
local function pair(v, what, fn, min)
  local h, w = v, v
  if type(v) == 'table' then h, w = v[1], v[2] end
  for _, x in ipairs({ h, w }) do
    if type(x) ~= 'number' or x ~= floor(x) or x < min then
      error(format("bad argument to '%s' (%s must be a whole number >= %d or a pair of them, got %s)", fn, what,
        min, type(v) == 'table' and '{' .. tostring(v[1]) .. ', ' .. tostring(v[2]) .. '}' or tostring(v)), 3)
    end
  end
  return h, w
end

local function options(opts, fn)
  if opts ~= nil and type(opts) ~= 'table' then
    error(format("bad argument to '%s' (options table expected, got %s)", fn, type(opts)), 3)
  end
  return opts or {}
end

-- The weight and bias of a layer with fan_in inputs per output, initialised as PyTorch's
-- default (kaiming_uniform with a = sqrt(5)): uniform in +-1/sqrt(fan_in).
local function init_parameters(self, weight_shape, bias_size, fan_in, with_bias)
  local bound = 1 / sqrt(fan_in)
  self.weight = self:add_parameter('weight', random.uniform(weight_shape, -bound, bound))
  if with_bias then self.bias = self:add_parameter('bias', random.uniform({ bias_size }, -bound, bound)) end
end

-- ------------------------------------------------------------------ Linear

---@class dl.nn.Linear: dl.nn.Module
---@field weight dl.nn.Parameter [out_features, in_features]
---@field bias dl.nn.Parameter? [out_features]
local Linear = module.class('Linear')

--- y = x W^T + b over rows x [N, in_features] -> [N, out_features].
---@param in_features integer
---@param out_features integer
---@param opts? {bias: boolean?} bias defaults to true
---@return dl.nn.Linear
function M.Linear(in_features, out_features, opts)
  positive_int(in_features, 'in_features', 'Linear')
  positive_int(out_features, 'out_features', 'Linear')
  opts = options(opts, 'Linear')
  local self = module.new(Linear)
  self.in_features, self.out_features = in_features, out_features
  init_parameters(self, { out_features, in_features }, out_features, in_features, opts.bias ~= false)
  return self
end

---@return string
function Linear:describe() return format('Linear(%d -> %d)', self.in_features, self.out_features) end

local function linear_input(self, x)
  self:expect_tensor(x, 'x')
  if x.ndim ~= 2 then
    raise(format('%s: x must be [N, %d], got %s (flatten images with nn.Flatten)', self:describe(),
      self.in_features, shape_str(x)), 3)
  end
  return x:contiguous()
end

---@param x dl.Tensor [N, in_features]
---@return dl.Tensor y [N, out_features]
function Linear:forward(x)
  x = linear_input(self, x)
  local y = empty({ dim(x, 0), self.out_features })
  self:check(C.dl_nn_linear_forward(x, self.weight.data, self.bias and self.bias.data, y, err))
  return y
end

---@param x dl.Tensor the input of the forward pass
---@param grad_out dl.Tensor [N, out_features]
---@param input_grad? boolean false skips grad_in (returns nil)
---@return dl.Tensor? grad_in [N, in_features]
function Linear:backward(x, grad_out, input_grad)
  x = linear_input(self, x)
  self:expect_tensor(grad_out, 'grad_out')
  local grad_in = input_grad ~= false and empty({ dim(x, 0), dim(x, 1) }) or nil
  self:check(C.dl_nn_linear_backward(x, self.weight.data, grad_out:contiguous(), grad_in, self.weight.grad,
    self.bias and self.bias.grad, err))
  return grad_in
end

-- ------------------------------------------------------------------ Conv2d

---@class dl.nn.Conv2d: dl.nn.Module
---@field weight dl.nn.Parameter [out_channels, in_channels, kernel_h, kernel_w]
---@field bias dl.nn.Parameter? [out_channels]
local Conv2d = module.class('Conv2d')

--- 2-d convolution (PyTorch's cross-correlation) over images [N, C, H, W], zero padding.
---@param in_channels integer
---@param out_channels integer
---@param kernel_size integer|integer[] n or {h, w}
---@param opts? {stride: integer|integer[]?, padding: integer|integer[]?, bias: boolean?} stride 1, padding 0, bias true
---@return dl.nn.Conv2d
function M.Conv2d(in_channels, out_channels, kernel_size, opts)
  positive_int(in_channels, 'in_channels', 'Conv2d')
  positive_int(out_channels, 'out_channels', 'Conv2d')
  local kh, kw = pair(kernel_size, 'kernel_size', 'Conv2d', 1)
  opts = options(opts, 'Conv2d')
  local self = module.new(Conv2d)
  self.in_channels, self.out_channels, self.kernel_h, self.kernel_w = in_channels, out_channels, kh, kw
  self.stride_h, self.stride_w = pair(opts.stride or 1, 'stride', 'Conv2d', 1)
  self.pad_h, self.pad_w = pair(opts.padding or 0, 'padding', 'Conv2d', 0)
  init_parameters(self, { out_channels, in_channels, kh, kw }, out_channels, in_channels * kh * kw,
    opts.bias ~= false)
  return self
end

---@return string
function Conv2d:describe()
  return format('Conv2d(%d -> %d, kernel %dx%d, stride %dx%d, padding %dx%d)', self.in_channels,
    self.out_channels, self.kernel_h, self.kernel_w, self.stride_h, self.stride_w, self.pad_h, self.pad_w)
end

local function image_input(self, x)
  self:expect_tensor(x, 'x')
  if x.ndim ~= 4 then raise(format('%s: x must be [N, C, H, W], got %s', self:describe(), shape_str(x)), 3) end
  return x:contiguous()
end

-- Output size along one axis, never negative (the kernel checks that the window fits).
local function out_size(n, kernel, stride, pad)
  local s = floor((n + 2 * pad - kernel) / stride) + 1
  return s > 0 and s or 0
end

--- In training mode it keeps the unfolded input for backward (C*KH*KW x N*OH*OW floats, a
--- buffer the layer reuses from batch to batch).
---@param x dl.Tensor [N, in_channels, H, W]
---@return dl.Tensor y [N, out_channels, OH, OW]
function Conv2d:forward(x)
  x = image_input(self, x)
  local n, oh, ow = dim(x, 0), out_size(dim(x, 2), self.kernel_h, self.stride_h, self.pad_h),
    out_size(dim(x, 3), self.kernel_w, self.stride_w, self.pad_w)
  local y = empty({ n, self.out_channels, oh, ow })
  local col = nil
  if self.training then
    local rows, cols = dim(x, 1) * self.kernel_h * self.kernel_w, n * oh * ow
    col = self._col
    if not (col and dim(col, 0) == rows and dim(col, 1) == cols) then
      col = empty({ rows, cols })
      self._col = col
    end
  end
  self:check(C.dl_nn_conv2d_forward(x, self.weight.data, self.bias and self.bias.data, y, self.stride_h,
    self.stride_w, self.pad_h, self.pad_w, col, err))
  self._col_ready = col ~= nil -- _col holds this forward's unfolded input
  return y
end

--- Uses what the latest forward kept (in training mode), so x must be that forward's input.
---@param x dl.Tensor the input of the forward pass
---@param grad_out dl.Tensor [N, out_channels, OH, OW]
---@param input_grad? boolean false skips grad_in (returns nil)
---@return dl.Tensor? grad_in [N, in_channels, H, W]
function Conv2d:backward(x, grad_out, input_grad)
  x = image_input(self, x)
  self:expect_tensor(grad_out, 'grad_out')
  local grad_in = input_grad ~= false and empty(x:size()) or nil
  local col = self._col_ready and self._col or nil
  self:check(C.dl_nn_conv2d_backward(x, self.weight.data, grad_out:contiguous(), grad_in, self.weight.grad,
    self.bias and self.bias.grad, self.stride_h, self.stride_w, self.pad_h, self.pad_w, col, err))
  return grad_in
end

-- -------------------------------------------------------------------- ReLU

---@class dl.nn.ReLU: dl.nn.Module
local ReLU = module.class('ReLU')

--- max(x, 0), element-wise.
---@return dl.nn.ReLU
function M.ReLU() return module.new(ReLU) end

local function any_input(self, x)
  self:expect_tensor(x, 'x')
  return x:contiguous()
end

---@param x dl.Tensor f32, any shape
---@return dl.Tensor
function ReLU:forward(x)
  x = any_input(self, x)
  local y = empty(x:size())
  self:check(C.dl_nn_relu_forward(x, y, err))
  return y
end

---@param x dl.Tensor the input of the forward pass
---@param grad_out dl.Tensor x's shape
---@param input_grad? boolean false skips the work (returns nil)
---@return dl.Tensor? grad_in
function ReLU:backward(x, grad_out, input_grad)
  x = any_input(self, x)
  self:expect_tensor(grad_out, 'grad_out')
  if input_grad == false then return nil end
  local grad_in = empty(x:size())
  self:check(C.dl_nn_relu_backward(x, grad_out:contiguous(), grad_in, err))
  return grad_in
end

-- --------------------------------------------------------------- MaxPool2d

---@class dl.nn.MaxPool2d: dl.nn.Module
local MaxPool2d = module.class('MaxPool2d')

--- Max over kernel windows of images [N, C, H, W], without padding.
---@param kernel_size integer|integer[] n or {h, w}
---@param stride? integer|integer[] default: kernel_size
---@return dl.nn.MaxPool2d
function M.MaxPool2d(kernel_size, stride)
  local self = module.new(MaxPool2d)
  self.kernel_h, self.kernel_w = pair(kernel_size, 'kernel_size', 'MaxPool2d', 1)
  self.stride_h, self.stride_w = pair(stride or kernel_size, 'stride', 'MaxPool2d', 1)
  return self
end

---@return string
function MaxPool2d:describe()
  return format('MaxPool2d(kernel %dx%d, stride %dx%d)', self.kernel_h, self.kernel_w, self.stride_h,
    self.stride_w)
end

---@param x dl.Tensor [N, C, H, W]
---@return dl.Tensor y [N, C, OH, OW]
function MaxPool2d:forward(x)
  x = image_input(self, x)
  local shape = { dim(x, 0), dim(x, 1), out_size(dim(x, 2), self.kernel_h, self.stride_h, 0),
    out_size(dim(x, 3), self.kernel_w, self.stride_w, 0) }
  local y, argmax = empty(shape), empty(shape, 'i32')
  self:check(C.dl_nn_maxpool2d_forward(x, y, argmax, self.kernel_h, self.kernel_w, self.stride_h, self.stride_w,
    err))
  self._argmax = argmax -- where each maximum came from, for backward
  return y
end

--- Routes grad_out to the maxima found by the latest forward.
---@param x dl.Tensor the input of the forward pass
---@param grad_out dl.Tensor [N, C, OH, OW]
---@param input_grad? boolean false skips the work (returns nil)
---@return dl.Tensor? grad_in [N, C, H, W]
function MaxPool2d:backward(x, grad_out, input_grad)
  x = image_input(self, x)
  self:expect_tensor(grad_out, 'grad_out')
  if not self._argmax then self:fail('backward called before forward') end
  if input_grad == false then return nil end
  local grad_in = empty(x:size())
  self:check(C.dl_nn_maxpool2d_backward(grad_out:contiguous(), self._argmax, grad_in, err))
  return grad_in
end

-- ----------------------------------------------------------------- Flatten

---@class dl.nn.Flatten: dl.nn.Module
local Flatten = module.class('Flatten')

--- [N, d1, d2, ...] -> [N, d1 * d2 * ...], as PyTorch's nn.Flatten().
---@return dl.nn.Flatten
function M.Flatten() return module.new(Flatten) end

---@param x dl.Tensor at least 1 dim
---@return dl.Tensor a view of x when its layout allows
function Flatten:forward(x)
  self:expect_tensor(x, 'x')
  if x.ndim < 1 then self:fail('x must have a batch dim, got a scalar') end
  return x:reshape(dim(x, 0), -1)
end

---@param x dl.Tensor the input of the forward pass
---@param grad_out dl.Tensor [N, features]
---@param input_grad? boolean false skips the work (returns nil)
---@return dl.Tensor? grad_in x's shape
function Flatten:backward(x, grad_out, input_grad)
  self:expect_tensor(x, 'x')
  self:expect_tensor(grad_out, 'grad_out')
  if input_grad == false then return nil end
  if grad_out:nelement() ~= x:nelement() then
    self:fail(format('grad_out has shape %s, expected %d elements like x (%s)', shape_str(grad_out),
      x:nelement(), shape_str(x)))
  end
  return grad_out:reshape(x:size())
end

-- ----------------------------------------------------------------- Dropout

---@class dl.nn.Dropout: dl.nn.Module
---@field p number
local Dropout = module.class('Dropout')

--- In training mode, zeroes each element with probability p and scales the rest by
--- 1 / (1 - p); in eval mode, passes x through. Masks come from the dl.nn generator.
---@param p? number default 0.5
---@return dl.nn.Dropout
function M.Dropout(p)
  p = p == nil and 0.5 or p
  if type(p) ~= 'number' or not (p >= 0 and p <= 1) then
    error(format("bad argument #1 to 'Dropout' (probability in [0, 1] expected, got %s)", tostring(p)), 2)
  end
  local self = module.new(Dropout)
  self.p = p
  return self
end

---@return string
function Dropout:describe() return format('Dropout(p = %g)', self.p) end

---@param x dl.Tensor f32, any shape
---@return dl.Tensor x itself in eval mode
function Dropout:forward(x)
  x = any_input(self, x)
  if not self.training then return x end
  local y, mask = empty(x:size()), empty(x:size(), 'u8')
  self:check(C.dl_nn_dropout_forward(x, self.p, random.state, mask, y, err))
  self._mask = mask -- kept elements, for backward
  return y
end

---@param x dl.Tensor the input of the forward pass
---@param grad_out dl.Tensor x's shape
---@param input_grad? boolean false skips the work (returns nil)
---@return dl.Tensor? grad_in
function Dropout:backward(x, grad_out, input_grad)
  self:expect_tensor(x, 'x')
  self:expect_tensor(grad_out, 'grad_out')
  if input_grad == false then return nil end
  if not self.training then return grad_out end
  if not self._mask then self:fail('backward called before forward') end
  local grad_in = empty(grad_out:size())
  self:check(C.dl_nn_dropout_backward(grad_out:contiguous(), self._mask, self.p, grad_in, err))
  return grad_in
end

return M
