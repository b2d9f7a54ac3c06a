-- Specs for lua/dl/optim.lua. The three-step reference values come from
-- tests/native_ops/nn_optim_reference.py, an independent float64 numpy statement of the
-- torch.optim update rules (the cmocka test of the kernels uses the same output).
local optim = require 'dl.optim'
local tensor = require 'dl.tensor'

local P0 = { 1.0, -2.0, 0.5, 0.0 }
local GRADS = { { 0.5, -0.25, 1.0, 0.0 }, { 0.1, 0.2, -0.3, 1e-3 }, { -0.4, 0.0, 0.25, -2.0 } }
local SGD_MOMENTUM_WD = { 0.880094749, -1.95911457, 0.258547299, 0.1998101 }
local SGD_NESTEROV = { 0.869465558, -1.95233988, 0.186803265, 0.379729361 }
local ADAM_DEFAULT = { 0.981032597, -1.98896944, 0.481016351, -0.00105600255 }
local ADAM_WD = { 0.896398731, -1.88461625, 0.404575137, 0.0190160918 }

-- A parameter split in two, so the optimizer keeps state for each: elements 1-2 and 3-4.
local function params()
  return {
    { data = tensor.from_table({ P0[1], P0[2] }), grad = tensor.new({ 2 }) },
    { data = tensor.from_table({ { P0[3] }, { P0[4] } }), grad = tensor.new({ 2, 1 }) },
  }
end

local function run(opt, ps)
  for step = 1, 3 do
    opt:zero_grad()
    local g = GRADS[step]
    -- gradients accumulate onto the zeroed grads, as backward does
    ps[1].grad:add_(tensor.from_table({ g[1], g[2] }))
    ps[2].grad:add_(tensor.from_table({ { g[3] }, { g[4] } }))
    opt:step()
  end
  return { ps[1].data:get(1), ps[1].data:get(2), ps[2].data:get(1, 1), ps[2].data:get(2, 1) }
end

local function assert_close(want, got, tol)
  for i = 1, #want do
    assert.is_true(math.abs(got[i] - want[i]) <= tol * (1 + math.abs(want[i])),
      string.format('element %d: got %.9g, expected %.9g', i, got[i], want[i]))
  end
end

describe('dl.optim.SGD', function()
  it('follows torch.optim.SGD with momentum and weight decay', function()
    local ps = params()
    local opt = optim.SGD { params = ps, lr = 0.1, momentum = 0.9, weight_decay = 0.01 }
    assert_close(SGD_MOMENTUM_WD, run(opt, ps), 1e-6)
    assert.equals(3, opt.steps)
  end)

  it('supports Nesterov momentum', function()
    local ps = params()
    assert_close(SGD_NESTEROV, run(optim.SGD { params = ps, lr = 0.1, momentum = 0.9, weight_decay = 0.01,
      nesterov = true }, ps), 1e-6)
  end)

  it('reads lr at every step', function()
    local ps = { { data = tensor.from_table({ 1 }), grad = tensor.from_table({ 2 }) } }
    local opt = optim.SGD { params = ps, lr = 0.1 }
    opt:step() -- 1 - 0.1 * 2
    opt.lr = 0.01
    opt:step() -- 0.8 - 0.01 * 2
    assert.is_true(math.abs(ps[1].data:get(1) - 0.78) < 1e-7)
  end)

  it('rejects bad options', function()
    assert.has_error(function() optim.SGD { params = {} } end)
    assert.has_error(function() optim.SGD { params = { {} } } end)
    assert.has_error(function() optim.SGD { params = params(), lr = -1 } end)
    assert.has_error(function() optim.SGD { params = params(), nesterov = true } end,
      "bad argument #1 to 'SGD' (nesterov needs momentum > 0 and dampening 0)")
    assert.has_error(function() optim.SGD(nil) end)
  end)
end)

describe('dl.optim.Adam', function()
  it('follows torch.optim.Adam with default hyper-parameters', function()
    local ps = params()
    assert_close(ADAM_DEFAULT, run(optim.Adam { params = ps, lr = 0.01 }, ps), 2e-6)
  end)

  it('follows torch.optim.Adam with betas, eps and weight decay', function()
    local ps = params()
    local opt = optim.Adam { params = ps, lr = 0.05, betas = { 0.8, 0.99 }, eps = 1e-3, weight_decay = 0.1 }
    assert_close(ADAM_WD, run(opt, ps), 2e-6)
    assert.same({ 2, 1 }, opt.state[2].exp_avg:size())
  end)

  it('rejects bad options', function()
    assert.has_error(function() optim.Adam { params = params(), betas = { 0.9, 1 } } end,
      "bad argument #1 to 'Adam' (betas[2] must be a number in [0, 1), got 1)")
    assert.has_error(function() optim.Adam { params = params(), eps = 'x' } end)
    local ps = { { data = tensor.new({ 2 }), grad = tensor.new({ 3 }) } }
    assert.has_error(function() optim.Adam({ params = ps }):step() end,
      'grad has shape [3], expected [2] (the shape of param)')
  end)
end)
