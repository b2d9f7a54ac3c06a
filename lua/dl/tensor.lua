--- dl.tensor: n-dimensional arrays (u8, i32, i64, f32; up to 8 dims) over native storage.
---
---     local tensor = require 'dl.tensor'
---     local x = tensor.from_table({{1, 2, 3}, {4, 5, 6}})   -- f32 2x3
---     print(x:size(2), x:get(2, 3))                         --> 3  6
---     local y = (x * 2 + 1):softmax(2)                      -- rows sum to 1
---     local v, i = y:max(2)                                 -- values and 1-based indices
---
--- Indices and dims are 1-BASED, as in Torch7 (the C API underneath is 0-based). A negative
--- dim counts from the end: -1 is the last dim.
---
--- A tensor is a `dl_tensor &` cdata, a reference to the native header: pass it straight to
--- native functions taking `dl_tensor *`, and test for one with tensor.is_tensor(x). (A pointer
--- cdata would not do: LuaJIT reads t[i], t + 1 and t - u on pointers as C pointer arithmetic,
--- before any metamethod.)
---
--- Views (narrow, select, view, permute, transpose, expand, ...) share storage with their
--- source and keep it alive; ops that make new data return a new contiguous tensor. Binary ops
--- broadcast numpy-style and need both operands of one dtype (convert with :to()).
---
--- The struct's own fields (t.ptr, t.shape, t.strides, t.ndim, t.dtype, t.numel) are the raw,
--- 0-based C fields, and LuaJIT resolves them before any method. So, as in Torch7, the methods
--- are size() (the shape as a table), dim(), nelement(), type() (the dtype name) and data()
--- (the typed raw pointer).
---
--- Other modules extend tensors by adding functions to `tensor.methods`; every tensor then
--- has them as methods (dl.image adds resize, to_tensor, save_png, ...).
---
--- Native memory is invisible to Lua's GC, so each new tensor counts native bytes and runs a
--- full collection once they pass a threshold (as Torch's TH does): loops that allocate stay
--- flat in memory. t:free() releases a tensor's storage at once; any later use of t raises an
--- error.
local ffi = require 'ffi'
local native = require 'dl.native'

local C, err = native.C, native.err
local assert_rc = native.assert
local error, type, tonumber, tostring, select, ipairs, pairs = error, type, tonumber, tostring, select, ipairs, pairs
local floor, ceil, max, huge = math.floor, math.ceil, math.max, math.huge
local concat, rep = table.concat, string.rep
local format = string.format
local istype, cast, gc = ffi.istype, ffi.cast, ffi.gc

---@class dl.tensor
---@field methods table the methods every tensor has; modules may add to it
local M = {}

-- busted re-runs this file in the same lua_State, but ffi.metatype may run only once per
-- ctype: the metatable and the tables it reads live in the registry and are reused.
local reg = debug.getregistry()
-- The methods of every tensor: those defined below on `methods`, those made in loops
-- (arithmetic, reductions) and those dl.image adds, declared here for editors.
---@class dl.Tensor
---@field add fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a + b, broadcast, into a new tensor
---@field sub fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a - b
---@field mul fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a * b (elementwise)
---@field div fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a / b
---@field add_ fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a += b in place; returns a
---@field sub_ fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a -= b in place; returns a
---@field mul_ fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a *= b in place; returns a
---@field div_ fun(self: dl.Tensor, b: dl.Tensor|number): dl.Tensor a /= b in place; returns a
---@field sum fun(self: dl.Tensor, dim?: integer, keepdim?: boolean): number|dl.Tensor
---@field mean fun(self: dl.Tensor, dim?: integer, keepdim?: boolean): number|dl.Tensor
---@field argmax fun(self: dl.Tensor, dim?: integer, keepdim?: boolean): integer|dl.Tensor 1-based
---@field argmin fun(self: dl.Tensor, dim?: integer, keepdim?: boolean): integer|dl.Tensor 1-based
---@field max fun(self: dl.Tensor, dim?: integer, keepdim?: boolean): number|dl.Tensor, dl.Tensor?
---@field min fun(self: dl.Tensor, dim?: integer, keepdim?: boolean): number|dl.Tensor, dl.Tensor?
---@field softmax fun(self: dl.Tensor, dim?: integer): dl.Tensor f32, along dim (default: the last)
---@field log_softmax fun(self: dl.Tensor, dim?: integer): dl.Tensor
---@field resize fun(self: dl.Tensor, width: integer, height: integer, mode?: 'bilinear'|'box'): dl.Tensor (dl.image)
---@field crop fun(self: dl.Tensor, x: integer, y: integer, width: integer, height: integer): dl.Tensor (dl.image)
---@field center_crop fun(self: dl.Tensor, width: integer, height?: integer): dl.Tensor (dl.image)
---@field letterbox fun(self: dl.Tensor, width: integer, height: integer, options?: {pad?: integer, mode?: 'bilinear'|'box'}): dl.Tensor, dl.image.Letterbox
---@field to_tensor fun(self: dl.Tensor, options?: {mean?: number|number[], std?: number|number[]}): dl.Tensor C×H×W f32 (dl.image)
---@field encode_png fun(self: dl.Tensor): string (dl.image)
---@field encode_jpeg fun(self: dl.Tensor, quality?: integer): string (dl.image)
---@field save_png fun(self: dl.Tensor, path: string): boolean|nil, string? (dl.image)
---@field save_jpeg fun(self: dl.Tensor, path: string, quality?: integer): boolean|nil, string? (dl.image)
---@operator add(dl.Tensor|number): dl.Tensor
---@operator sub(dl.Tensor|number): dl.Tensor
---@operator mul(dl.Tensor|number): dl.Tensor
---@operator div(dl.Tensor|number): dl.Tensor
---@operator unm: dl.Tensor
---@operator len: integer the size of dim 1
local methods = reg['dl.tensor.methods'] or {}
reg['dl.tensor.methods'] = methods
local ops = reg['dl.tensor.ops'] or {} -- metamethod bodies, refreshed on every load
reg['dl.tensor.ops'] = ops
local gc_state = reg['dl.tensor.gc'] or { threshold = 64 * 2 ^ 20 }
reg['dl.tensor.gc'] = gc_state

--- The method table behind every tensor; other modules may add functions to it.
M.methods = methods

local TENSOR = ffi.typeof('dl_tensor')
local TENSOR_PTR = ffi.typeof('dl_tensor *')
local DTYPES = { u8 = C.DL_U8, i32 = C.DL_I32, i64 = C.DL_I64, f32 = C.DL_F32 }
local DTYPE_NAMES = { [C.DL_U8] = 'u8', [C.DL_I32] = 'i32', [C.DL_I64] = 'i64', [C.DL_F32] = 'f32' }
local PTR_TYPES = {
  [C.DL_U8] = ffi.typeof('uint8_t *'),
  [C.DL_I32] = ffi.typeof('int32_t *'),
  [C.DL_I64] = ffi.typeof('int64_t *'),
  [C.DL_F32] = ffi.typeof('float *'),
}
-- Whole-number ranges of the integer dtypes (i64 as far as a Lua number is exact).
local INT_RANGE = {
  [C.DL_U8] = { 0, 255 },
  [C.DL_I32] = { -2 ^ 31, 2 ^ 31 - 1 },
  [C.DL_I64] = { -2 ^ 63, 2 ^ 63 - 1024 },
}
local BINARY = { add = C.DL_ADD, sub = C.DL_SUB, mul = C.DL_MUL, div = C.DL_DIV }

-- Scratch buffers for calls into C; Lua runs on one thread per state.
local box = ffi.new('dl_tensor *[2]')
local shape_buf = ffi.new('int64_t[8]')
local order_buf = ffi.new('int[8]')

---@class dl.Tensor: ffi.cdata*
---@field ndim integer raw C field: number of dims
---@field dtype integer raw C field: a dl_dtype number (see t:type())

-- istype(TENSOR, x) also holds for a `dl_tensor *`; tensors are the references adopt makes.
local function is_tensor(x) return type(x) == 'cdata' and istype(TENSOR, x) and not istype(TENSOR_PTR, x) end

local function typename(x)
  if is_tensor(x) then return 'dl.tensor' end
  if type(x) == 'cdata' then return tostring(ffi.typeof(x)) end
  return type(x)
end

local function shape_str(t)
  local n = t.ndim
  if n == 0 then return 'scalar' end
  local parts = {}
  for d = 0, n - 1 do parts[d + 1] = tostring(tonumber(t.shape[d])) end
  return concat(parts, 'x')
end

-- Raises why t, whose generation no longer matches its storage's, is unusable: its batch was
-- recycled or it was freed (the native check words both).
local function stale(t, level)
  C.dl_tensor_check(t, err)
  error(ffi.string(err.msg), level + 1)
end

-- Checks that t is a live tensor; `level` is where the error points.
local function live(t, name, level)
  if not is_tensor(t) then
    error(format("bad argument #1 to '%s' (dl.tensor expected, got %s)", name, typename(t)), level + 1)
  end
  if t.generation ~= t.storage.generation then stale(t, level + 1) end
  return t
end

local function check_tensor_arg(x, argn, name)
  if not is_tensor(x) then
    error(format("bad argument #%d to '%s' (dl.tensor expected, got %s)", argn, name, typename(x)), 3)
  end
  if x.generation ~= x.storage.generation then stale(x, 3) end
end

local function is_int(v) return type(v) == 'number' and v == floor(v) and v > -huge and v < huge end

local function check_int(v, argn, name)
  if not is_int(v) then
    error(format("bad argument #%d to '%s' (integer expected, got %s)", argn, name,
      type(v) == 'number' and tostring(v) or type(v)), 3)
  end
  return v
end

local function dtype_arg(s, argn, name)
  if s == nil then return C.DL_F32 end
  local id = DTYPES[s]
  if not id then
    error(format("bad argument #%d to '%s' (dtype 'u8', 'i32', 'i64' or 'f32' expected, got %s)",
      argn, name, type(s) == 'string' and format('%q', s) or type(s)), 3)
  end
  return id
end

-- Maps a 1-based (or negative) Lua dim of a tensor with `n` dims to a 0-based C dim.
local function dim_arg(d, n, argn, name)
  if is_int(d) then
    if d >= 1 and d <= n then return d - 1 end
    if d < 0 and d >= -n then return n + d end
  end
  error(format("bad argument #%d to '%s' (dim %s out of range for a tensor of %d dims)", argn, name,
    tostring(d), n), 3)
end

-- Reads a shape given as one table or as varargs (argument argn on) into shape_buf;
-- returns its length. `allow_minus1` admits -1 entries.
local function shape_arg(argn, name, allow_minus1, ...)
  local list, n = ..., select('#', ...)
  if type(list) == 'table' then
    n = #list
  else
    list = { ... }
  end
  if n > 8 then error(format("bad argument #%d to '%s' (at most 8 dims, got %d)", argn, name, n), 3) end
  for i = 1, n do
    local v = list[i]
    if not is_int(v) or v < (allow_minus1 and -1 or 0) then
      error(format("bad argument #%d to '%s' (size %s at dim %d must be a whole number >= %d)", argn, name,
        tostring(v), i, allow_minus1 and -1 or 0), 3)
    end
    shape_buf[i - 1] = v
  end
  return n
end

-- Why v cannot be stored in dtype (integers must be whole and in range), or nil when it can;
-- `what` names v.
local function value_problem(v, dtype, what)
  if type(v) ~= 'number' then return format('%s must be a number, got %s', what, typename(v)) end
  local r = INT_RANGE[dtype]
  if r and not (v == floor(v) and v >= r[1] and v <= r[2]) then
    return format('%s is %s, not a whole number in the range of %s', what, tostring(v), DTYPE_NAMES[dtype])
  end
end

-- Raises value_problem's message at `level` (relative to the caller of check_value).
local function check_value(v, dtype, what, name, level)
  local problem = value_problem(v, dtype, what)
  if problem then error(format("bad argument to '%s' (%s)", name, problem), level + 1) end
end

-- Raises the pending native error at `level` as error() counts it from raise's caller
-- (default 2: the caller of the method that calls raise).
local function raise(rc, level) assert_rc(rc, (level or 2) + 1) end

--- Adopts a caller-owned `dl_tensor *` returned by C: the Lua GC will release it. Used by the
--- dl modules that create tensors (image, batch, nn): `tensor.adopt(out[0])`. Returns the
--- tensor (a `dl_tensor &` over the same header); use it, not ptr, from then on.
---@param ptr ffi.cdata* a dl_tensor * the caller owns
---@return dl.Tensor
function M.adopt(ptr)
  if type(ptr) ~= 'cdata' or not istype(TENSOR_PTR, ptr) or ptr == nil then
    error(format("bad argument #1 to 'adopt' (non-NULL dl_tensor * expected, got %s)", typename(ptr)), 2)
  end
  local t = gc(ptr[0], C.dl_tensor_release)
  -- Pace the GC by native bytes: Lua sees only a pointer per tensor.
  if tonumber(C.dl_mem_live_bytes()) > gc_state.threshold then
    collectgarbage()
    gc_state.threshold = max(2 * tonumber(C.dl_mem_live_bytes()), 64 * 2 ^ 20)
  end
  return t
end

-- Adopts box[0] after a successful call, else raises the native error at `level` (counted
-- from adopt_box's caller; default 1, right for `return adopt_box(...)` in a method, whose
-- tail call leaves the method's caller next in line).
local function adopt_box(rc, level)
  if rc < 0 then raise(rc, (level or 1) + 1) end
  return M.adopt(box[0])
end

---@param x any
---@return boolean
function M.is_tensor(x) return is_tensor(x) end

---@alias dl.dtype 'u8'|'i32'|'i64'|'f32'

-- A new zero-filled tensor for the constructor `name` (its messages name it). Called as a tail
-- call, so that level 2 is the constructor's caller.
local function zeros(name, shape, dtype)
  if type(shape) ~= 'table' then
    error(format("bad argument #1 to '%s' (table of sizes expected, got %s)", name, typename(shape)), 2)
  end
  local n = shape_arg(1, name, false, shape)
  return adopt_box(C.dl_tensor_new(box, dtype_arg(dtype, 2, name), n, shape_buf, err))
end

--- A new zero-filled tensor.
---@param shape integer[] sizes, e.g. {3, 224, 224}; {} is a scalar
---@param dtype? dl.dtype default 'f32'
---@return dl.Tensor
function M.new(shape, dtype) return zeros('new', shape, dtype) end

--- Same as new: a zero-filled tensor.
---@param shape integer[] sizes, e.g. {3, 224, 224}; {} is a scalar
---@param dtype? dl.dtype default 'f32'
---@return dl.Tensor
function M.zeros(shape, dtype) return zeros('zeros', shape, dtype) end

--- A new tensor whose contents are not initialised (faster when every element is written).
---@param shape integer[]
---@param dtype? dl.dtype default 'f32'
---@return dl.Tensor
function M.empty(shape, dtype)
  if type(shape) ~= 'table' then
    error(format("bad argument #1 to 'empty' (table of sizes expected, got %s)", typename(shape)), 2)
  end
  local n = shape_arg(1, 'empty', false, shape)
  return adopt_box(C.dl_tensor_empty(box, dtype_arg(dtype, 2, 'empty'), n, shape_buf, err))
end

--- A new tensor with every element set to value.
---@param shape integer[]
---@param value number
---@param dtype? dl.dtype default 'f32'
---@return dl.Tensor
function M.full(shape, value, dtype)
  if type(shape) ~= 'table' then
    error(format("bad argument #1 to 'full' (table of sizes expected, got %s)", typename(shape)), 2)
  end
  if type(value) ~= 'number' then
    error(format("bad argument #2 to 'full' (number expected, got %s)", typename(value)), 2)
  end
  local n = shape_arg(1, 'full', false, shape)
  local id = dtype_arg(dtype, 3, 'full')
  check_value(value, id, 'value', 'full', 2)
  local t = adopt_box(C.dl_tensor_empty(box, id, n, shape_buf, err), 2)
  local rc = C.dl_tensor_fill(t, value, err)
  if rc < 0 then raise(rc) end
  return t
end

--- A new tensor of ones.
---@param shape integer[]
---@param dtype? dl.dtype default 'f32'
---@return dl.Tensor
function M.ones(shape, dtype) return M.full(shape, 1, dtype) end

--- A new tensor from nested Lua tables of numbers (all rows of one length).
---@param tbl number[]|table nested tables, e.g. {{1, 2}, {3, 4}}; a number gives a scalar
---@param dtype? dl.dtype default 'f32'
---@return dl.Tensor
function M.from_table(tbl, dtype)
  local id = dtype_arg(dtype, 2, 'from_table')
  if type(tbl) ~= 'table' and type(tbl) ~= 'number' then
    error(format("bad argument #1 to 'from_table' (table expected, got %s)", typename(tbl)), 2)
  end
  local shape, node = {}, tbl
  while type(node) == 'table' do
    if #shape == 8 then error("bad argument #1 to 'from_table' (nested deeper than 8 dims)", 2) end
    shape[#shape + 1] = #node
    node = node[1]
  end
  local n = shape_arg(1, 'from_table', false, shape)
  local t = adopt_box(C.dl_tensor_empty(box, id, n, shape_buf, err), 2)
  local p, k = cast(PTR_TYPES[id], t.ptr), 0
  -- Copies node (at depth d, reached through `path`) into p; returns a problem or nil.
  local function walk(node, d, path)
    if d > n then
      local problem = value_problem(node, id, 'element ' .. path)
      if problem then return problem end
      p[k] = node
      k = k + 1
      return nil
    end
    if type(node) ~= 'table' or #node ~= shape[d] then
      return format('ragged table: element %s should be a table of %d, got %s', path, shape[d],
        type(node) == 'table' and 'a table of ' .. #node or typename(node))
    end
    for i = 1, shape[d] do
      local problem = walk(node[i], d + 1, path .. '[' .. i .. ']')
      if problem then return problem end
    end
  end
  local problem = walk(tbl, 1, '')
  if problem then
    t:free()
    error(format("bad argument #1 to 'from_table' (%s)", problem), 2)
  end
  return t
end

--- Evenly spaced values in [start, stop) like numpy.arange; arange(n) is 0..n-1. The dtype
--- defaults to 'i64' when every argument is whole, else 'f32'.
---@param start number
---@param stop? number
---@param step? number default 1
---@param dtype? dl.dtype
---@return dl.Tensor
function M.arange(start, stop, step, dtype)
  if type(stop) == 'string' then start, stop, step, dtype = 0, start, nil, stop end
  if type(step) == 'string' then step, dtype = nil, step end
  if stop == nil then start, stop = 0, start end
  step = step or 1
  for i, v in ipairs({ start, stop, step }) do
    if type(v) ~= 'number' or v ~= v then
      error(format("bad argument #%d to 'arange' (number expected, got %s)", i, typename(v)), 2)
    end
  end
  if step == 0 then error("bad argument #3 to 'arange' (step must not be 0)", 2) end
  local id = dtype and dtype_arg(dtype, 4, 'arange')
    or ((is_int(start) and is_int(stop) and is_int(step)) and C.DL_I64 or C.DL_F32)
  local n = max(0, ceil((stop - start) / step))
  shape_buf[0] = n
  local t = adopt_box(C.dl_tensor_empty(box, id, 1, shape_buf, err), 2)
  local p = cast(PTR_TYPES[id], t.ptr)
  for i = 0, n - 1 do
    local v = start + i * step
    check_value(v, id, 'value ' .. tostring(v), 'arange', 2)
    p[i] = v
  end
  return t
end

-- ------------------------------------------------------------------ inspection

-- t.shape or t.strides (field) as a table, or one dim of it. size and
-- stride call it as a tail call, so the error levels of live and dim_arg
-- still point at the user's line.
local function dims_of(t, field, d, name)
  live(t, name, 2)
  local n, v = t.ndim, t[field]
  if d ~= nil then return tonumber(v[dim_arg(d, n, 2, name)]) end
  local s = {}
  for i = 0, n - 1 do s[i + 1] = tonumber(v[i]) end
  return s
end

--- The shape as a table, or the size of one dim.
---@param d? integer a 1-based dim (negative counts from the end)
---@return integer[]|integer
---@param t dl.Tensor
function methods.size(t, d) return dims_of(t, 'shape', d, 'size') end

--- Strides in elements, as a table, or the stride of one dim.
---@param d? integer
---@return integer[]|integer
---@param t dl.Tensor
function methods.stride(t, d) return dims_of(t, 'strides', d, 'stride') end

--- Number of dims (0 for a scalar).
---@return integer
---@param t dl.Tensor
function methods.dim(t) return live(t, 'dim', 2).ndim end

--- Number of elements.
---@return integer
---@param t dl.Tensor
function methods.nelement(t) return tonumber(live(t, 'nelement', 2).numel) end

--- The dtype's name: 'u8', 'i32', 'i64' or 'f32'.
---@return dl.dtype
---@param t dl.Tensor
function methods.type(t) return DTYPE_NAMES[live(t, 'type', 2).dtype] end

---@return boolean
---@param t dl.Tensor
function methods.is_contiguous(t) return C.dl_tensor_is_contiguous(live(t, 'is_contiguous', 2)) == 1 end

--- The raw typed pointer to element [1, ..., 1] (uint8_t*, int32_t*, int64_t*, float*) for hot
--- loops. UNCHECKED: 0-based, follows t's strides (call :contiguous() first for a dense
--- layout), and valid only while t is alive and not recycled.
---@return ffi.cdata*
---@param t dl.Tensor
function methods.data(t)
  live(t, 'data', 2)
  return cast(PTR_TYPES[t.dtype], t.ptr)
end

-- Element offset of the 1-based indices given as varargs (index errors name dim and shape).
local function offset(t, name, nidx, ...)
  local n = t.ndim
  if nidx ~= n then
    error(format("bad argument to '%s' (%d indices given for a tensor of shape %s)", name, nidx, shape_str(t)), 3)
  end
  local off = 0
  for d = 1, n do
    local i = select(d, ...)
    local size = tonumber(t.shape[d - 1])
    if not is_int(i) or i < 1 or i > size then
      error(format("bad argument #%d to '%s' (index %s out of range for dim %d of shape %s)", d, name,
        tostring(i), d, shape_str(t)), 3)
    end
    off = off + (i - 1) * tonumber(t.strides[d - 1])
  end
  return off
end

--- The element at the given 1-based indices, one per dim (i64 values beyond 2^53 lose
--- precision).
---@return number
---@param t dl.Tensor
---@param ... integer 1-based indices, one per dim
function methods.get(t, ...)
  live(t, 'get', 2)
  local off = offset(t, 'get', select('#', ...), ...)
  return tonumber(cast(PTR_TYPES[t.dtype], t.ptr)[off])
end

--- Sets the element at the given 1-based indices: t:set(i, j, value).
---@param t dl.Tensor
---@param ... integer|number the 1-based indices, one per dim, then the value
function methods.set(t, ...)
  live(t, 'set', 2)
  local nargs = select('#', ...)
  local v = select(nargs, ...)
  local off = offset(t, 'set', nargs - 1, ...)
  check_value(v, t.dtype, 'value', 'set', 2)
  cast(PTR_TYPES[t.dtype], t.ptr)[off] = v
end

--- A nested Lua table of the values (a number for a scalar).
---@return table|number
---@param t dl.Tensor
function methods.totable(t)
  live(t, 'totable', 2)
  local p = cast(PTR_TYPES[t.dtype], t.ptr)
  local n = t.ndim
  local function build(d, off)
    if d == n then return tonumber(p[off]) end
    local res, stride = {}, tonumber(t.strides[d])
    for i = 0, tonumber(t.shape[d]) - 1 do res[i + 1] = build(d + 1, off + i * stride) end
    return res
  end
  return build(0, 0)
end

-- ----------------------------------------------------------------------- views

--- Elements start..start+len-1 (1-based) of dim, sharing storage.
---@param dim integer
---@param start integer
---@param len integer
---@return dl.Tensor
---@param t dl.Tensor
function methods.narrow(t, dim, start, len)
  live(t, 'narrow', 2)
  local d = dim_arg(dim, t.ndim, 2, 'narrow')
  check_int(start, 3, 'narrow')
  check_int(len, 4, 'narrow')
  local size = tonumber(t.shape[d])
  if start < 1 or len < 0 or start + len - 1 > size then
    error(format("bad argument to 'narrow' (elements %d..%d out of range for dim %d of shape %s)", start,
      start + len - 1, d + 1, shape_str(t)), 2)
  end
  return adopt_box(C.dl_tensor_narrow(box, t, d, start - 1, len, err))
end

--- The slice at 1-based index of dim, with that dim removed, sharing storage.
---@param dim integer
---@param index integer
---@return dl.Tensor
---@param t dl.Tensor
function methods.select(t, dim, index)
  live(t, 'select', 2)
  local d = dim_arg(dim, t.ndim, 2, 'select')
  check_int(index, 3, 'select')
  if index < 1 or index > tonumber(t.shape[d]) then
    error(format("bad argument #3 to 'select' (index %d out of range for dim %d of shape %s)", index, d + 1,
      shape_str(t)), 2)
  end
  return adopt_box(C.dl_tensor_select(box, t, d, index - 1, err))
end

--- The same elements with a new shape (sizes as varargs or a table; one may be -1), sharing
--- storage. Errors when t's layout needs a copy: use reshape or contiguous() then.
---@return dl.Tensor
---@param t dl.Tensor
---@param ... integer|integer[] the sizes, as arguments or one table
function methods.view(t, ...)
  live(t, 'view', 2)
  local n = shape_arg(2, 'view', true, ...)
  return adopt_box(C.dl_tensor_view(box, t, n, shape_buf, err))
end

--- Like view, but copies when t's layout does not allow a view.
---@return dl.Tensor
---@param t dl.Tensor
---@param ... integer|integer[] the sizes, as arguments or one table
function methods.reshape(t, ...)
  live(t, 'reshape', 2)
  local n = shape_arg(2, 'reshape', true, ...)
  return adopt_box(C.dl_tensor_reshape(box, t, n, shape_buf, err))
end

--- Dims reordered: t:permute(3, 1, 2) turns H×W×C into C×H×W (a view).
---@return dl.Tensor
---@param t dl.Tensor
---@param ... integer|integer[] the new order of the dims
function methods.permute(t, ...)
  live(t, 'permute', 2)
  local n = t.ndim
  local order = type(...) == 'table' and ... or { ... }
  if #order ~= n then
    error(format("bad argument #2 to 'permute' (%d dims given for a tensor of %d dims)", #order, n), 2)
  end
  local seen = {}
  for i = 1, n do
    local d = dim_arg(order[i], n, i + 1, 'permute')
    if seen[d] then error(format("bad argument #%d to 'permute' (dim %d appears twice)", i + 1, d + 1), 2) end
    seen[d] = true
    order_buf[i - 1] = d
  end
  return adopt_box(C.dl_tensor_permute(box, t, order_buf, err))
end

--- Dims d1 and d2 swapped (a view); with no arguments, the two dims of a matrix.
---@param d1? integer
---@param d2? integer
---@return dl.Tensor
---@param t dl.Tensor
function methods.transpose(t, d1, d2)
  live(t, 'transpose', 2)
  local n = t.ndim
  if d1 == nil and d2 == nil then
    if n ~= 2 then error(format("bad argument to 'transpose' (dims expected for a %d-dim tensor)", n), 2) end
    d1, d2 = 1, 2
  end
  local a, b = dim_arg(d1, n, 2, 'transpose'), dim_arg(d2, n, 3, 'transpose')
  return adopt_box(C.dl_tensor_transpose(box, t, a, b, err))
end

--- A size-1 dim inserted at position d (1..dim()+1), sharing storage.
---@param d integer
---@return dl.Tensor
---@param t dl.Tensor
function methods.unsqueeze(t, d)
  live(t, 'unsqueeze', 2)
  local cd = dim_arg(d, t.ndim + 1, 2, 'unsqueeze')
  if t.ndim == 8 then error("bad argument #1 to 'unsqueeze' (tensor already has 8 dims)", 2) end
  return adopt_box(C.dl_tensor_unsqueeze(box, t, cd, err))
end

--- Dim d (of size 1) removed, or every size-1 dim when d is nil.
---@param d? integer
---@return dl.Tensor
---@param t dl.Tensor
function methods.squeeze(t, d)
  live(t, 'squeeze', 2)
  if d == nil then return adopt_box(C.dl_tensor_squeeze_all(box, t, err)) end
  local cd = dim_arg(d, t.ndim, 2, 'squeeze')
  if t.shape[cd] ~= 1 then
    error(format("bad argument #2 to 'squeeze' (dim %d of shape %s has size %d, not 1)", d, shape_str(t),
      tonumber(t.shape[cd])), 2)
  end
  return adopt_box(C.dl_tensor_squeeze(box, t, cd, err))
end

--- t broadcast to a larger shape (size-1 dims repeat with stride 0; -1 keeps a size).
---@return dl.Tensor
---@param t dl.Tensor
---@param ... integer|integer[] the sizes, as arguments or one table
function methods.expand(t, ...)
  live(t, 'expand', 2)
  local n = shape_arg(2, 'expand', true, ...)
  return adopt_box(C.dl_tensor_expand(box, t, n, shape_buf, err))
end

-- ---------------------------------------------------------------- copies

--- t itself when already contiguous, else a contiguous copy.
---@return dl.Tensor
---@param t dl.Tensor
function methods.contiguous(t)
  live(t, 'contiguous', 2)
  if C.dl_tensor_is_contiguous(t) == 1 then return t end
  return adopt_box(C.dl_tensor_clone(box, t, err))
end

--- A contiguous copy that shares nothing with t.
---@return dl.Tensor
---@param t dl.Tensor
function methods.clone(t)
  live(t, 'clone', 2)
  return adopt_box(C.dl_tensor_clone(box, t, err))
end

--- Copies src into t (broadcasting src, converting its dtype); returns t.
---@param src dl.Tensor
---@return dl.Tensor
---@param t dl.Tensor
function methods.copy(t, src)
  live(t, 'copy', 2)
  check_tensor_arg(src, 2, 'copy')
  local rc = C.dl_tensor_copy(t, src, err)
  if rc < 0 then raise(rc) end
  return t
end

--- Sets every element to value; returns t.
---@param value number
---@return dl.Tensor
---@param t dl.Tensor
function methods.fill(t, value)
  live(t, 'fill', 2)
  check_value(value, t.dtype, 'value', 'fill', 2)
  local rc = C.dl_tensor_fill(t, value, err)
  if rc < 0 then raise(rc) end
  return t
end

--- A new tensor of dtype holding t * scale. Conversions to integers round half away from zero
--- and saturate: t:to('f32', 1/255) and back with :to('u8', 255) is exact.
---@param dtype dl.dtype
---@param scale? number default 1
---@return dl.Tensor
---@param t dl.Tensor
function methods.to(t, dtype, scale)
  live(t, 'to', 2)
  if dtype == nil then error("bad argument #2 to 'to' (dtype expected, got nil)", 2) end
  local id = dtype_arg(dtype, 2, 'to')
  if scale ~= nil and type(scale) ~= 'number' then
    error(format("bad argument #3 to 'to' (number expected, got %s)", typename(scale)), 2)
  end
  return adopt_box(C.dl_tensor_to(box, t, id, scale or 1, err))
end

--- Same as t:to('f32').
---@return dl.Tensor
---@param t dl.Tensor
function methods.float(t)
  live(t, 'float', 2)
  return adopt_box(C.dl_tensor_to(box, t, C.DL_F32, 1, err))
end

--- Releases the tensor's storage now instead of at garbage collection (views of t keep theirs).
--- Any later use of t raises "tensor used after :free()"; the small header stays until the GC.
---@param t dl.Tensor
function methods.free(t)
  if is_tensor(t) and C.dl_tensor_is_freed(t) == 1 then
    error("bad argument #1 to 'free' (tensor already freed)", 2)
  end
  live(t, 'free', 2)
  C.dl_tensor_free_storage(t)
end

-- ------------------------------------------------------------- arithmetic

-- The method a:name(b) computing a op b, b a tensor or a number; `inplace` writes into a.
local function arith(name, op, inplace)
  return function(a, b)
    live(a, name, 2)
    if type(b) == 'number' then
      check_value(b, a.dtype, 'scalar', name, 2)
      if inplace then
        local rc = C.dl_tensor_scalar_into(a, a, b, op, err)
        if rc < 0 then raise(rc) end
        return a
      end
      return adopt_box(C.dl_tensor_scalar(box, a, b, op, err))
    end
    if not is_tensor(b) then
      error(format("bad argument #2 to '%s' (dl.tensor or number expected, got %s)", name, typename(b)), 2)
    end
    check_tensor_arg(b, 2, name)
    if a.dtype ~= b.dtype then
      error(format("bad argument #2 to '%s' (dtype %s differs from %s; convert one with :to())", name,
        DTYPE_NAMES[b.dtype], DTYPE_NAMES[a.dtype]), 2)
    end
    if inplace then
      local rc = C.dl_tensor_binary_into(a, a, b, op, err)
      if rc < 0 then raise(rc) end
      return a
    end
    return adopt_box(C.dl_tensor_binary(box, a, b, op, err))
  end
end

for name, op in pairs(BINARY) do
  methods[name] = arith(name, op, false)
  methods[name .. '_'] = arith(name .. '_', op, true)
end

-- number op tensor, for the metamethods: a scalar tensor of b's dtype, broadcast.
local function scalar_left(name, a, b)
  live(b, name, 2)
  check_value(a, b.dtype, 'scalar', name, 2)
  local s = M.full({}, a, DTYPE_NAMES[b.dtype])
  return adopt_box(C.dl_tensor_binary(box, s, b, BINARY[name], err))
end

local add, sub, mul, div = methods.add, methods.sub, methods.mul, methods.div
function ops.add(a, b)
  if type(a) == 'number' then return add(b, a) end
  return add(a, b)
end
function ops.mul(a, b)
  if type(a) == 'number' then return mul(b, a) end
  return mul(a, b)
end
function ops.sub(a, b)
  if type(a) == 'number' then return scalar_left('sub', a, b) end
  return sub(a, b)
end
function ops.div(a, b)
  if type(a) == 'number' then return scalar_left('div', a, b) end
  return div(a, b)
end
function ops.unm(a) return scalar_left('sub', 0, a) end

-- ------------------------------------------------------------- reductions

local REDUCE = {
  sum = C.DL_SUM, mean = C.DL_MEAN, max = C.DL_MAX, min = C.DL_MIN, argmax = C.DL_ARGMAX, argmin = C.DL_ARGMIN,
}

-- Reduces over every element: a flat view (contiguous first) reduced along its only dim.
local function reduce_all(t, op)
  local flat = t
  if C.dl_tensor_is_contiguous(t) ~= 1 then flat = adopt_box(C.dl_tensor_clone(box, t, err), 3) end
  shape_buf[0] = tonumber(t.numel)
  local rc = C.dl_tensor_view(box, flat, 1, shape_buf, err)
  if rc < 0 then raise(rc, 3) end
  local v = M.adopt(box[0])
  rc = C.dl_tensor_reduce(box, v, op, 0, 0, err)
  if rc < 0 then raise(rc, 3) end
  local r = M.adopt(box[0])
  return tonumber(cast(PTR_TYPES[r.dtype], r.ptr)[0])
end

local function nonempty_dim(t, d, name)
  if t.shape[d] == 0 then
    error(format("bad argument to '%s' (dim %d of shape %s is empty)", name, d + 1, shape_str(t)), 3)
  end
end

local function reducer(name, op, needs_elements, one_based)
  return function(t, dim, keepdim)
    live(t, name, 2)
    if dim == nil then
      if needs_elements and t.numel == 0 then
        error(format("bad argument to '%s' (tensor of shape %s is empty)", name, shape_str(t)), 2)
      end
      local v = reduce_all(t, op)
      return one_based and v + 1 or v
    end
    local d = dim_arg(dim, t.ndim, 2, name)
    if needs_elements then nonempty_dim(t, d, name) end
    local r = adopt_box(C.dl_tensor_reduce(box, t, op, d, keepdim and 1 or 0, err))
    if one_based then
      local rc = C.dl_tensor_scalar_into(r, r, 1, C.DL_ADD, err)
      if rc < 0 then raise(rc) end
    end
    return r
  end
end

--- Sum of all elements (a number), or along dim (a tensor; keepdim keeps it as size 1).
--- Integer dtypes sum into i64.
---@param dim? integer
---@param keepdim? boolean
---@return number|dl.Tensor
methods.sum = reducer('sum', REDUCE.sum, false, false)

--- Mean of all elements, or along dim (always f32).
---@param dim? integer
---@param keepdim? boolean
---@return number|dl.Tensor
methods.mean = reducer('mean', REDUCE.mean, false, false)

--- Index (1-based) of the largest element: of the flattened tensor, or along dim (i64).
---@param dim? integer
---@param keepdim? boolean
---@return integer|dl.Tensor
methods.argmax = reducer('argmax', REDUCE.argmax, true, true)

--- Index (1-based) of the smallest element, as argmax.
---@param dim? integer
---@param keepdim? boolean
---@return integer|dl.Tensor
methods.argmin = reducer('argmin', REDUCE.argmin, true, true)

local function extreme(name, op, arg_op)
  local whole = reducer(name, op, true, false)
  local arg = reducer('arg' .. name, arg_op, true, true)
  return function(t, dim, keepdim)
    if dim == nil then return whole(t) end
    live(t, name, 2)
    local d = dim_arg(dim, t.ndim, 2, name)
    nonempty_dim(t, d, name)
    if op == REDUCE.max then
      local rc = C.dl_tensor_max(box, box + 1, t, d, keepdim and 1 or 0, err)
      if rc < 0 then raise(rc) end
      local values, indices = M.adopt(box[0]), M.adopt(box[1])
      rc = C.dl_tensor_scalar_into(indices, indices, 1, C.DL_ADD, err)
      if rc < 0 then raise(rc) end
      return values, indices
    end
    return whole(t, dim, keepdim), arg(t, dim, keepdim)
  end
end

--- The largest element (a number), or along dim: values and 1-based i64 indices (the first
--- maximum wins; a NaN counts as the maximum).
---@param dim? integer
---@param keepdim? boolean
---@return number|dl.Tensor values
---@return dl.Tensor? indices
methods.max = extreme('max', REDUCE.max, REDUCE.argmax)

--- The smallest element, or along dim: values and 1-based indices, as max.
---@param dim? integer
---@param keepdim? boolean
---@return number|dl.Tensor values
---@return dl.Tensor? indices
methods.min = extreme('min', REDUCE.min, REDUCE.argmin)

local function softmax(name, log)
  return function(t, dim)
    live(t, name, 2)
    if t.dtype ~= C.DL_F32 then
      error(format("bad argument #1 to '%s' (f32 tensor expected, got %s; convert with :float())", name,
        DTYPE_NAMES[t.dtype]), 2)
    end
    if t.ndim == 0 then error(format("bad argument #1 to '%s' (tensor has no dims)", name), 2) end
    local d = dim_arg(dim or -1, t.ndim, 2, name)
    return adopt_box(C.dl_tensor_softmax(box, t, d, log, err))
  end
end

--- Softmax along dim (default: the last), numerically stable. f32 only.
---@param dim? integer
---@return dl.Tensor
methods.softmax = softmax('softmax', 0)

--- Log-softmax along dim (default: the last), numerically stable. f32 only.
---@param dim? integer
---@return dl.Tensor
methods.log_softmax = softmax('log_softmax', 1)

--- The k largest elements along dim (default: the last), sorted descending, and their 1-based
--- i64 indices. Ties keep the lower index first.
---@param k integer
---@param dim? integer
---@return dl.Tensor values
---@return dl.Tensor indices
---@param t dl.Tensor
function methods.topk(t, k, dim)
  live(t, 'topk', 2)
  if t.ndim == 0 then error("bad argument #1 to 'topk' (tensor has no dims)", 2) end
  check_int(k, 2, 'topk')
  local d = dim_arg(dim or -1, t.ndim, 3, 'topk')
  if k < 0 or k > t.shape[d] then
    error(format("bad argument #2 to 'topk' (k = %d out of range for dim %d of shape %s)", k, d + 1,
      shape_str(t)), 2)
  end
  local rc = C.dl_tensor_topk(box, box + 1, t, d, k, err)
  if rc < 0 then raise(rc) end
  local values, indices = M.adopt(box[0]), M.adopt(box[1])
  rc = C.dl_tensor_scalar_into(indices, indices, 1, C.DL_ADD, err)
  if rc < 0 then raise(rc) end
  return values, indices
end

--- Matrix product of f32 tensors: [M,K] x [K,N], or batched [B,M,K] x [B,K,N] (a 2-D operand
--- serves every batch).
---@param b dl.Tensor
---@return dl.Tensor
---@param t dl.Tensor
function methods.matmul(t, b)
  live(t, 'matmul', 2)
  check_tensor_arg(b, 2, 'matmul')
  return adopt_box(C.dl_tensor_matmul(box, t, b, err))
end

-- ----------------------------------------------------------------- printing

local EDGE, SUMMARY_OVER = 3, 1000

local function format_value(v, dtype)
  if dtype ~= C.DL_F32 then return format('%d', v) end
  if v ~= v then return 'nan' end
  if v == huge then return 'inf' elseif v == -huge then return '-inf' end
  return format('%.6g', v)
end

function ops.tostring(t)
  if t.generation ~= t.storage.generation then
    return C.dl_tensor_is_freed(t) == 1 and 'dl.tensor (freed)' or 'dl.tensor (recycled)'
  end
  local dtype, n = t.dtype, t.ndim
  local p = cast(PTR_TYPES[dtype], t.ptr)
  local summarize = tonumber(t.numel) > SUMMARY_OVER
  local function indices(size)
    local list = {}
    if summarize and size > 2 * EDGE then
      for i = 0, EDGE - 1 do list[#list + 1] = i end
      list[#list + 1] = false -- the elision mark
      for i = size - EDGE, size - 1 do list[#list + 1] = i end
    else
      for i = 0, size - 1 do list[#list + 1] = i end
    end
    return list
  end
  local function render(d, off, indent)
    if d == n then return format_value(tonumber(p[off]), dtype) end
    local parts, stride = {}, tonumber(t.strides[d])
    for _, i in ipairs(indices(tonumber(t.shape[d]))) do
      parts[#parts + 1] = i and render(d + 1, off + i * stride, indent .. ' ') or '...'
    end
    local sep = d == n - 1 and ', ' or (',' .. rep('\n', n - d - 1) .. indent .. ' ')
    return '[' .. concat(parts, sep) .. ']'
  end
  return format('dl.tensor %s %s\n%s', DTYPE_NAMES[dtype], shape_str(t), render(0, 0, ''))
end

function ops.len(t)
  live(t, '__len', 2)
  if t.ndim == 0 then error('attempt to get the length of a scalar tensor', 2) end
  return tonumber(t.shape[0])
end

-- Checks the i of t[i] (t has dims) at `level`: a 0-based habit (t[0]) gets told that
-- indices start at 1, instead of an error about select or get.
local function check_first_index(t, i, level)
  if not (is_int(i) and i >= 1 and i <= tonumber(t.shape[0])) then
    error(format('index %s out of range for dim 1 of shape %s (indices start at 1)', tostring(i), shape_str(t)),
      level + 1)
  end
end

-- t[i]: the element of a 1-dim tensor, else the 1-based slice t:select(1, i).
function ops.index(t, i)
  live(t, '__index', 2)
  if t.ndim == 0 then error('attempt to index a scalar tensor (use t:get())', 2) end
  check_first_index(t, i, 2)
  if t.ndim == 1 then return methods.get(t, i) end
  return methods.select(t, 1, i)
end

-- t[i] = v: sets an element of a 1-dim tensor, else fills (number) or copies (tensor) a slice.
function ops.newindex(t, i, v)
  live(t, '__newindex', 2)
  if type(i) ~= 'number' then
    error(format("cannot set field '%s' of a dl.tensor", tostring(i)), 2)
  end
  if t.ndim == 0 then error('attempt to index a scalar tensor (use t:set())', 2) end
  check_first_index(t, i, 2)
  if t.ndim == 1 then return methods.set(t, i, v) end
  local slice = methods.select(t, 1, i)
  if is_tensor(v) then methods.copy(slice, v) else methods.fill(slice, v) end
end

-- Modules that add tensor methods (dl.image adds resize, to_tensor, save_png, ...). A
-- method not found yet loads them once, so img:save_png() works without a require of
-- dl.image first, while a plain require 'dl.tensor' stays cheap.
local EXTENSIONS = { 'dl.image' }
function ops.method(k)
  if not reg['dl.tensor.extensions'] then
    reg['dl.tensor.extensions'] = true
    for _, mod in ipairs(EXTENSIONS) do require(mod) end
  end
  return methods[k]
end

if not reg['dl.tensor.metatype'] then
  -- Bodies are looked up in `ops` and `methods` on each call, so a reloaded module (or
  -- another module adding methods) takes effect without a second ffi.metatype.
  local mt = {
    __index = function(t, k)
      local m = methods[k]
      if m ~= nil then return m end
      if type(k) == 'number' then return ops.index(t, k) end
      return ops.method(k)
    end,
    __newindex = function(t, k, v) return ops.newindex(t, k, v) end,
    __add = function(a, b) return ops.add(a, b) end,
    __sub = function(a, b) return ops.sub(a, b) end,
    __mul = function(a, b) return ops.mul(a, b) end,
    __div = function(a, b) return ops.div(a, b) end,
    __unm = function(a) return ops.unm(a) end,
    __len = function(t) return ops.len(t) end,
    __tostring = function(t) return ops.tostring(t) end,
  }
  reg['dl.tensor.metatype'] = ffi.metatype('dl_tensor', mt)
end

return M
