-- Specs for lua/dl/nn: layers, Sequential, state dicts, cross-entropy, and an end-to-end
-- gradient check of a small CNN through the Lua API against finite differences.
local nn = require 'dl.nn'
local optim = require 'dl.optim'
local tensor = require 'dl.tensor'

local function set_all(t, values)
  local p = t:data()
  for i, v in ipairs(values) do p[i - 1] = v end
  return t
end

local function close(a, b, tol) return math.abs(a - b) <= tol * (1 + math.abs(b)) end

describe('dl.nn layers', function()
  before_each(function() nn.manual_seed(1) end)

  it('Linear computes x W^T + b (hand-worked)', function()
    local lin = nn.Linear(3, 2)
    set_all(lin.weight.data, { 1, 0, -1, 0.5, 0.5, 0.5 })
    set_all(lin.bias.data, { 0.1, -0.2 })
    local y = lin:forward(tensor.from_table({ { 1, 2, 3 }, { 4, 5, 6 } }))
    local want = { { -1.9, 2.8 }, { -1.9, 7.3 } }
    for i = 1, 2 do
      for j = 1, 2 do assert.is_true(close(y:get(i, j), want[i][j], 1e-6)) end
    end
    -- layer(x) is forward(x)
    assert.equals(y:get(2, 2), lin(tensor.from_table({ { 1, 2, 3 }, { 4, 5, 6 } })):get(2, 2))
  end)

  it('initialises uniformly within 1/sqrt(fan_in), reproducibly from manual_seed', function()
    local conv = nn.Conv2d(4, 8, 3)
    local bound = 1 / math.sqrt(4 * 3 * 3)
    local w = conv.weight.data
    assert.same({ 8, 4, 3, 3 }, w:size())
    assert.is_true(w:max() <= bound and w:min() >= -bound)
    assert.is_true(w:max() > 0.9 * bound and w:min() < -0.9 * bound) -- 288 draws span the range
    assert.is_true(math.abs(w:mean()) < 0.2 * bound)
    nn.manual_seed(1)
    local again = nn.Conv2d(4, 8, 3)
    assert.equals(w:get(3, 2, 1, 3), again.weight.data:get(3, 2, 1, 3))
    nn.manual_seed(2)
    assert.are_not.equal(w:get(3, 2, 1, 3), nn.Conv2d(4, 8, 3).weight.data:get(3, 2, 1, 3))
    assert.has_error(function() nn.manual_seed(-1) end)
  end)

  it('names state dict entries as PyTorch does and shares the parameter tensors', function()
    local model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2, { bias = false }))
    local sd = model:state_dict()
    local names = {}
    for k, v in pairs(sd) do names[#names + 1] = k .. '=' .. table.concat(v:size(), 'x') end
    table.sort(names)
    assert.same({ '1.bias=4', '1.weight=4x6', '3.weight=2x4' }, names)
    local params = model:parameters()
    assert.equals(3, #params)
    assert.equals(params[1].data, model.modules[2].weight.data)
    assert.same({ 4, 6 }, params[1].grad:size())
    sd['1.bias']:fill(7) -- shared storage: the layer sees it
    assert.equals(7, model.modules[2].bias.data:get(3))
  end)

  it('loads a matching state dict and rejects a mismatched one without copying anything', function()
    local a = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    nn.manual_seed(9)
    local b = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    assert.is_true(b:load_state_dict(a:state_dict()))
    assert.equals(a.modules[3].weight.data:get(1, 2), b.modules[3].weight.data:get(1, 2))

    local before = b.modules[1].weight.data:get(2, 3)
    local bad = {
      ['0.weight'] = tensor.new({ 2, 3 }),
      ['0.bias'] = tensor.new({ 3 }),
      ['2.weight'] = tensor.new({ 1, 2 }, 'i64'),
      ['9.weight'] = tensor.new({ 1 }),
    }
    local ok, err = b:load_state_dict(bad)
    assert.is_nil(ok)
    assert.matches('0.bias has shape 3, expected 2', err, 1, true)
    assert.matches('2.weight has dtype i64, expected f32', err, 1, true)
    assert.matches('missing 2.bias', err, 1, true)
    assert.matches('unexpected 9.weight', err, 1, true)
    assert.equals(before, b.modules[1].weight.data:get(2, 3))
    assert.has_error(function() b:load_state_dict('x') end)
  end)

  it('accumulates parameter grads over backward calls until zero_grad', function()
    local lin = nn.Linear(2, 2)
    local x = tensor.from_table({ { 1, 2 } })
    local g = tensor.from_table({ { 1, -1 } })
    lin:backward(x, g)
    lin:backward(x, g)
    -- dW = g^T x, twice: row 1 = 2 * (1, 2), row 2 = 2 * (-1, -2); db = 2 * g
    assert.same({ { 2, 4 }, { -2, -4 } }, lin.weight.grad:totable())
    assert.same({ 2, -2 }, lin.bias.grad:totable())
    lin:zero_grad()
    assert.same({ 0, 0 }, lin.bias.grad:totable())
  end)

  it('skips the input gradient on request, with the same parameter gradients', function()
    local model = nn.Sequential(nn.Flatten(), nn.Linear(8, 3), nn.ReLU(), nn.Linear(3, 2))
    local x = tensor.from_table({ { { 1, -2, 3, 0.5 }, { 0.25, 2, -1, 4 } } }) -- 1x2x4
    local g = tensor.from_table({ { 1, -1 } })
    model:forward(x)
    local gx = model:backward(x, g)
    assert.same({ 1, 2, 4 }, gx:size())
    local want = {}
    for i, p in ipairs(model:parameters()) do want[i] = p.grad:clone() end
    model:zero_grad()
    model:forward(x)
    assert.is_nil(model:backward(x, g, false))
    for i, p in ipairs(model:parameters()) do assert.same(want[i]:totable(), p.grad:totable()) end
    assert.is_nil(nn.Linear(2, 2):backward(tensor.new({ 1, 2 }), tensor.new({ 1, 2 }), false))
  end)

  it('Dropout masks in training, passes through in eval, and reuses the mask in backward', function()
    local drop = nn.Dropout(0.25)
    local x = tensor.full({ 100, 100 }, 1)
    local y = drop:forward(x)
    local kept = y:sum() / (1 / 0.75)
    assert.is_true(kept > 0.73 * 10000 and kept < 0.77 * 10000)
    local gx = drop:backward(x, tensor.full({ 100, 100 }, 2))
    for _, ij in ipairs({ { 1, 1 }, { 50, 7 }, { 100, 100 }, { 3, 99 } }) do
      local i, j = ij[1], ij[2]
      assert.is_true(close(gx:get(i, j), y:get(i, j) * 2, 1e-6)) -- same mask, same scale
    end
    drop:eval()
    assert.is_false(drop.training)
    assert.equals(x, drop:forward(x))
    assert.has_error(function() nn.Dropout(1.5) end)
  end)

  it('Conv2d gives the same gradients from a second backward of one forward', function()
    local conv = nn.Conv2d(2, 3, 3, { padding = 1 })
    local x = tensor.full({ 2, 2, 5, 5 }, 0.5)
    x:set(1, 2, 3, 4, -1)
    local g = tensor.full({ 2, 3, 5, 5 }, 1)
    conv:forward(x)
    local first = conv:backward(x, g):totable()
    local wgrad = conv.weight.grad:clone()
    assert.same(first, conv:backward(x, g):totable())
    assert.same((wgrad * 2):totable(), conv.weight.grad:totable())
    conv:eval()
    conv:forward(x) -- no unfolded input kept in eval mode
    assert.same(first, conv:backward(x, g):totable())
  end)

  it('MaxPool2d and Flatten route gradients back to the input shape', function()
    local pool = nn.MaxPool2d(2)
    local x = tensor.from_table({ { { { 1, 5, 2, 0 }, { 3, 4, 8, 1 } } } }) -- 1x1x2x4
    local y = pool:forward(x)
    assert.same({ { { { 5, 8 } } } }, y:totable())
    local gx = pool:backward(x, tensor.from_table({ { { { 10, 20 } } } }))
    assert.same({ { { { 0, 10, 0, 0 }, { 0, 0, 20, 0 } } } }, gx:totable())
    local flat = nn.Flatten()
    assert.same({ 1, 8 }, flat:forward(x):size())
    assert.same({ 1, 1, 2, 4 }, flat:backward(x, tensor.new({ 1, 8 })):size())
  end)

  it('raises errors that name the layer and the shapes', function()
    local lin = nn.Linear(784, 10)
    assert.has_error(function() lin:forward(tensor.new({ 2, 1, 28, 28 })) end,
      'Linear(784 -> 10): x must be [N, 784], got 2x1x28x28 (flatten images with nn.Flatten)')
    assert.has_error(function() lin:forward(tensor.new({ 2, 783 })) end,
      'Linear(784 -> 10): x has 783 features per row but weight [10, 784] expects 784')
    assert.has_error(function() lin:forward(nil) end, 'Linear(784 -> 10): x must be a dl.tensor, got nil')
    local conv = nn.Conv2d(3, 4, 5)
    assert.has_error(function() conv:forward(tensor.new({ 1, 3, 4, 4 })) end,
      'Conv2d(3 -> 4, kernel 5x5, stride 1x1, padding 0x0): kernel 5x5 is larger than the padded input 4x4')
    assert.has_error(function() nn.Conv2d(3, 4, 0) end)
    assert.has_error(function() nn.Linear(0, 3) end)
    assert.has_error(function() nn.Sequential(nn.ReLU(), 'relu') end)
    assert.has_error(function() nn.MaxPool2d(2):backward(tensor.new({ 1, 1, 2, 2 }), tensor.new({ 1, 1, 1, 1 })) end,
      'MaxPool2d(kernel 2x2, stride 2x2): backward called before forward')
  end)
end)

