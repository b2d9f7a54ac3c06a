-- Fuzzes dl.safetensors' loader, which is Lua: mutations of a real file,
-- as bytes and as a header (a JSON value swapped, a key added or dropped,
-- the length field changed), each loaded in turn. Run inside an ASan build
-- of dlrun, so the native side (tensor.empty, the copy) is checked too:
--   dlrun run tests/fuzz/fuzz_safetensors.lua SEED_FILE OUT_DIR SECONDS [MAX_RUNS [RANDOM_SEED]]
-- Every load must give nil and a message, or tensors whose bytes can be
-- read, that save and load back to the same bytes; it must never raise.
-- A failing input is kept as OUT_DIR/safetensors-crash-RUN.safetensors; after
-- a crash of dlrun itself, the input is OUT_DIR/safetensors-input.safetensors.
local ffi = require 'ffi'
local cjson = require 'cjson'
local st = require 'dl.safetensors'
local tensor = require 'dl.tensor'

local seed_file, out_dir = assert(arg[1], 'SEED_FILE'), assert(arg[2], 'OUT_DIR')
local seconds, max_runs = tonumber(arg[3] or 60), tonumber(arg[4] or 1e9)
local random_seed = tonumber(arg[5] or os.time())
math.randomseed(random_seed)
local random, byte, char, sub, format = math.random, string.byte, string.char, string.sub, string.format

local function read(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('*a')
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, 'wb'))
  f:write(s)
  f:close()
end

local seed = read(seed_file)
local input_path = out_dir .. '/safetensors-input.safetensors'
local copy_path = out_dir .. '/safetensors-copy.safetensors'

-- ------------------------------------------------------------ mutations

local function u64_le(n)
  local t = {}
  for i = 1, 8 do
    t[i] = char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(t)
end

-- Values that sit on the loader's limits, and JSON fragments to splice in.
local NUMBERS = { 0, 1, -1, 3, 4, 7, 8, 255, 256, 2 ^ 31 - 1, 2 ^ 31, 2 ^ 32, 2 ^ 53, 2 ^ 53 + 2, 2 ^ 63, 2 ^ 64,
  1e308, -1e308, 0.5, -0.0, 100000000, 100000001 }
local TOKENS = { '{', '}', '[', ']', '"', ',', ':', '\\', '\\u0000', '\\ud800', '\\udfff', '\\uffff', '\xc3\xa9',
  '\xed\xa0\x80', '\xff', '\0', ' ', 'null', 'true', '1e999', '-0', '"__metadata__"', '"dtype"', '"shape"',
  '"data_offsets"', '"F32"', '"I64"', '"I32"', '"U8"', '"F16"', '"BF16"', '"BOOL"', '[0]', '[]', '{}' }

