-- Specs for lua/dl/tensor.lua: the FFI layer over the native tensor ops.
local ffi = require 'ffi'
local native = require 'dl.native'
local tensor = require 'dl.tensor'

local C = native.C

-- Runs f and returns its error message (failing the spec when f succeeds).
local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, 'expected an error')
  return tostring(err)
end

-- Marks t's storage as recycled, as the batching pipeline does when a batch slot is reused.
local function recycle(t) t.storage.generation = t.storage.generation + 1 end

local function near(a, b, tol) return math.abs(a - b) <= (tol or 1e-6) end

describe('dl.tensor constructors', function()
  it('makes zero-filled tensors of each dtype', function()
    for _, dtype in ipairs({ 'u8', 'i32', 'i64', 'f32' }) do
      local t = tensor.new({ 2, 3 }, dtype)
      assert.equals(dtype, t:type())
      assert.same({ 2, 3 }, t:size())
      assert.equals(6, t:nelement())
      assert.same({ { 0, 0, 0 }, { 0, 0, 0 } }, t:totable())
    end
    assert.equals('f32', tensor.zeros({ 4 }):type())
    assert.same({ 7, 7 }, tensor.full({ 2 }, 7, 'i64'):totable())
    assert.same({ 1, 1, 1 }, tensor.ones({ 3 }, 'u8'):totable())
    assert.equals(0, tensor.new({}):dim())
    assert.equals(1, tensor.new({}):nelement())
    assert.same({ 0, 5 }, tensor.empty({ 0, 5 }):size())
  end)

  it('builds from nested tables and back', function()
    local rows = { { 1, 2, 3 }, { 4, 5, 6 } }
    local t = tensor.from_table(rows)
    assert.same({ 2, 3 }, t:size())
    assert.same(rows, t:totable())
    assert.same({ { 255 } }, tensor.from_table({ { 255 } }, 'u8'):totable())
    assert.equals(2.5, tensor.from_table(2.5):totable())
  end)

  it('makes ranges like numpy.arange', function()
    local r = tensor.arange(5)
    assert.equals('i64', r:type())
    assert.same({ 0, 1, 2, 3, 4 }, r:totable())
    assert.same({ 2, 4, 6 }, tensor.arange(2, 8, 2):totable())
    local f = tensor.arange(0, 1, 0.25)
    assert.equals('f32', f:type())
    assert.same({ 0, 0.25, 0.5, 0.75 }, f:totable())
    assert.same({ 3, 2, 1 }, tensor.arange(3, 0, -1, 'u8'):totable())
    assert.equals(0, tensor.arange(0):nelement())
  end)

  it('rejects bad arguments with clear messages', function()
    assert.matches("bad argument #2 to 'new' %(dtype 'u8', 'i32', 'i64' or 'f32' expected, got \"f64\"%)",
      error_of(tensor.new, { 2 }, 'f64'))
    assert.matches("size %-1 at dim 2 must be a whole number >= 0", error_of(tensor.new, { 2, -1 }))
    assert.matches("table of sizes expected, got number", error_of(tensor.new, 3))
    assert.matches('ragged table: element %[2%] should be a table of 2, got a table of 1',
      error_of(tensor.from_table, { { 1, 2 }, { 3 } }))
    assert.matches('element %[1%]%[2%] is 256, not a whole number in the range of u8',
      error_of(tensor.from_table, { { 1, 256 } }, 'u8'))
    assert.matches('element %[2%] must be a number, got string', error_of(tensor.from_table, { 1, 'x' }))
    assert.matches('step must not be 0', error_of(tensor.arange, 0, 3, 0))
    assert.matches('at most 8 dims', error_of(tensor.new, { 1, 1, 1, 1, 1, 1, 1, 1, 1 }))
    -- each constructor names itself
    assert.matches("^bad argument #1 to 'zeros' %(size %-1 at dim 1", error_of(tensor.zeros, { -1 }))
    assert.matches("^bad argument #2 to 'zeros' %(dtype", error_of(tensor.zeros, { 1 }, 'f64'))
    assert.matches("^bad argument #1 to 'zeros' %(table of sizes expected", error_of(tensor.zeros, 3))
    assert.matches('^spec/dl/tensor_spec.lua:%d+: shape has a negative dim or overflows',
      error_of(function() local _ = tensor.zeros({ 2 ^ 40, 2 ^ 40 }) end))
  end)
end)

