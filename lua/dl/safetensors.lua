--- dl.safetensors: the safetensors checkpoint format (huggingface/safetensors), so weights
--- move between dlrun and PyTorch (safetensors.torch.load_file / save_file).
---
---     local st = require 'dl.safetensors'
---     assert(st.save('model.safetensors', model:state_dict(), { epochs = '5' }))
---     local tensors, metadata = assert(st.load('model.safetensors'))
---     model:load_state_dict(tensors)
---
--- Layout, as the reference implementation writes it: an 8-byte little-endian header length
--- N; N bytes of compact JSON ("__metadata__" first, then one {"dtype", "shape",
--- "data_offsets"} entry per tensor, in data order), padded with spaces to a multiple of 8;
--- then the tensors' bytes back to back, ordered by descending dtype alignment and then by
--- name. Files dlrun writes are byte-identical to the reference's for the same tensors
--- (the reference keeps __metadata__ keys in hash order; dlrun sorts them). dl tensors hold
--- F32, I64, I32 and U8; files with other dtypes are refused.
local ffi = require 'ffi'
local cjson = require 'cjson'
local tensor = require 'dl.tensor'

local error, type, pairs, ipairs, pcall, tostring, next = error, type, pairs, ipairs, pcall, tostring, next
local floor, huge, max = math.floor, math.huge, math.max
local format, byte, char, concat, sort = string.format, string.byte, string.char, table.concat, table.sort
local open, rename, remove = io.open, os.rename, os.remove
local is_tensor = tensor.is_tensor

---@class dl.safetensors
local M = {}

-- File dtype -> dl dtype, and back.
local DL_DTYPE = { F32 = 'f32', I64 = 'i64', I32 = 'i32', U8 = 'u8' }
local FILE_DTYPE = { f32 = 'F32', i64 = 'I64', i32 = 'I32', u8 = 'U8' }
local ELEMENT_SIZE = { F32 = 4, I64 = 8, I32 = 4, U8 = 1 }
-- The reference orders data by dtype alignment, largest first; among these four, as ranked
-- in its Dtype enum: U8 < I32 < F32 < I64.
local ALIGN_RANK = { U8 = 1, I32 = 2, F32 = 3, I64 = 4 }
-- The reference refuses larger headers.
local MAX_HEADER_BYTES = 100000000
-- Sizes and offsets beyond this are not exact in a Lua number.
local MAX_EXACT = 2 ^ 53

-- --------------------------------------------------------------- writing

-- JSON string escapes as the reference's serializer (serde_json) writes them: '"', '\' and
-- control characters; '/', DEL and non-ASCII stay as they are.
local ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n',
  ['\r'] = '\\r', ['\t'] = '\\t' }
local function json_string(s)
  return '"' .. s:gsub('[%z\1-\31"\\]', function(c) return ESCAPES[c] or format('\\u%04x', byte(c)) end) .. '"'
end

-- True when s is well-formed UTF-8 (the reference rejects headers that are not).
local function is_utf8(s)
  local i, n = 1, #s
  while i <= n do
    local c = byte(s, i)
    local extra, min
    if c < 0x80 then
      extra = 0
    elseif c >= 0xC2 and c <= 0xDF then
      extra, min = 1, 0x80
    elseif c >= 0xE0 and c <= 0xEF then
      extra, min = 2, 0x800
    elseif c >= 0xF0 and c <= 0xF4 then
      extra, min = 3, 0x10000
    else
      return false
    end
    if extra > 0 then
      local cp = c % (2 ^ (6 - extra))
      for k = 1, extra do
        local b = byte(s, i + k)
        if not b or b < 0x80 or b > 0xBF then return false end
        cp = cp * 64 + b % 64
      end
      if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return false end
    end
    i = i + 1 + extra
  end
  return true
end

local function u64_le(n)
  local bytes = {}
  for i = 1, 8 do
    bytes[i] = char(n % 256)
    n = floor(n / 256)
  end
  return concat(bytes)
end

-- Misuse of save: raises at save's caller.
local function bad(fmt, ...) error(format("bad argument to 'save' (" .. fmt .. ')', ...), 3) end

-- The entries to write, each { name, dtype, shape, tensor, nbytes }, in the reference's
-- data order.
local function entries_of(tensors)
  local list = {}
  for name, t in pairs(tensors) do
    if type(name) ~= 'string' then bad('tensor names must be strings, got a %s key', type(name)) end
    if name == '__metadata__' then bad("'__metadata__' is reserved for the metadata map") end
    if not is_utf8(name) then bad('tensor name %q is not valid UTF-8', name) end
    if not is_tensor(t) then bad('tensors[%q] must be a dl.tensor, got %s', name, type(t)) end
    local dtype = FILE_DTYPE[t:type()]
    t = t:contiguous()
    list[#list + 1] = { name = name, dtype = dtype, shape = t:size(), tensor = t,
      nbytes = t:nelement() * ELEMENT_SIZE[dtype] }
  end
  sort(list, function(a, b)
    if a.dtype ~= b.dtype then return ALIGN_RANK[a.dtype] > ALIGN_RANK[b.dtype] end
    return a.name < b.name -- LuaJIT compares strings byte by byte, as the reference does
  end)
  return list
