--- dl.nn.random: the one generator behind parameter initialisation and dropout.
---
--- It lives in the lua_State's registry, so every module that requires this file (and every
--- re-require under busted) draws from the same stream: one manual_seed reproduces a run.
--- The numbers come from native_ops (splitmix64); PyTorch's generator differs, so weights
--- initialised here match PyTorch's in distribution, not in value.
local ffi = require 'ffi'
local native = require 'dl.native'
local tensor = require 'dl.tensor'

local C, err = native.C, native.err
local error, type, floor, format = error, type, math.floor, string.format

local M = {}

-- The seed a fresh state starts from, so runs are reproducible without manual_seed.
local DEFAULT_SEED = 0x5eed

local reg = debug.getregistry()
local state = reg['dl.nn.rng']
if not state then
  state = ffi.new('uint64_t[1]', DEFAULT_SEED)
  reg['dl.nn.rng'] = state
end

--- The generator state, a `uint64_t[1]` for the native kernels that take `uint64_t *rng`.
M.state = state

--- Restarts the generator: the same seed gives the same initial weights and dropout masks.
---@param seed integer a whole number in 0 .. 2^53
function M.manual_seed(seed)
  if type(seed) ~= 'number' or seed ~= floor(seed) or seed < 0 or seed > 2 ^ 53 then
    error(format("bad argument #1 to 'manual_seed' (whole number in 0..2^53 expected, got %s)", tostring(seed)), 2)
  end
  state[0] = seed
end

--- A new f32 tensor of the given shape, uniform between low and high.
---@param shape integer[]
---@param low number
---@param high number
---@return dl.Tensor
function M.uniform(shape, low, high)
  local t = tensor.empty(shape)
  native.assert(C.dl_nn_fill_uniform(t, low, high, state, err), 2)
  return t
end

return M