describe('dl.nn errors', function()
  -- The error of f, which must fail.
  local function error_of(f)
    local ok, err = pcall(f)
    assert.is_false(ok, 'expected an error')
    return tostring(err)
  end
  local here = 'spec/dl/nn_spec.lua:'

  it('point at the line that called the model, however deep the layers sit', function()
    local x, y = tensor.new({ 2, 4 }), nil
    local model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(5, 2))
    local line = debug.getinfo(1, 'l').currentline
    local err = error_of(function() y = model:forward(x) end)
    assert.equals(here .. (line + 1) .. ': Linear(5 -> 2): x has 3 features per row but weight [2, 5] expects 5',
      err)
    err = error_of(function() y = model(x) end) -- through __call
    assert.matches('^' .. here .. (line + 4) .. ': Linear%(5 %-> 2%)', err)
    local nested = nn.Sequential(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)), nn.Linear(5, 2))
    err = error_of(function() y = nested:forward(x) end)
    assert.matches('^' .. here .. (line + 7) .. ': Linear%(5 %-> 2%)', err)
    err = error_of(function() y = model:forward(tensor.new({ 2, 2, 2 })) end)
    assert.matches('^' .. here .. (line + 9) .. ': Linear%(4 %-> 3%): x must be %[N, 4%]', err)
    err = error_of(function() y = model:forward('x') end)
    assert.matches('^' .. here .. (line + 11) .. ': Linear%(4 %-> 3%): x must be a dl.tensor, got string', err)
    local conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2))
    err = error_of(function() y = conv:forward(tensor.new({ 1, 1, 2, 2 })) end)
    assert.matches('^' .. here .. (line + 14) .. ': Conv2d', err)
    err = error_of(function() y = model:backward(tensor.new({ 2, 4 }), tensor.new({ 2, 2 })) end)
    assert.matches('^' .. here .. (line + 16) .. ': Sequential: backward', err)
    local freed = tensor.new({ 2, 4 })
    freed:free()
    err = error_of(function() y = model:forward(freed) end)
    assert.matches('^' .. here .. (line + 20) .. ': Linear%(4 %-> 3%): x: tensor used after :free%(%)', err)
    err = error_of(function() y = nn.cross_entropy(tensor.new({ 2, 3 }), { 1, 'b' }) end)
    assert.matches('^' .. here .. (line + 22) .. ": bad argument #2 to 'cross_entropy' %(labels: element %[2%]", err)
    err = error_of(function() y = nn.cross_entropy(freed, { 1, 2 }) end)
    assert.matches('^' .. here .. (line + 24) .. ': tensor used after :free%(%)', err)
    assert.is_nil(y)
  end)
