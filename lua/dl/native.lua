--- The FFI boundary: declares native_ops once per lua_State and checks its ABI.
--- Every dl module that calls native code localises `C` and `check` from here.
local ffi = require 'ffi'

---@class dl.native
---@field C ffi.namespace*|table the native_ops functions
---@field err ffi.cdata* dl_error
local M = {}

-- The major ABI this Lua package was written against; native_ops/dl_native.h
-- declares DL_ABI_VERSION. A mismatch means lua/ and bin/dlrun come from
-- different builds, so fail loudly instead of calling with wrong layouts.
local REQUIRED_ABI = 2

-- The cdef text is the FFI block of dl_native.h, embedded in the dlrun binary
-- (the host preloads 'dl._cdef'). Reloads and busted's insulation may run this
-- file again in the same state: a guard keeps ffi.cdef from redefining types.
if not pcall(ffi.typeof, 'dl_tensor') then
  local ok, cdef = pcall(require, 'dl._cdef')
  if not ok then
    error('dl: native ops are not available (run this inside dlrun, not plain luajit): ' .. tostring(cdef), 2)
  end
  ffi.cdef(cdef)
end

local C = ffi.C
M.C = C

local abi = C.dl_abi_version()
if abi ~= REQUIRED_ABI then
  error(string.format('dl: native ops ABI %d, but this dl package needs ABI %d (mixed installs?)', abi, REQUIRED_ABI))
end

--- One reusable error buffer; Lua runs on one thread per state.
M.err = ffi.new('dl_error')

--- Turns a native return code into Lua's `nil, message` convention.
---@param rc integer
---@return boolean|nil ok
---@return string|nil err
function M.check(rc)
  if rc >= 0 then return true end
  local msg = ffi.string(M.err.msg)
  if msg == '' then msg = ffi.string(C.dl_strerror(rc)) end
  return nil, msg
end

--- Like check, but raises (for misuse, level 3 blames the caller's caller).
---@param rc integer
---@param level? integer the level error() blames (default 2)
function M.assert(rc, level)
  if rc >= 0 then return end
  local _, msg = M.check(rc)
  error(msg, (level or 2) + 1)
end

return M