describe('dl.tensor elements', function()
  it('gets and sets with 1-based indices', function()
    local t = tensor.arange(12, 'f32'):view(3, 4)
    assert.equals(0, t:get(1, 1))
    assert.equals(6, t:get(2, 3))
    t:set(3, 4, -1.5)
    assert.equals(-1.5, t:get(3, 4))
    assert.equals(-1.5, t:data()[11]) -- the raw pointer is 0-based
    t:data()[0] = 42
    assert.equals(42, t:get(1, 1))
  end)

  it('names the index, dim and shape of a bad index', function()
    local t = tensor.new({ 3, 4 })
    assert.matches('index 5 out of range for dim 1 of shape 3x4', error_of(t.get, t, 5, 1))
    assert.matches('index 0 out of range for dim 2 of shape 3x4', error_of(t.get, t, 1, 0))
    assert.matches('1 indices given for a tensor of shape 3x4', error_of(t.get, t, 1))
    assert.matches('value is 1.5, not a whole number in the range of u8',
      error_of(function() tensor.new({ 2 }, 'u8'):set(1, 1.5) end))
    -- the error points at the caller's line
    assert.matches('tensor_spec.lua:%d+:', error_of(function() t:get(9, 9) end))
  end)

  it('indexes with t[i]: elements of a vector, rows of a matrix', function()
    local v = tensor.from_table({ 10, 20, 30 })
    assert.equals(20, v[2])
    v[3] = 5
    assert.equals(5, v:get(3))
    assert.equals(3, #v)
    local m = tensor.from_table({ { 1, 2 }, { 3, 4 } })
    assert.same({ 3, 4 }, m[2]:totable())
    assert.equals(4, m[2][2])
    m[1] = 9 -- fills the row
    assert.same({ { 9, 9 }, { 3, 4 } }, m:totable())
    m[2] = tensor.from_table({ 7, 8 })
    assert.same({ { 9, 9 }, { 7, 8 } }, m:totable())
    assert.matches('index 3 out of range for dim 1 of shape 2x2', error_of(function() return m[3] end))
    -- t[0] is the commonest slip from 0-based code: say that indices start at 1, at the caller's line
    local r
    for _, use in ipairs({ function() r = m[0] end, function() r = v[0] end, function() m[0] = 1 end,
      function() v[0] = 1 end, function() r = m[-1] end, function() r = m[1.5] end }) do
      local err = error_of(use)
      assert.matches('^spec/dl/tensor_spec.lua:%d+: index %-?[%d.]+ out of range for dim 1 of shape %dx?%d? '
        .. '%(indices start at 1%)$', err)
    end
    assert.is_nil(r)
    assert.matches('cannot set field', error_of(function() m.foo = 1 end))
  end)

  it('prints shape, dtype and values, eliding large tensors', function()
    local s = tostring(tensor.from_table({ { 1, 2.5 }, { 3, 4 } }))
    assert.matches('f32 2x2', s)
    assert.matches('%[%[1, 2.5%],\n %[3, 4%]%]', s)
    local big = tostring(tensor.arange(5000):view(50, 100))
    assert.matches('i64 50x100', big)
    assert.matches('%[0, 1, 2, ..., 97, 98, 99%]', big)
    assert.matches('%[4900, 4901, 4902, ..., 4997, 4998, 4999%]%]', big)
    assert.is_nil(big:find('150'))
  end)
end)

describe('dl.tensor views', function()
  it('share storage with their source', function()
    local t = tensor.arange(12, 'f32'):view(3, 4)
    local n = t:narrow(2, 2, 2)
    assert.same({ { 1, 2 }, { 5, 6 }, { 9, 10 } }, n:totable())
    n:set(1, 1, 100)
    assert.equals(100, t:get(1, 2))
    local row = t:select(1, 3)
    assert.same({ 8, 9, 10, 11 }, row:totable())
    assert.same({ 4, 3 }, t:transpose():size())
    assert.same({ 4, 3 }, t:transpose(1, 2):size())
    assert.equals(t:get(2, 3), t:transpose(-1, -2):get(3, 2))
    assert.same({ 1, 3, 4 }, t:unsqueeze(1):size())
    assert.same({ 3, 4, 1 }, t:unsqueeze(3):size())
    assert.same({ 3, 4 }, t:unsqueeze(1):squeeze(1):size())
    assert.same({ 3 }, tensor.new({ 1, 3, 1 }):squeeze():size())
    assert.same({ 2, 3, 4 }, t:expand(2, 3, 4):size())
    local p = tensor.arange(24, 'f32'):view(2, 3, 4):permute(3, 1, 2)
    assert.same({ 4, 2, 3 }, p:size())
    assert.equals(1 * 12 + 2 * 4 + 3, p:get(4, 2, 3)) -- element (2, 3, 4) of the source
    assert.same(t:transpose():totable(), t:permute(2, 1):totable())
  end)

  it('views and reshapes, copying only when it must', function()
    local t = tensor.arange(6, 'f32')
    assert.same({ { 0, 1, 2 }, { 3, 4, 5 } }, t:view(2, 3):totable())
    assert.same({ 3, 2 }, t:view({ -1, 2 }):size())
    local tr = t:view(2, 3):transpose()
    assert.matches('call contiguous%(%) first', error_of(tr.view, tr, 6))
    assert.same({ 0, 3, 1, 4, 2, 5 }, tr:reshape(6):totable())
    assert.same({ 0, 3, 1, 4, 2, 5 }, tr:contiguous():view(6):totable())
    assert.is_true(rawequal(t, t:contiguous()))
    assert.is_false(tr:is_contiguous())
  end)

  it('checks dims and ranges in 1-based terms', function()
    local t = tensor.new({ 3, 4 })
    assert.matches("bad argument #2 to 'narrow' %(dim 3 out of range for a tensor of 2 dims%)",
      error_of(t.narrow, t, 3, 1, 1))
    assert.matches('elements 4..5 out of range for dim 2 of shape 3x4', error_of(t.narrow, t, 2, 4, 2))
    assert.matches('index 4 out of range for dim 1 of shape 3x4', error_of(t.select, t, 1, 4))
    assert.matches('dim 1 of shape 3x4 has size 3, not 1', error_of(t.squeeze, t, 1))
    assert.matches('dim 2 appears twice', error_of(t.permute, t, 2, 2))
    assert.matches('2 dims given for a tensor of 3 dims', error_of(function() tensor.new({ 1, 2, 3 }):permute(1, 2) end))
  end)
end)

describe('dl.tensor copies and conversions', function()
  it('clones, copies with broadcasting and fills', function()
    local t = tensor.from_table({ 1, 2, 3 })
    local c = t:clone()
    c:set(1, 9)
    assert.equals(1, t:get(1))
    local m = tensor.new({ 2, 3 }):copy(t)
    assert.same({ { 1, 2, 3 }, { 1, 2, 3 } }, m:totable())
    assert.same({ { 4, 4, 4 }, { 4, 4, 4 } }, m:fill(4):totable())
    assert.matches('does not broadcast', error_of(t.copy, t, m))
    assert.matches('value is 300, not a whole number in the range of u8',
      error_of(function() tensor.new({ 1 }, 'u8'):fill(300) end))
  end)

  it('converts dtypes with a scale, rounding and saturating into integers', function()
    local px = tensor.from_table({ 0, 51, 255 }, 'u8')
    local f = px:to('f32', 1 / 255)
    assert.equals('f32', f:type())
    assert.is_true(near(f:get(2), 0.2))
    assert.same({ 0, 51, 255 }, f:to('u8', 255):totable())
    assert.same({ 0, 1, 255, 0 }, tensor.from_table({ -3, 0.5, 300, 0.49 }):to('u8'):totable())
    assert.equals('f32', px:float():type())
    assert.matches('dtype expected, got nil', error_of(px.to, px))
  end)
end)

describe('dl.tensor arithmetic', function()
  it('broadcasts tensors and numbers on either side', function()
    local a = tensor.from_table({ { 1, 2, 3 }, { 4, 5, 6 } })
    local row = tensor.from_table({ 10, 20, 30 })
    assert.same({ { 11, 22, 33 }, { 14, 25, 36 } }, (a + row):totable())
    assert.same({ { -9, -18, -27 }, { -6, -15, -24 } }, (a - row):totable())
    assert.same({ { 2, 4, 6 }, { 8, 10, 12 } }, (a * 2):totable())
    assert.same({ { 2, 4, 6 }, { 8, 10, 12 } }, (2 * a):totable())
    assert.same({ { 9, 8, 7 }, { 6, 5, 4 } }, (10 - a):totable())
    assert.same({ { 0.5, 1, 1.5 }, { 2, 2.5, 3 } }, (a / 2):totable())
    local q = 6 / a
    assert.same({ 6, 3, 2 }, q[1]:totable())
    assert.same({ 1.5, 1 }, { q:get(2, 1), q:get(2, 3) })
    assert.is_true(near(q:get(2, 2), 1.2))
    assert.same({ { -1, -2, -3 }, { -4, -5, -6 } }, (-a):totable())
    assert.same({ { 10, 40, 90 }, { 40, 100, 180 } }, a:mul(row):totable())
    assert.same({ { 1, 2, 3 }, { 4, 5, 6 } }, a:totable()) -- untouched
  end)

  it('works in place with add_ and friends, returning the tensor', function()
    local a = tensor.from_table({ 1, 2, 3 })
    assert.is_true(rawequal(a, a:add_(1)))
    assert.same({ 2, 3, 4 }, a:totable())
    a:mul_(tensor.from_table({ 2, 0, 1 })):sub_(1):div_(2)
    assert.same({ 1.5, -0.5, 1.5 }, a:totable())
  end)

  it('keeps integer dtypes and rejects what does not fit', function()
    local u = tensor.from_table({ 250, 5 }, 'u8')
    assert.same({ 4, 15 }, (u + 10):totable()) -- wraps around like numpy
    assert.same({ 3, -3 }, (tensor.from_table({ 7, -7 }, 'i32') / 2):totable())
    assert.matches('scalar is 1.5, not a whole number in the range of u8', error_of(function() return u + 1.5 end))
    assert.matches('dtype f32 differs from u8', error_of(function() return u + tensor.new({ 2 }) end))
    assert.matches('shapes 2 and 3 do not broadcast', error_of(function() return u + tensor.new({ 3 }, 'u8') end))
    assert.matches('integer division by zero', error_of(function() return u / 0 end))
    assert.matches('tensor_spec.lua:%d+:', error_of(function() return u + 1.5 end))
  end)
end)

describe('dl.tensor reductions', function()
  local a = tensor.from_table({ { 1, 5, 3 }, { 4, 2, 6 } })

  it('sums and averages all elements or along a dim', function()
    assert.equals(21, a:sum())
    assert.equals(3.5, a:mean())
    assert.same({ 5, 7, 9 }, a:sum(1):totable())
    assert.same({ { 9 }, { 12 } }, a:sum(2, true):totable())
    assert.same({ 3, 4 }, a:mean(-1):totable())
    assert.equals('i64', tensor.from_table({ 200, 200 }, 'u8'):sum(1):type())
    assert.equals(400, tensor.from_table({ 200, 200 }, 'u8'):sum())
    assert.equals(21, a:transpose():sum())
  end)

  it('finds extremes with 1-based indices', function()
    assert.equals(6, a:max())
    assert.equals(1, a:min())
    assert.equals(6, a:argmax()) -- position in the flattened tensor
    local values, indices = a:max(2)
    assert.same({ 5, 6 }, values:totable())
    assert.same({ 2, 3 }, indices:totable())
    assert.equals('i64', indices:type())
    local mins, where = a:min(1)
    assert.same({ 1, 2, 3 }, mins:totable())
    assert.same({ 1, 2, 1 }, where:totable())
    assert.same({ 2, 1, 2 }, a:argmax(1):totable())
    assert.matches('dim 2 of shape 2x0 is empty', error_of(function() tensor.new({ 2, 0 }):max(2) end))
    assert.matches('is empty', error_of(function() tensor.new({ 0 }):max() end))
  end)

  it('computes softmax and log_softmax along a dim', function()
    local x = tensor.from_table({ { 1, 2, 3 }, { 1000, 1000, 1000 } })
    local p = x:softmax()
    for r = 1, 2 do assert.is_true(near(p[r]:sum(), 1)) end
    assert.is_true(near(p:get(2, 1), 1 / 3))
    local e1, e2, e3 = math.exp(1), math.exp(2), math.exp(3)
    assert.is_true(near(p:get(1, 3), e3 / (e1 + e2 + e3)))
    assert.is_true(near(x:log_softmax(2):get(1, 1), 1 - math.log(e1 + e2 + e3), 1e-5))
    assert.is_true(near(x:softmax(1):get(1, 1), 0))
    assert.matches('f32 tensor expected, got u8', error_of(function() tensor.new({ 2 }, 'u8'):softmax() end))
  end)

  it('returns topk sorted, ties in index order, with 1-based indices', function()
    local v, i = tensor.from_table({ 3, 7, 1, 7, 5 }):topk(3)
    assert.same({ 7, 7, 5 }, v:totable())
    assert.same({ 2, 4, 5 }, i:totable())
    local rv, ri = a:topk(1, 1)
    assert.same({ { 4, 5, 6 } }, rv:totable())
    assert.same({ { 2, 1, 2 } }, ri:totable())
    assert.matches('k = 4 out of range for dim 1 of shape 3', error_of(function() tensor.new({ 3 }):topk(4) end))
  end)

  it('multiplies matrices', function()
    local b = tensor.from_table({ { 1, 0 }, { 0, 1 }, { 2, -1 } })
    assert.same({ { 7, 2 }, { 16, -4 } }, a:matmul(b):totable())
    assert.same({ { 7, 16 }, { 2, -4 } }, b:transpose():matmul(a:transpose()):totable())
    assert.matches('inner sizes 3 and 2', error_of(a.matmul, a, a:transpose():narrow(1, 1, 2)))
  end)
end)

describe('dl.tensor ownership', function()
  it('adopts tensors made in C and releases them when collected', function()
    collectgarbage()
    local before = tonumber(C.dl_mem_live_bytes())
    local box = ffi.new('dl_tensor *[1]')
    assert.equals(0, C.dl_tensor_new(box, C.DL_F32, 1, ffi.new('int64_t[1]', 1000), native.err))
    local t = tensor.adopt(box[0])
    assert.is_true(tensor.is_tensor(t))
    assert.is_false(tensor.is_tensor(box[0]))
    assert.equals(before + 4000, tonumber(C.dl_mem_live_bytes()))
    t = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.equals(before, tonumber(C.dl_mem_live_bytes()))
    assert.matches('non%-NULL dl_tensor %* expected, got number', error_of(tensor.adopt, 3))
    assert.matches('non%-NULL dl_tensor %* expected', error_of(tensor.adopt, ffi.cast('dl_tensor *', nil)))
  end)

  it('frees at once with free()', function()
    collectgarbage()
    local before = tonumber(C.dl_mem_live_bytes())
    local t = tensor.new({ 1000 })
    local v = t:narrow(1, 1, 10) -- the view keeps the storage
    t:free()
    assert.equals(before + 4000, tonumber(C.dl_mem_live_bytes()))
    v:free()
    assert.equals(before, tonumber(C.dl_mem_live_bytes()))
  end)

  it('raises on every use of a freed tensor, and on a second free', function()
    local y = tensor.arange(6, 'f32'):view(2, 3)
    local keep = y:select(1, 2)
    y:free()
    local r
    for _, use in ipairs({
      function() r = y:get(1, 1) end,
      function() r = y:size() end,
      function() r = y:sum() end,
      function() r = y + 1 end,
      function() r = 1 - y end,
      function() r = y[1] end,
      function() r = #y end,
      function() r = y:clone() end,
      function() r = y:data() end,
      function() r = tensor.new({ 2, 3 }):copy(y) end,
      function() r = tensor.new({ 2, 3 }) + y end,
      function() r = y:resize(2, 2) end,
      function() y:fill(0) end,
    }) do
      local err = error_of(use)
      assert.matches('tensor used after :free%(%)', err)
      assert.matches('^spec/dl/tensor_spec.lua:%d+:', err)
    end
    local err = error_of(function() y:free() end)
    assert.matches("^spec/dl/tensor_spec.lua:%d+: bad argument #1 to 'free' %(tensor already freed%)", err)
    assert.equals('dl.tensor (freed)', tostring(y))
    assert.same({ 3, 4, 5 }, keep:totable()) -- a view keeps its storage
    -- A native function handed the freed header refuses it instead of reading freed memory.
    assert.equals(C.DL_E_STALE, C.dl_tensor_check(y, native.err))
    assert.equals(C.DL_E_STALE, C.dl_tensor_fill(y, 1, native.err))
    y, keep = nil, nil -- luacheck: ignore
    collectgarbage() -- the finalizer releases the header once
    collectgarbage()
  end)

  it('raises on every use of a tensor whose storage was recycled', function()
    local t = tensor.arange(6, 'f32'):view(2, 3)
    local row = t:select(1, 1)
    recycle(t)
    -- (no tail calls below: a tail call leaves no caller line for the error to point at)
    local r
    for _, use in ipairs({
      function() r = row:get(1) end,
      function() r = t:size() end,
      function() r = t:sum() end,
      function() r = t + 1 end,
      function() r = t[1] end,
      function() r = #t end,
      function() r = t:clone() end,
      function() r = tensor.new({ 2, 3 }):copy(t) end,
      function() r = row:data() end,
      function() r = t:max(1) end,
      function() t:fill(0) end,
    }) do
      local err = error_of(use)
      assert.matches('tensor used after its batch was recycled', err)
      assert.matches('^spec/dl/tensor_spec.lua:%d+:', err)
    end
    assert.matches('recycled', tostring(t))
  end)

  it('lets other modules add methods', function()
    tensor.methods.twice = function(t) return t * 2 end
    assert.same({ 2, 4 }, tensor.from_table({ 1, 2 }):twice():totable())
    tensor.methods.twice = nil
    assert.is_nil(tensor.from_table({ 1 }).twice)
  end)

  it('keeps RSS flat while a loop allocates far more than memory', function()
    -- 1e5 tensors of 1 MiB (100 GiB in total): without the GC pacing on native bytes, RSS
    -- passes the bound after about 1100. Each tensor gets one write per page, so every
    -- page of it is resident. The loop stops at the bound, so a failure cannot exhaust
    -- the machine.
    local page = 4096
    local function rss()
      local f = assert(io.open('/proc/self/statm'))
      local resident = f:read('*n') and f:read('*n')
      f:close()
      return resident * page
    end
    collectgarbage()
    local bound, peak = rss() + 1024 * 2 ^ 20, 0
    for i = 1, 1e5 do
      local t = tensor.empty({ 2 ^ 18 })
      local p = t:data()
      for k = 0, 2 ^ 18 - 1, page / 4 do p[k] = i end
      if i % 100 == 0 then
        peak = math.max(peak, rss())
        if peak > bound then break end
      end
    end
    assert.is_true(peak <= bound, string.format('peak RSS %.0f MiB over the bound %.0f MiB', peak / 2 ^ 20,
      bound / 2 ^ 20))
  end)
end)