local function pick(list) return list[random(#list)] end

local function random_value(depth)
  local r = random(10)
  if r <= 4 then return pick(NUMBERS) end
  if r == 5 then return pick({ 'F32', 'I64', 'I32', 'U8', 'F64', '', 'f32', string.rep('x', random(300)) }) end
  if r == 6 then return cjson.null end
  if r == 7 then return random(2) == 1 end
  if depth > 2 or r == 8 then return {} end
  local t = {}
  for i = 1, random(0, 9) do t[i] = random_value(depth + 1) end
  if r == 9 then return { dtype = 'U8', shape = t, data_offsets = { random_value(depth + 1), random_value(depth + 1) } } end
  return t
end

-- Splits a file into its header table (nil when it does not decode) and data.
local function split(s)
  if #s < 8 then return nil end
  local n = 0
  for i = 8, 1, -1 do n = n * 256 + byte(s, i) end
  if n > #s - 8 then return nil end
  local ok, header = pcall(cjson.decode, sub(s, 9, 8 + n))
  if not ok or type(header) ~= 'table' then return nil end
  return header, sub(s, 9 + n)
end

local function join(header, data)
  local ok, text = pcall(cjson.encode, header)
  if not ok then return nil end
  if random(2) == 1 then text = text .. string.rep(' ', (8 - #text % 8) % 8) end
  return u64_le(#text) .. text .. data
end

-- One change to the header as JSON: a value anywhere swapped, a key added or dropped.
local function mutate_header(s)
  local header, data = split(s)
  if not header then return nil end
  local tables = { header }
  local function collect(t, depth)
    for _, v in pairs(t) do
      if type(v) == 'table' and depth < 4 then
        tables[#tables + 1] = v
        collect(v, depth + 1)
      end
    end
  end
  collect(header, 0)
  local t = pick(tables)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  local r = random(6)
  if r <= 3 and #keys > 0 then
    t[pick(keys)] = random_value(0)
  elseif r == 4 and #keys > 0 then
    t[pick(keys)] = nil
  elseif r == 5 then
    t[pick({ 'dtype', 'shape', 'data_offsets', '__metadata__', 'x', 'w' .. random(9) })] = random_value(0)
  else
    -- data resized to match or miss the offsets
    local cut = random(0, #data)
    data = random(2) == 1 and sub(data, 1, cut) or data .. string.rep('\0', random(0, 64))
  end
  return join(header, data)
end

-- One change to the bytes.
local function mutate_bytes(s)
  local n = #s
  local r = random(8)
  local at = random(n + 1)
  if r == 1 and n > 0 then -- flip a bit
    at = math.min(at, n)
    return sub(s, 1, at - 1) .. char(bit.bxor(byte(s, at), bit.lshift(1, random(0, 7)))) .. sub(s, at + 1)
  elseif r == 2 and n > 0 then -- a random byte
    at = math.min(at, n)
    return sub(s, 1, at - 1) .. char(random(0, 255)) .. sub(s, at + 1)
  elseif r == 3 then -- a token spliced in
    return sub(s, 1, at - 1) .. pick(TOKENS) .. sub(s, at)
  elseif r == 4 then -- a range dropped
    return sub(s, 1, at - 1) .. sub(s, at + random(0, 16))
  elseif r == 5 then -- cut short
    return sub(s, 1, at - 1)
  elseif r == 6 then -- the header length replaced
    local n8 = pick({ pick(NUMBERS), n - 8, n - 7, n, random(0, n), 2 ^ 53 })
    if n8 < 0 or n8 >= 2 ^ 64 then n8 = 0 end
    return u64_le(n8) .. sub(s, 9)
  elseif r == 7 then -- a chunk repeated
    local len = random(0, 32)
    return sub(s, 1, at - 1) .. sub(s, at, at + len) .. sub(s, at)
  end
  return s .. string.rep(char(random(0, 255)), random(1, 16)) -- bytes appended
end

local function mutate(s)
  for _ = 1, random(1, 3) do
    s = (random(2) == 1 and mutate_header(s)) or mutate_bytes(s)
  end
  return s
end

-- ------------------------------------------------------------ checks

local ELEMENT_SIZE = { f32 = 4, i64 = 8, i32 = 4, u8 = 1 }

local function check(cond, fmt, ...)
  if not cond then error(format(fmt, ...), 0) end
end

-- A loaded file: real tensors whose every byte can be read, string metadata,
-- and a save and load that give back the same bytes.
local function check_loaded(tensors, metadata)
  check(type(tensors) == 'table' and type(metadata) == 'table', 'load returned %s, %s', type(tensors),
    type(metadata))
  local bytes = {}
  for name, t in pairs(tensors) do
    check(type(name) == 'string' and tensor.is_tensor(t), 'entry %s is not a tensor', tostring(name))
    local n = 1
    for _, d in ipairs(t:size()) do n = n * d end
    check(n == t:nelement(), 'tensor %q: shape and element count differ', name)
    local nbytes = n * ELEMENT_SIZE[t:type()]
    bytes[name] = nbytes > 0 and ffi.string(t.ptr, nbytes) or ''
  end
  for k, v in pairs(metadata) do
    check(type(k) == 'string' and type(v) == 'string', 'metadata %s = %s', tostring(k), tostring(v))
  end
  local ok, err = st.save(copy_path, tensors, metadata)
  check(ok, 'a loaded file does not save: %s', tostring(err))
  local again = st.load(copy_path)
  check(again, 'a saved file does not load')
  for name, b in pairs(bytes) do
    local t = again[name]
    check(t and (#b == 0 or ffi.string(t.ptr, #b) == b), 'tensor %q changed on a save and load', name)
  end
end

local function run_one(s)
  write(input_path, s)
  local ok, tensors, metadata = pcall(st.load, input_path)
  check(ok, 'load raised %s: %s', type(tensors), tostring(tensors))
  if tensors == nil then
    check(type(metadata) == 'string' and metadata:find('dl.safetensors: ', 1, true) == 1,
      'refused without a message: %s', tostring(metadata))
    return false
  end
  check_loaded(tensors, metadata)
  return true
end

-- ------------------------------------------------------------ the loop

local corpus = { seed }
local start = os.time()
local runs, loaded = 0, 0
while runs < max_runs and os.time() - start < seconds do
  local s = mutate(pick(corpus))
  runs = runs + 1
  local ok, result = pcall(run_one, s)
  if not ok then
    local failed_input = format('%s/safetensors-crash-%d.safetensors', out_dir, runs)
    write(failed_input, s)
    error(format('fuzz_safetensors: run %d (random seed %d): %s; input kept as %s', runs, random_seed,
      tostring(result), failed_input), 0)
  end
  if result then
    loaded = loaded + 1
    -- files that still load are the best parents: they reach past the checks
    if #corpus < 256 then corpus[#corpus + 1] = s else corpus[random(#corpus)] = s end
  end
  if runs % 1000 == 0 then collectgarbage() end
end
local elapsed = math.max(os.time() - start, 1)
print(format('fuzz: fuzz_safetensors ok: %ds, %d runs, %.0f exec/s (%d loaded, %d refused; random seed %d)',
  elapsed, runs, runs / elapsed, loaded, runs - loaded, random_seed))
os.remove(input_path)
os.remove(copy_path)
