-- Specs for lua/dl/safetensors.lua against tests/data/safetensors/reference.safetensors,
-- which tests/data/safetensors/make_reference.py writes from numpy arrays without dlrun;
-- the same script checks files that dlrun writes.
local st = require 'dl.safetensors'
local nn = require 'dl.nn'
local tensor = require 'dl.tensor'

local ROOT = debug.getinfo(1, 'S').source:match('^@(.-)spec/dl/safetensors_spec%.lua$') or ''
local DATA = ROOT .. 'tests/data/safetensors/'
local REFERENCE = DATA .. 'reference.safetensors'

local function read(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('*a')
  f:close()
  return s
end

local function write(path, bytes)
  local f = assert(io.open(path, 'wb'))
  f:write(bytes)
  f:close()
end

local function u64(n)
  local b = {}
  for i = 1, 8 do
    b[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(b)
end

-- A file with this header text (padded) and data bytes.
local function crafted(header, data)
  header = header .. (' '):rep((8 - #header % 8) % 8)
  return u64(#header) .. header .. (data or '')
end

-- Runs make_reference.py check on path; returns the exit status and the script's output.
local function python_check(path)
  local out = os.tmpname()
  local status = os.execute(string.format("/usr/bin/python3 '%smake_reference.py' check '%s' > '%s' 2>&1", DATA,
    path, out))
  local text = read(out)
  os.remove(out)
  return status == 0 or status == true, text
end

describe('dl.safetensors', function()
  local tmp
  before_each(function() tmp = os.tmpname() end)
  after_each(function() os.remove(tmp) end)

  it('reads the reference file: dtypes, shapes, values and metadata', function()
    local t, md = assert(st.load(REFERENCE))
    local names = {}
    for k, v in pairs(t) do names[#names + 1] = k .. ':' .. v:type() .. ':' .. table.concat(v:size(), 'x') end
    table.sort(names)
    assert.same({ 'caf\u{e9} "q":u8:2', 'conv/0.weight:f32:2x3x2x2', 'counts:i32:2x2', 'empty:f32:0x3',
      'labels:i64:4', 'linear.bias:f32:2', 'linear.weight:f32:2x3', 'mask:u8:1x3', 'scale:f32:' }, names)
    -- the values make_reference.py wrote
    local w = t['linear.weight']
    assert.equals(-1.25, w:get(1, 2))
    assert.equals(65504, w:get(2, 3))
    assert.is_true(math.abs(w:get(2, 1) - 1e-3) < 1e-10)
    assert.equals(-math.huge, 1 / w:get(2, 2)) -- -0.0 keeps its sign
    assert.same({ 0.25, -0.75 }, t['linear.bias']:totable())
    assert.equals(23 / 8, t['conv/0.weight']:get(2, 3, 2, 2))
    assert.same({ 0, 9, -1, 2 ^ 40 + 3 }, t.labels:totable())
    assert.same({ { -7, 2147483647 }, { -2147483648, 0 } }, t.counts:totable())
    assert.same({ { 0, 255, 1 } }, t.mask:totable())
    assert.equals(2.5, t.scale:get())
    assert.same({ format = 'pt', source = 'make_reference.py' }, md)
  end)

  it('writes the reference file byte for byte from the same tensors', function()
    local t, md = assert(st.load(REFERENCE))
    assert.is_true(st.save(tmp, t, md))
    assert.equals(read(REFERENCE), read(tmp))
    assert.is_nil(io.open(tmp .. '.tmp', 'rb')) -- the temporary file was renamed
  end)

  it('writes files that the independent numpy writer reproduces exactly', function()
    nn.manual_seed(4)
    local model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 3 * 3, 10))
    local tensors = model:state_dict()
    tensors['labels/train'] = tensor.from_table({ 3, 1, 4 }, 'i64')
    tensors.mask = tensor.from_table({ 1, 0 }, 'u8')
    tensors['step\n"count"'] = tensor.from_table({ 12 }, 'i32')
    assert.is_true(st.save(tmp, tensors, { epochs = '5', ['z/key'] = 'caf\u{e9}', a = '' }))
    local ok, out = python_check(tmp)
    assert.is_true(ok, out)
  end)

  it('round-trips an nn state dict into a fresh model', function()
    nn.manual_seed(5)
    local a = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert.is_true(st.save(tmp, a:state_dict()))
    nn.manual_seed(6)
    local b = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    local x = tensor.from_table({ { 1, -2, 0.5, 3 } })
    assert.are_not.equal(a:forward(x):get(1, 2), b:forward(x):get(1, 2))
    local loaded, md = assert(st.load(tmp))
    assert.same({}, md)
    assert.is_true(b:load_state_dict(loaded))
    assert.same(a:forward(x):totable(), b:forward(x):totable())
  end)

  describe('refuses malformed files with a message', function()
    local good_header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    local cases = {
      { 'a file shorter than the length field', 'abc', 'truncated: 3 bytes' },
      { 'a header length beyond the file', u64(4096) .. '{}      ',
        'header length 4096 is larger than the file (16 bytes)' },
      { 'a huge header length', u64(2 ^ 60) .. '{}      ', 'is over the 100000000-byte limit' },
      { 'truncated tensor data', crafted(good_header, ('\0'):rep(5)),
        'tensor "a": data_offsets [0, 8) run past the end of the data (5 bytes)' },
      { 'overlapping offsets', crafted('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
        .. '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', ('\0'):rep(12)), 'tensors "a" and "b" overlap' },
      { 'a gap between tensors', crafted('{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', ('\0'):rep(4)),
        'tensor "a" starts at byte 2, leaving a gap after byte 0' },
      { 'data left over', crafted(good_header, ('\0'):rep(12)), '4 bytes of data follow the last tensor' },
      { 'offsets that do not match the shape', crafted('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}',
        ('\0'):rep(8)), 'hold 8 bytes, but F32 3 needs 12' },
      { 'offsets that end before they begin', crafted('{"a":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}',
        ('\0'):rep(8)), 'end before they begin' },
      { 'an unknown dtype', crafted('{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,2]}}', '\0\0'),
        'tensor "a" has dtype "Q7", which dl cannot hold (F32, I64, I32, U8)' },
      { 'a dtype dl does not hold', crafted('{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', '\0\0'),
        'dtype "F16"' },
      { 'a negative size', crafted('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'),
        'shape[1] = -1 is not a size' },
      { 'a header that is not JSON', crafted('{"a":'), 'header is not valid JSON' },
      { 'a header that is not an object', crafted('[1,2]'), 'header is not a JSON object' },
      { 'non-string metadata', crafted('{"__metadata__":{"epochs":5}}'), '__metadata__["epochs"] is not a string' },
      -- found by fuzzing: the number key raised instead of returning the error
      { 'metadata that is a list', crafted('{"__metadata__":[null,"x"]}'), '__metadata__ is not an object' },
      -- no elements, but strides that overflowed in tensor.empty
      { 'sizes too large beside a 0', crafted('{"a":{"dtype":"U8","shape":[0,9007199254740992,9007199254740992],"data_offsets":[0,0]}}'),
        'tensor "a": shape is too large' },
      { 'too many dims', crafted('{"a":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}}', '\0'),
        'has 9 dims' },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        write(tmp, c[2])
        local t, err = st.load(tmp)
        assert.is_nil(t)
        assert.matches(c[3], err, 1, true)
        assert.matches(tmp, err, 1, true) -- names the file
      end)
    end

    it('and truncated copies of the reference file', function()
      local bytes = read(REFERENCE)
      -- every length through the length field and the start of the header, then a stride
      local len = 0
      while len < #bytes do
        write(tmp, bytes:sub(1, len))
        local t, err = st.load(tmp)
        assert(t == nil and type(err) == 'string', 'accepted a file cut to ' .. len .. ' bytes')
        len = len + (len < 40 and 1 or 7)
      end
    end)
  end)

  it('reports files it cannot open or write', function()
    local t, err = st.load(tmp .. '-missing')
    assert.is_nil(t)
    assert.matches('cannot read', err, 1, true)
    local ok, werr = st.save('/nonexistent-dir/x.safetensors', { a = tensor.new({ 1 }) })
    assert.is_nil(ok)
    assert.matches('cannot write', werr, 1, true)
  end)

  it('raises on misuse', function()
    assert.has_error(function() st.save(1, {}) end)
    assert.has_error(function() st.save(tmp, { [1] = tensor.new({ 1 }) }) end,
      "bad argument to 'save' (tensor names must be strings, got a number key)")
    assert.has_error(function() st.save(tmp, { a = 3 }) end,
      "bad argument to 'save' (tensors[\"a\"] must be a dl.tensor, got number)")
    assert.has_error(function() st.save(tmp, { __metadata__ = tensor.new({ 1 }) }) end)
    assert.has_error(function() st.save(tmp, {}, { n = 5 }) end)
    assert.has_error(function() st.save(tmp, { ['\255'] = tensor.new({ 1 }) }) end)
    assert.has_error(function() st.load(nil) end)
  end)
end)
