-- B3's dlrun worker: the network of an example adapter, trained one epoch per command,
-- the data already in memory (dl.data decodes the subset once, before any timing).
--
--   dlrun run tests/bench/b3_dlrun.lua mlp|cnn DATA_DIR
--
-- DATA_DIR holds train/ and test/ subset folders (items/ + json/). Commands on stdin, one
-- JSON line out for each:
--   epoch  one epoch over train in shuffled batches of 64 (forward, cross-entropy,
--          backward, Adam 1e-3 step) -> {"seconds", "loss"}
--   test   accuracy on test, in eval mode -> {"accuracy"}
--   quit
local ffi = require 'ffi'
local dl = require 'dl'

if not pcall(ffi.typeof, 'struct timespec') then
  ffi.cdef [[ struct timespec { long tv_sec; long tv_nsec; }; ]]
end
pcall(ffi.cdef, [[ int clock_gettime(int clk_id, struct timespec *tp); ]])
local ts = ffi.new('struct timespec')
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local which, data = ...
local ADAPTERS = { mlp = 'adapters_lua/fashion_mlp.lua', cnn = 'adapters_lua/fashion_cnn.lua' }
if not ADAPTERS[which] or not data then error('usage: b3_dlrun.lua mlp|cnn DATA_DIR', 0) end

package.path = 'adapters_lua/?.lua;' .. package.path
local A = dofile(ADAPTERS[which])
require('dl.host').configure(A, nil, {})
local empty = os.tmpname()
A:load(empty) -- no weights file there: the seeded initialisation
os.remove(empty)

local nn = dl.nn
local net = A.net
local BATCH = 64
local function loader(dir, shuffle)
  return assert(dl.data.loader(dir, { input = A.input, batch_size = BATCH, shuffle = shuffle,
    label_to_id = A.label_to_id_map }))
end
local train, test = loader(data .. '/train', true), loader(data .. '/test', false)
local opt = dl.optim.Adam { params = net:parameters(), lr = 1e-3 }

local function correct(logits, y)
  local pred, yp, n = logits:argmax(2):data(), y:data(), 0
  for i = 0, y:nelement() - 1 do
    if pred[i] == yp[i] then n = n + 1 end
  end
  return n
end

local function epoch()
  net:train()
  local t0 = now()
  local loss_sum = 0
  for b in train:batches() do
    opt:zero_grad()
    local logits = net:forward(b.x)
    local loss, grad = nn.cross_entropy(logits, b.y)
    net:backward(b.x, grad, false)
    opt:step()
    loss_sum = loss_sum + loss * b.n
  end
  return string.format('{"seconds": %.4f, "loss": %.5f}', now() - t0, loss_sum / train.n)
end

local function accuracy()
  net:eval()
  local right = 0
  for b in test:batches() do right = right + correct(net:forward(b.x), b.y) end
  return string.format('{"accuracy": %.5f}', right / test.n)
end

io.stdout:setvbuf('line')
print(string.format('{"ready": true, "train": %d, "test": %d}', train.n, test.n))
for line in io.stdin:lines() do
  if line == 'epoch' then
    print(epoch())
  elseif line == 'test' then
    print(accuracy())
  elseif line == 'quit' then
    break
  else
    error('b3_dlrun: unknown command ' .. line, 0)
  end
end
