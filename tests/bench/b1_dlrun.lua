-- B1's dlrun column: the batching pipeline as an adapter sees it, through
-- dl.batch.pipeline and the FFI, run inside dlrun:
--
--   dlrun run tests/bench/b1_dlrun.lua LIST_FILE PASSES [THREADS]
--
-- Every file named in LIST_FILE becomes a 3×224×224 f32 row (bilinear,
-- ImageNet mean/std) of N×C×H×W batches of 32, on THREADS worker threads
-- (default: every online core). One untimed pass warms up and computes a
-- checksum (the mean of every output value); then one pipeline over the
-- corpus listed PASSES times, as a run over a dataset of that many items makes
-- one (so its start-up is amortised as in a real run). Prints one JSON line.
local ffi = require 'ffi'
local batch = require 'dl.batch'

if not pcall(ffi.typeof, 'struct timespec') then
  ffi.cdef [[ struct timespec { long tv_sec; long tv_nsec; }; ]]
end
pcall(ffi.cdef, [[ int clock_gettime(int clk_id, struct timespec *tp); ]])
local CLOCK_MONOTONIC = 1
local ts = ffi.new('struct timespec')
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local list, passes, threads = ...
passes = tonumber(passes)
threads = tonumber(threads)
if not list or not passes or passes < 1 then error('usage: b1_dlrun.lua LIST_FILE PASSES [THREADS]', 0) end

local paths = {}
for line in io.lines(list) do
  if line ~= '' then paths[#paths + 1] = line end
end
if #paths == 0 then error(list .. ': no files listed', 0) end

local function options(list)
  return {
    paths = list, size = { 224, 224 }, channels = 3,
    mean = { 0.485, 0.456, 0.406 }, std = { 0.229, 0.224, 0.225 },
    batch_size = 32, threads = threads,
  }
end

-- One pipeline over list; with check, also the sum of every value.
local function run(list, check)
  local pipe = batch.pipeline(options(list))
  local images, failed, sum, touched = 0, 0, 0, 0
  for b in pipe:batches() do
    for i = 1, b.n do
      if not b.ok[i] then
        failed = failed + 1
        io.stderr:write('b1_dlrun: ', tostring(b.errors[i]), '\n')
      end
    end
    images = images + b.n
    -- an adapter's predict would read b.tensor here; touch it so the batch is used
    local p = b.tensor:data()
    touched = touched + p[0]
    if check then
      for k = 0, b.n * 3 * 224 * 224 - 1 do sum = sum + p[k] end
    end
  end
  pipe:close()
  return images, failed, sum
end

local n, failed, sum = run(paths, true)
local repeated = {}
for _ = 1, passes do
  for i = 1, #paths do repeated[#repeated + 1] = paths[i] end
end
local t0 = now()
local images, bad = run(repeated, false)
local secs = now() - t0
failed = failed + bad
print(string.format('{"images": %d, "seconds": %.6f, "images_per_s": %.3f, "checksum": %.9g, "failed": %d}',
  images, secs, images / secs, sum / (n * 3 * 224 * 224), failed))
if failed > 0 then os.exit(1) end