end

local function metadata_json(metadata)
  local keys = {}
  for k, v in pairs(metadata) do
    if type(k) ~= 'string' or type(v) ~= 'string' then
      bad('metadata must map strings to strings, got %s = %s', tostring(k), type(v))
    end
    if not is_utf8(k) or not is_utf8(v) then bad('metadata entry %q is not valid UTF-8', k) end
    keys[#keys + 1] = k
  end
  sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = json_string(k) .. ':' .. json_string(metadata[k]) end
  return '{' .. concat(parts, ',') .. '}'
end

-- The padded JSON header for entries (which get their offsets here).
local function header_of(list, metadata)
  local parts, offset = {}, 0
  if metadata then parts[1] = '"__metadata__":' .. metadata_json(metadata) end
  for _, e in ipairs(list) do
    local dims = {}
    for i, d in ipairs(e.shape) do dims[i] = format('%d', d) end
    parts[#parts + 1] = format('%s:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}', json_string(e.name),
      e.dtype, concat(dims, ','), offset, offset + e.nbytes)
    offset = offset + e.nbytes
  end
  local text = '{' .. concat(parts, ',') .. '}'
  return text .. (' '):rep((8 - #text % 8) % 8)
end

--- Writes tensors to path atomically (a temporary file in the same folder, then a rename).
--- Names must be strings (state dict names such as '0.weight' map onto PyTorch modules).
---@param path string
---@param tensors table<string, dl.Tensor>
---@param metadata? table<string, string> stored as the file's "__metadata__"
---@return true|nil ok
---@return string? err when the file cannot be written
function M.save(path, tensors, metadata)
  if type(path) ~= 'string' then
    error(format("bad argument #1 to 'save' (path string expected, got %s)", type(path)), 2)
  end
  if type(tensors) ~= 'table' then
    error(format("bad argument #2 to 'save' (table of tensors expected, got %s)", type(tensors)), 2)
  end
  if metadata ~= nil and type(metadata) ~= 'table' then
    error(format("bad argument #3 to 'save' (table of strings expected, got %s)", type(metadata)), 2)
  end
  local list = entries_of(tensors)
  local header = header_of(list, metadata)

  local tmp = path .. '.tmp'
  local f, err = open(tmp, 'wb')
  if not f then return nil, 'dl.safetensors: cannot write ' .. err end
  local ok, werr = f:write(u64_le(#header), header)
  for _, e in ipairs(list) do
    if not ok then break end
    if e.nbytes > 0 then ok, werr = f:write(ffi.string(e.tensor.ptr, e.nbytes)) end
  end
  local closed, cerr = f:close()
  if ok and not closed then ok, werr = nil, cerr end
  if ok then ok, werr = rename(tmp, path) end
  if not ok then
    remove(tmp)
    return nil, format('dl.safetensors: cannot write %s: %s', path, tostring(werr))
  end
  return true
end

-- --------------------------------------------------------------- reading

local function whole(v) return type(v) == 'number' and v >= 0 and v <= MAX_EXACT and v == floor(v) end

local function is_array(v)
  if type(v) ~= 'table' then return false end
  local n = #v
  for k in pairs(v) do
    if type(k) ~= 'number' or k < 1 or k > n or k ~= floor(k) then return false end
  end
  return true
end

-- Checks one header entry; returns { name, dtype, shape, begin, stop } or nil, problem.
local function parse_entry(name, info)
  local what = format('tensor %s', json_string(name))
  if type(info) ~= 'table' then return nil, what .. ' is not an object' end
  local dtype = info.dtype
  if type(dtype) ~= 'string' then return nil, what .. ' has no dtype' end
  if not DL_DTYPE[dtype] then
    return nil, format('%s has dtype %s, which dl cannot hold (F32, I64, I32, U8)', what, json_string(dtype))
  end
  local shape = info.shape
  if not is_array(shape) then return nil, what .. ' has no shape array' end
  if #shape > 8 then return nil, format('%s has %d dims; dl tensors have at most 8', what, #shape) end
  -- span: the sizes with 0 taken as 1, as strides multiply them (a 0 size
  -- leaves no elements, but {0, 2^53, 2^53} still has no strides)
  local count, span = 1, 1
  for i, d in ipairs(shape) do
    if not whole(d) then return nil, format('%s: shape[%d] = %s is not a size', what, i, tostring(d)) end
    count, span = count * d, span * max(d, 1)
    if span > MAX_EXACT then return nil, what .. ': shape is too large' end
  end
  local offsets = info.data_offsets
  if not is_array(offsets) or #offsets ~= 2 or not whole(offsets[1]) or not whole(offsets[2]) then
    return nil, what .. ' has no data_offsets [begin, end]'
  end
  local begin, stop = offsets[1], offsets[2]
  if stop < begin then
    return nil, format('%s: data_offsets [%d, %d) end before they begin', what, begin, stop)
  end
  if stop - begin ~= count * ELEMENT_SIZE[dtype] then
    return nil, format('%s: data_offsets [%d, %d) hold %d bytes, but %s %s needs %d', what, begin, stop,
      stop - begin, dtype, concat(shape, 'x'), count * ELEMENT_SIZE[dtype])
  end
  return { name = name, dtype = dtype, shape = shape, begin = begin, stop = stop }
end

-- Reads the header at the current position of f (a file of `size` bytes); returns the
-- entries in data order and the metadata, or nil, problem.
local function read_header(f, size)
  if size < 8 then return nil, format('truncated: %d bytes, too short for the 8-byte header length', size) end
  local head = f:read(8)
  local n = 0
  for i = 8, 1, -1 do n = n * 256 + byte(head, i) end
  if n > MAX_HEADER_BYTES then
    return nil, format('header length %.0f is over the %d-byte limit', n, MAX_HEADER_BYTES)
  end
  if 8 + n > size then return nil, format('header length %d is larger than the file (%d bytes)', n, size) end
  local text = f:read(n) or ''
  if byte(text, 1) ~= byte('{') then return nil, 'header is not a JSON object' end
  if not is_utf8(text) then return nil, 'header is not valid UTF-8' end
  local ok, header = pcall(cjson.decode, text)
  if not ok or type(header) ~= 'table' then return nil, 'header is not valid JSON: ' .. tostring(header) end

  local metadata = header.__metadata__
  header.__metadata__ = nil
  if metadata ~= nil then
    if type(metadata) ~= 'table' then return nil, '__metadata__ is not an object' end
    for k, v in pairs(metadata) do
      if type(k) ~= 'string' then return nil, '__metadata__ is not an object' end -- a JSON list
      if type(v) ~= 'string' then return nil, format('__metadata__[%s] is not a string', json_string(k)) end
    end
  end
  local list = {}
  for name, info in pairs(header) do
    local e, problem = parse_entry(name, info)
    if not e then return nil, problem end
    list[#list + 1] = e
  end
  sort(list, function(a, b)
    if a.begin ~= b.begin then return a.begin < b.begin end
    return a.stop < b.stop
  end)
  -- The tensors must tile the data exactly, as the reference requires: no gaps, no
  -- overlaps, nothing past the end and nothing left over.
  local data_bytes, at = size - 8 - n, 0
  for i, e in ipairs(list) do
    if e.stop > data_bytes then
      return nil, format('tensor %s: data_offsets [%d, %d) run past the end of the data (%d bytes)',
        json_string(e.name), e.begin, e.stop, data_bytes)
    end
    if e.begin < at then
      return nil, format('tensors %s and %s overlap', json_string(list[i - 1].name), json_string(e.name))
    end
    if e.begin > at then
      return nil, format('tensor %s starts at byte %d, leaving a gap after byte %d', json_string(e.name), e.begin,
        at)
    end
    at = e.stop
  end
  if at ~= data_bytes then
    return nil, format('%d bytes of data follow the last tensor', data_bytes - at)
  end
  return list, metadata or {}
end

--- Reads every tensor of a safetensors file. Malformed files (truncated, a header length
--- beyond the file, offsets that overlap, leave gaps or run past the end, unknown dtypes)
--- give nil and a message naming the problem.
---@param path string
---@return table<string, dl.Tensor>|nil tensors by name
---@return table<string, string>|string metadata (empty when the file has none), or the error
function M.load(path)
  if type(path) ~= 'string' then
    error(format("bad argument #1 to 'load' (path string expected, got %s)", type(path)), 2)
  end
  local f, err = open(path, 'rb')
  if not f then return nil, 'dl.safetensors: cannot read ' .. err end
  local size = f:seek('end')
  f:seek('set', 0)
  local list, metadata = read_header(f, size)
  if not list then
    f:close()
    return nil, format('dl.safetensors: %s: %s', path, metadata)
  end
  local tensors = {}
  for _, e in ipairs(list) do
    local t = tensor.empty(e.shape, DL_DTYPE[e.dtype])
    local nbytes = e.stop - e.begin
    if nbytes > 0 then
      local bytes = f:read(nbytes)
      if not bytes or #bytes ~= nbytes then
        f:close()
        return nil, format('dl.safetensors: %s: tensor %s is cut short', path, json_string(e.name))
      end
      ffi.copy(t.ptr, bytes, nbytes)
    end
    tensors[e.name] = t
  end
  f:close()
  return tensors, metadata
end

return M