end)

describe('dl.nn.cross_entropy', function()
  it('gives ln(K) for equal logits and the softmax-minus-one-hot gradient over N', function()
    local loss, grad = nn.cross_entropy(tensor.new({ 2, 4 }), { 2, 4 }) -- class ids count from 1
    assert.is_true(close(loss, math.log(4), 1e-7))
    assert.is_true(close(grad:get(1, 2), (0.25 - 1) / 2, 1e-7))
    assert.is_true(close(grad:get(2, 1), 0.25 / 2, 1e-7))
    local loss64 = nn.cross_entropy(tensor.new({ 2, 4 }), tensor.from_table({ 2, 4 }, 'i64'))
    assert.equals(loss, loss64)
  end)

  it('rejects labels outside 1..K', function()
    assert.has_error(function() nn.cross_entropy(tensor.new({ 2, 4 }), { 1, 5 }) end,
      'labels[2] = 5 is outside 1..4')
    assert.has_error(function() nn.cross_entropy(tensor.new({ 2, 4 }), { 0, 1 }) end,
      'labels[1] = 0 is outside 1..4')
    assert.has_error(function() nn.cross_entropy(tensor.new({ 8 }), { 1 }) end)
  end)
end)

describe('dl.nn end to end', function()
  -- A small CNN whose every layer is on the path: conv with stride and padding, ReLU,
  -- max-pool, flatten, linear.
  local function small_cnn()
    nn.manual_seed(3)
    return nn.Sequential(nn.Conv2d(2, 3, 3, { stride = 2, padding = 1 }), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
      nn.Linear(12, 4))
  end

  local function input()
    local x = tensor.new({ 2, 2, 8, 8 })
    local p, s = x:data(), 12345
    for i = 0, x:nelement() - 1 do
      s = (s * 1103515245 + 12345) % 2 ^ 31
      p[i] = s / 2 ^ 31 * 2 - 1
    end
    return x
  end

  it('backward matches finite differences of the loss for the input and every parameter', function()
    local model, x, labels = small_cnn(), input(), { 1, 3 }
    local function loss_of() return (nn.cross_entropy(model:forward(x), labels)) end
    model:zero_grad()
    local _, g = nn.cross_entropy(model:forward(x), labels)
    local gx = model:backward(x, g)
    local checks = { { x, gx, 'x' } }
    for i, p in ipairs(model:parameters()) do checks[#checks + 1] = { p.data, p.grad, 'parameter ' .. i } end
    local h, worst = 1e-3, 0
    for _, c in ipairs(checks) do
      local values, grads = c[1]:data(), c[2]:data()
      for i = 0, c[1]:nelement() - 1 do
        local saved = values[i]
        values[i] = saved + h
        local up = loss_of()
        values[i] = saved - h
        local down = loss_of()
        values[i] = saved
        local numeric = (up - down) / (2 * h)
        local err = math.abs(numeric - grads[i])
        worst = math.max(worst, err)
        if err > 2e-3 + 2e-2 * math.abs(numeric) then
          error(string.format('%s[%d]: backward %.6f, finite difference %.6f', c[3], i, grads[i], numeric))
        end
      end
    end
    assert.is_true(worst < 2e-3)
  end)

  it('learns a separable toy problem with Adam', function()
    -- Two classes: points above or below the line y = x, in [-1, 1]^2.
    nn.manual_seed(7)
    local n = 128
    local x, labels, s = tensor.new({ n, 2 }), {}, 99
    for i = 1, n do
      s = (s * 1103515245 + 12345) % 2 ^ 31
      local a = s / 2 ^ 31 * 2 - 1
      s = (s * 1103515245 + 12345) % 2 ^ 31
      local b = s / 2 ^ 31 * 2 - 1
      x:set(i, 1, a)
      x:set(i, 2, b)
      labels[i] = b > a and 2 or 1
    end
    local model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    local opt = optim.Adam { params = model:parameters(), lr = 0.05 }
    local first, loss
    for _ = 1, 200 do
      opt:zero_grad()
      local logits = model:forward(x)
      local grad
      loss, grad = nn.cross_entropy(logits, labels)
      first = first or loss
      model:backward(x, grad, false)
      opt:step()
    end
    local _, predicted = model:forward(x):max(2)
    local correct = 0
    for i = 1, n do
      if predicted:get(i) == labels[i] then correct = correct + 1 end
    end
    assert.is_true(first > 0.5 and loss < 0.1, string.format('loss %.3f -> %.3f', first, loss))
    assert.is_true(correct >= n - 2, correct .. ' of ' .. n .. ' correct')
  end)
end)
