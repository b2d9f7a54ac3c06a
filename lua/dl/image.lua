--- dl.image: decode, resize, crop and encode images, as u8 H×W×C tensors.
---
---     local image = require 'dl.image'
---     local img = assert(image.load('cat.jpg', { channels = 3 }))      -- u8 H×W×3, upright
---     local x = img:resize(224, 224):to_tensor { mean = { 0.485, 0.456, 0.406 },
---                                               std = { 0.229, 0.224, 0.225 } } -- f32 3×224×224
---
--- Images are dl.tensor values of dtype u8 and shape H×W×C (C = 1 gray, 2 gray+alpha, 3 RGB,
--- 4 RGBA), as numpy.asarray(PIL.Image.open(...)) gives. Pixel coordinates (crop's x, y,
--- letterbox's offsets) count from 0 at the top-left corner, like annotation boxes.
---
--- This module adds resize, crop, center_crop, letterbox, to_tensor, save_png, save_jpeg,
--- encode_png and encode_jpeg to every tensor as methods.
---
--- Errors: a file that is missing or will not decode gives `nil, message` (the message names
--- the file); misuse (a wrong argument, a tensor that is not an image) raises.
local ffi = require 'ffi'
local native = require 'dl.native'
local tensor = require 'dl.tensor'

local C, err = native.C, native.err
local error, type, tostring, tonumber, pairs = error, type, tostring, tonumber, pairs
local floor, huge = math.floor, math.huge
local format = string.format
local is_tensor, adopt = tensor.is_tensor, tensor.adopt

---@class dl.image
local M = {}

-- Scratch structs for calls into C; Lua runs on one thread per state.
local box = ffi.new('dl_tensor *[1]')
local opts = ffi.new('dl_decode_opts')
local info = ffi.new('dl_image_info')
local where = ffi.new('dl_letterbox')
local mean_buf, std_buf = ffi.new('float[4]'), ffi.new('float[4]')

local MODES = { bilinear = C.DL_RESIZE_BILINEAR, box = C.DL_RESIZE_BOX }
local FORMATS = { [C.DL_IMAGE_JPEG] = 'jpeg', [C.DL_IMAGE_PNG] = 'png' }
local OPTION_KEYS = { channels = true, min_width = true, min_height = true, max_pixels = true, max_bytes = true,
  exif = true, keep_16bit = true }

local function message(rc)
  local _, msg = native.check(rc)
  return msg
end

local function is_int(v) return type(v) == 'number' and v == floor(v) and v > -huge and v < huge end

local function check_int(v, lo, argn, fname, what)
  if not is_int(v) or v < lo then
    error(format("bad argument #%d to '%s' (%s must be a whole number >= %d, got %s)", argn, fname, what, lo,
      tostring(v)), 3)
  end
  return v
end

local function check_image(img, argn, fname)
  if not is_tensor(img) then
    error(format("bad argument #%d to '%s' (u8 H×W×C image tensor expected, got %s)", argn, fname, type(img)), 3)
  end
  return img
end

local function check_mode(mode, argn, fname)
  if mode == nil then return C.DL_RESIZE_BILINEAR end
  local m = MODES[mode]
  if not m then
    error(format("bad argument #%d to '%s' (mode 'bilinear' or 'box' expected, got %s)", argn, fname,
      tostring(mode)), 3)
  end
  return m
end

-- Raises the native error of rc (misuse of an op), blaming the caller of the public function.
local function raise(rc) native.assert(rc, 3) end

-- Fills the shared opts struct from a Lua table (nil for defaults).
local function decode_opts(t, argn, fname)
  ffi.fill(opts, ffi.sizeof(opts))
  if t == nil then return opts end
  if type(t) ~= 'table' then
    error(format("bad argument #%d to '%s' (options table expected, got %s)", argn, fname, type(t)), 3)
  end
  for k in pairs(t) do
    if not OPTION_KEYS[k] then
      error(format("bad argument #%d to '%s' (unknown option '%s'; known: channels, min_width, min_height, "
        .. 'max_pixels, max_bytes, exif, keep_16bit)', argn, fname, tostring(k)), 3)
    end
  end
  local ch = t.channels
  if ch ~= nil and not (is_int(ch) and ch >= 0 and ch <= 4) then
    error(format("bad argument #%d to '%s' (channels must be 0 (as stored), 1, 2, 3 or 4, got %s)", argn, fname,
      tostring(ch)), 3)
  end
  opts.channels = ch or 0
  opts.min_width = t.min_width and check_int(t.min_width, 0, argn, fname, 'min_width') or 0
  opts.min_height = t.min_height and check_int(t.min_height, 0, argn, fname, 'min_height') or 0
  opts.max_pixels = t.max_pixels and check_int(t.max_pixels, 1, argn, fname, 'max_pixels') or 0
  opts.max_bytes = t.max_bytes and check_int(t.max_bytes, 1, argn, fname, 'max_bytes') or 0
  if t.exif ~= nil and type(t.exif) ~= 'boolean' then
    error(format("bad argument #%d to '%s' (exif must be a boolean, got %s)", argn, fname, type(t.exif)), 3)
  end
  opts.no_exif = t.exif == false and 1 or 0
  opts.keep_16bit = t.keep_16bit and 1 or 0
  return opts
end

local function info_table()
  return {
    format = FORMATS[info.format],
    width = info.width,
    height = info.height,
    channels = info.channels,
    bit_depth = info.bit_depth,
    orientation = info.orientation,
    is_cmyk = info.is_cmyk == 1,
  }
end

---@class dl.image.DecodeOptions
---@field channels? integer 0 as stored (default), 1 L, 2 LA, 3 RGB, 4 RGBA (PIL's convert)
---@field min_width? integer a JPEG may decode at 1/2, 1/4 or 1/8 scale while staying this wide
---@field min_height? integer and this tall (after EXIF orientation)
---@field max_pixels? integer refuse images whose header claims more (default 100 000 000)
---@field max_bytes? integer load: refuse a larger file before reading it (default 1 GiB)
---@field exif? boolean apply the EXIF orientation (default true)
---@field keep_16bit? boolean 16-bit PNGs give i32 samples 0..65535 (default: u8, the high byte)

---@class dl.image.Info
---@field format 'jpeg'|'png'
---@field width integer full size, after EXIF orientation
---@field height integer
---@field channels integer as stored: 1, 2, 3 or 4 (RGBA or CMYK)
---@field bit_depth integer
---@field orientation integer EXIF orientation 1..8
---@field is_cmyk boolean

--- Decodes the JPEG or PNG file at path. The second result describes the file (its full
--- size, also when a JPEG was decoded at a smaller scale).
---@param path string
---@param options? dl.image.DecodeOptions
---@return dl.Tensor|nil image u8 H×W×C
---@return string|dl.image.Info err_or_info
function M.load(path, options)
  if type(path) ~= 'string' then
    error(format("bad argument #1 to 'load' (string expected, got %s)", type(path)), 2)
  end
  local o = decode_opts(options, 2, 'load')
  local rc = C.dl_image_load(box, path, o, info, err)
  if rc < 0 then return nil, message(rc) end
  return adopt(box[0]), info_table()
end

--- Decodes a JPEG or PNG held in a string.
---@param bytes string
---@param options? dl.image.DecodeOptions
---@return dl.Tensor|nil image u8 H×W×C
---@return string|dl.image.Info err_or_info
function M.decode(bytes, options)
  if type(bytes) ~= 'string' then
    error(format("bad argument #1 to 'decode' (string expected, got %s)", type(bytes)), 2)
  end
  local o = decode_opts(options, 2, 'decode')
  local rc = C.dl_image_decode(box, bytes, #bytes, o, info, err)
  if rc < 0 then return nil, message(rc) end
  return adopt(box[0]), info_table()
end

--- Reads only the header of the image file at path.
---@param path string
---@return dl.image.Info|nil
---@return string|nil err
function M.info(path)
  if type(path) ~= 'string' then
    error(format("bad argument #1 to 'info' (string expected, got %s)", type(path)), 2)
  end
  local rc = C.dl_image_probe_file(path, info, err)
  if rc < 0 then return nil, message(rc) end
  return info_table()
end

--- A new image of width×height, resized as PIL's Image.resize does ('bilinear', the
--- default, is antialiased when shrinking; 'box' averages areas).
---@param img dl.Tensor u8 H×W×C
---@param width integer
---@param height integer
---@param mode? 'bilinear'|'box'
---@return dl.Tensor
function M.resize(img, width, height, mode)
  check_image(img, 1, 'resize')
  check_int(width, 1, 2, 'resize', 'width')
  check_int(height, 1, 3, 'resize', 'height')
  local rc = C.dl_image_resize(box, img, width, height, check_mode(mode, 4, 'resize'), err)
  if rc < 0 then raise(rc) end
  return adopt(box[0])
end

--- A view of the width×height region whose top-left pixel is (x, y), counted from 0. It
--- shares memory with img.
---@param img dl.Tensor
---@param x integer
---@param y integer
---@param width integer
---@param height integer
---@return dl.Tensor
function M.crop(img, x, y, width, height)
  check_image(img, 1, 'crop')
  check_int(x, 0, 2, 'crop', 'x')
  check_int(y, 0, 3, 'crop', 'y')
  check_int(width, 1, 4, 'crop', 'width')
  check_int(height, 1, 5, 'crop', 'height')
  local rc = C.dl_image_crop(box, img, x, y, width, height, err)
  if rc < 0 then raise(rc) end
  return adopt(box[0])
end

--- A view of the centred width×height region (placed as torchvision's center_crop does).
---@param img dl.Tensor
---@param width integer
---@param height? integer defaults to width
---@return dl.Tensor
function M.center_crop(img, width, height)
  check_image(img, 1, 'center_crop')
  check_int(width, 1, 2, 'center_crop', 'width')
  height = height == nil and width or check_int(height, 1, 3, 'center_crop', 'height')
  local rc = C.dl_image_center_crop(box, img, width, height, err)
  if rc < 0 then raise(rc) end
  return adopt(box[0])
end

---@class dl.image.Letterbox
---@field scale number resized size / source size
---@field x integer left padding in result pixels
---@field y integer top padding
---@field width integer size of the image inside the result
---@field height integer

--- Resizes img to fit width×height keeping its aspect ratio, centred, padded with `pad`
--- (default 114). A point (px, py) of the result maps back to the source as
--- ((px - box.x) / box.scale, (py - box.y) / box.scale).
---@param img dl.Tensor
---@param width integer
---@param height integer
---@param options? {pad?: integer, mode?: 'bilinear'|'box'}
---@return dl.Tensor
---@return dl.image.Letterbox box
function M.letterbox(img, width, height, options)
  check_image(img, 1, 'letterbox')
  check_int(width, 1, 2, 'letterbox', 'width')
  check_int(height, 1, 3, 'letterbox', 'height')
  options = options or {}
  if type(options) ~= 'table' then
    error(format("bad argument #4 to 'letterbox' (options table expected, got %s)", type(options)), 2)
  end
  local pad = options.pad == nil and 114 or options.pad
  if not (is_int(pad) and pad >= 0 and pad <= 255) then
    error(format("bad argument #4 to 'letterbox' (pad must be 0..255, got %s)", tostring(pad)), 2)
  end
  local rc = C.dl_image_letterbox(box, img, width, height, check_mode(options.mode, 4, 'letterbox'), pad, where,
    err)
  if rc < 0 then raise(rc) end
  local out = adopt(box[0])
  return out, { scale = where.scale, x = where.x, y = where.y, width = where.width, height = where.height }
end

-- Copies per-channel values (a number, or a table of 1 or C numbers) into buf.
local function channel_values(v, C_, buf, name)
  if type(v) == 'number' then v = { v } end
  if type(v) ~= 'table' or (#v ~= 1 and #v ~= C_) then
    error(format("bad argument #2 to 'to_tensor' (%s must be a number or a list of 1 or %d numbers)", name, C_), 3)
  end
  for c = 1, C_ do
    local x = v[#v == 1 and 1 or c]
    if type(x) ~= 'number' then
      error(format("bad argument #2 to 'to_tensor' (%s[%d] is %s, not a number)", name, c, type(x)), 3)
    end
    buf[c - 1] = x
  end
  return buf
end

--- The image as a C×H×W f32 tensor of (x / 255 - mean[c]) / std[c] (without options, x / 255).
---@param img dl.Tensor u8 H×W×C
---@param options? {mean?: number|number[], std?: number|number[]}
---@return dl.Tensor
function M.to_tensor(img, options)
  check_image(img, 1, 'to_tensor')
  options = options or {}
  if type(options) ~= 'table' then
    error(format("bad argument #2 to 'to_tensor' (options table expected, got %s)", type(options)), 2)
  end
  local shape = img:size()
  local c = shape[3]
  if img:dim() ~= 3 or c == nil or c < 1 or c > 4 then
    error(format("bad argument #1 to 'to_tensor' (H×W×C image with C of 1..4 expected, got %s)",
      table.concat(shape, '×')), 2)
  end
  local mean = options.mean ~= nil and channel_values(options.mean, c, mean_buf, 'mean') or nil
  local std = options.std ~= nil and channel_values(options.std, c, std_buf, 'std') or nil
  local out = tensor.empty({ c, shape[1], shape[2] }, 'f32')
  local rc = C.dl_image_normalize_into(out, img, mean, std, err)
  if rc < 0 then raise(rc) end
  return out
end

-- Encodes img and returns the file's bytes as a string.
local function encode(img, format_id, quality)
  local rc = C.dl_image_encode(box, img, format_id, quality, err)
  if rc < 0 then raise(rc) end
  local bytes = adopt(box[0])
  local s = ffi.string(bytes.ptr, tonumber(bytes.numel))
  bytes:free()
  return s
end

local function check_quality(q, argn, fname)
  if q == nil then return 0 end
  if not (is_int(q) and q >= 1 and q <= 100) then
    error(format("bad argument #%d to '%s' (quality must be 1..100, got %s)", argn, fname, tostring(q)), 3)
  end
  return q
end

--- The image as PNG file bytes (1..4 channels).
---@param img dl.Tensor
---@return string
function M.encode_png(img)
  check_image(img, 1, 'encode_png')
  return encode(img, C.DL_IMAGE_PNG, 0)
end

--- The image as JPEG file bytes at quality 1..100 (default 75, as PIL). Alpha is dropped.
---@param img dl.Tensor
---@param quality? integer
---@return string
function M.encode_jpeg(img, quality)
  check_image(img, 1, 'encode_jpeg')
  return encode(img, C.DL_IMAGE_JPEG, check_quality(quality, 2, 'encode_jpeg'))
end

-- Saves img; an I/O failure is an expected one (nil, err), anything else misuse.
local function save(img, path, format_id, quality)
  local rc = C.dl_image_save(img, path, format_id, quality, err)
  if rc == C.DL_E_IO then return nil, message(rc) end
  if rc < 0 then raise(rc) end
  return true
end

--- Writes the image to path as a PNG.
---@param img dl.Tensor
---@param path string
---@return boolean|nil ok
---@return string|nil err
function M.save_png(img, path)
  check_image(img, 1, 'save_png')
  if type(path) ~= 'string' then
    error(format("bad argument #2 to 'save_png' (string expected, got %s)", type(path)), 2)
  end
  return save(img, path, C.DL_IMAGE_PNG, 0)
end

--- Writes the image to path as a JPEG at quality 1..100 (default 75).
---@param img dl.Tensor
---@param path string
---@param quality? integer
---@return boolean|nil ok
---@return string|nil err
function M.save_jpeg(img, path, quality)
  check_image(img, 1, 'save_jpeg')
  if type(path) ~= 'string' then
    error(format("bad argument #2 to 'save_jpeg' (string expected, got %s)", type(path)), 2)
  end
  return save(img, path, C.DL_IMAGE_JPEG, check_quality(quality, 3, 'save_jpeg'))
end

-- Every tensor gets the image ops as methods: img:resize(224, 224):to_tensor{...}.
local methods = tensor.methods
for _, name in pairs({ 'resize', 'crop', 'center_crop', 'letterbox', 'to_tensor', 'encode_png', 'encode_jpeg',
  'save_png', 'save_jpeg' }) do
  methods[name] = M[name]
end

return M
