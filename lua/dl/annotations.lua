--- Annotation builders for predict results, and their conversion to the
--- Dataloop annotation JSON (spec §3).
---
--- Builders never raise on bad values: predict may be half right, and a bad
--- annotation must fail only its own item. The host validates each item's
--- list with `to_dataloop` after predict returns, and the error names the
--- item, the annotation and the field.
---@class dl.annotations
local M = {}

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local format = string.format

-- Marks tables made by the builders; kept in the registry so reloaded copies
-- of this module agree.
local registry = debug.getregistry()
local mt = registry['dl.annotation.mt']
if not mt then
  mt = { __name = 'dl.annotation' }
  registry['dl.annotation.mt'] = mt
end

---@class dl.Annotation
---@field type 'class'|'box'|'segment'|'polyline'|'point'|'binary'
---@field label string
---@field confidence number in [0, 1]
---@field attributes table|nil
---@field description string|nil

---@class dl.AnnotationExtra
---@field attributes table|nil
---@field description string|nil

local function make(fields, extra)
  if type(extra) == 'table' then
    fields.attributes = extra.attributes
    fields.description = extra.description
  end
  return setmetatable(fields, mt)
end

--- A classification of the whole item.
---@param label string
---@param confidence number in [0, 1]
---@param extra dl.AnnotationExtra|nil
---@return dl.Annotation
function M.classification(label, confidence, extra)
  return make({ type = 'class', label = label, confidence = confidence }, extra)
end

--- A box in pixel coordinates of the original item.
---@param left number
---@param top number
---@param right number
---@param bottom number
---@param label string
---@param confidence number
---@param extra dl.AnnotationExtra|nil
---@return dl.Annotation
function M.box(left, top, right, bottom, label, confidence, extra)
  return make({ type = 'box', left = left, top = top, right = right, bottom = bottom, label = label,
    confidence = confidence }, extra)
end

--- A closed polygon: points as {{x, y}, ...}, {{x = , y = }, ...} or a flat {x1, y1, x2, y2, ...}.
---@param points table
---@param label string
---@param confidence number
---@param extra dl.AnnotationExtra|nil
---@return dl.Annotation
function M.polygon(points, label, confidence, extra)
  return make({ type = 'segment', points = points, label = label, confidence = confidence }, extra)
end

--- An open polyline; points as for polygon.
---@return dl.Annotation
---@param points table
---@param label string
---@param confidence number in [0, 1]
---@param extra dl.AnnotationExtra|nil
function M.polyline(points, label, confidence, extra)
  return make({ type = 'polyline', points = points, label = label, confidence = confidence }, extra)
end

--- A single point.
---@return dl.Annotation
---@param x number
---@param y number
---@param label string
---@param confidence number in [0, 1]
---@param extra dl.AnnotationExtra|nil
function M.point(x, y, label, confidence, extra)
  return make({ type = 'point', x = x, y = y, label = label, confidence = confidence }, extra)
end

--- A binary mask: a u8 tensor H×W (or H×W×1); non-zero pixels belong to the label.
---@param mask dl.Tensor
---@return dl.Annotation
---@param label string
---@param confidence number in [0, 1]
---@param extra dl.AnnotationExtra|nil
function M.segmentation(mask, label, confidence, extra)
  return make({ type = 'binary', mask = mask, label = label, confidence = confidence }, extra)
end

---------------------------------------------------------------- validation

local function is_finite(v) return type(v) == 'number' and v == v and v ~= math.huge and v ~= -math.huge end

local function describe_number(v)
  if type(v) ~= 'number' then return format('a %s', type(v)) end
  if v ~= v then return 'NaN' end
  return tostring(v)
end

-- Raised inside to_dataloop and caught there; carries the field name.
local function bad(field, fmt, ...)
  error({ field = field, msg = format(fmt, ...) }, 0)
end

local function check_number(ann, field)
  local v = ann[field]
  if not is_finite(v) then bad(field, 'must be a finite number (got %s)', describe_number(v)) end
  return v
end

local function point_xy(p, i)
  if type(p) ~= 'table' then bad('points', 'point %d must be a table {x, y} (got a %s)', i, type(p)) end
  local x, y = p.x or p[1], p.y or p[2]
  if not is_finite(x) or not is_finite(y) then
    bad('points', 'point %d must have finite x and y (got %s, %s)', i, describe_number(x), describe_number(y))
  end
  return x, y
end

local function read_points(ann, min_points)
  local pts = ann.points
  if type(pts) ~= 'table' then bad('points', 'must be a list of points (got a %s)', type(pts)) end
  local out = {}
  if type(pts[1]) == 'number' then -- flat x1, y1, x2, y2, ...
    if #pts % 2 ~= 0 then bad('points', 'a flat list needs an even count of numbers (got %d)', #pts) end
    for i = 1, #pts, 2 do
      local x, y = pts[i], pts[i + 1]
      if not is_finite(x) or not is_finite(y) then
        bad('points', 'point %d must have finite x and y (got %s, %s)', (i + 1) / 2, describe_number(x), describe_number(y))
      end
      out[#out + 1] = { x = x, y = y }
    end
  else
    for i, p in ipairs(pts) do
      local x, y = point_xy(p, i)
      out[i] = { x = x, y = y }
    end
  end
  if #out < min_points then bad('points', 'needs at least %d points (got %d)', min_points, #out) end
  return out
end

local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

--- Base64 (RFC 4648, padded) of a byte string.
---@param s string
---@return string
function M.base64(s)
  local bit = require 'bit'
  local band, rshift, lshift, bor = bit.band, bit.rshift, bit.lshift, bit.bor
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = bor(lshift(a, 16), lshift(b or 0, 8), c or 0)
    local c1, c2 = band(rshift(v, 18), 63) + 1, band(rshift(v, 12), 63) + 1
    local c3, c4 = band(rshift(v, 6), 63) + 1, band(v, 63) + 1
    out[#out + 1] = B64:sub(c1, c1) .. B64:sub(c2, c2) .. (b and B64:sub(c3, c3) or '=') .. (c and B64:sub(c4, c4) or '=')
  end
  return table.concat(out)
end

--- A stable colour for a label without a configured one.
local function default_color(label)
  local h = 0
  for i = 1, #label do h = (h * 31 + label:byte(i)) % 16777216 end
  return { 64 + h % 192, 64 + math.floor(h / 256) % 192, 64 + math.floor(h / 65536) % 192 }
end

local function parse_hex_color(c)
  if type(c) == 'table' then return c end
  if type(c) ~= 'string' then return nil end
  local r, g, b = c:match('^#?(%x%x)(%x%x)(%x%x)$')
  if not r then return nil end
  return { tonumber(r, 16), tonumber(g, 16), tonumber(b, 16) }
end

-- The mask as a data URL of an RGBA PNG: the label's colour, alpha 255 where set.
local function mask_to_png_url(mask, color)
  local tensor, image = require 'dl.tensor', require 'dl.image'
  if not tensor.is_tensor(mask) then bad('mask', 'must be a u8 tensor H×W (got a %s)', type(mask)) end
  if mask:type() ~= 'u8' then bad('mask', 'must be a u8 tensor (got %s)', mask:type()) end
  local shape = mask:size()
  if not (#shape == 2 or (#shape == 3 and shape[3] == 1)) then
    bad('mask', 'must be H×W or H×W×1 (got %s)', table.concat(shape, '×'))
  end
  local h, w = shape[1], shape[2]
  local src = mask:contiguous()
  local rgba = tensor.new({ h, w, 4 }, 'u8')
  local s, d = src:data(), rgba:data()
  local r, g, b = color[1], color[2], color[3]
  for i = 0, h * w - 1 do
    if s[i] ~= 0 then
      d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3] = r, g, b, 255
    end
  end
  local png, err = image.encode_png(rgba)
  if not png then bad('mask', 'cannot encode the mask as PNG: %s', err) end
  return 'data:image/png;base64,' .. M.base64(png)
end

local function coordinates(ann, ctx)
  local t = ann.type
  if t == 'class' then return nil end
  if t == 'box' then
    local l, tp, r, b = check_number(ann, 'left'), check_number(ann, 'top'), check_number(ann, 'right'),
      check_number(ann, 'bottom')
    if r < l then bad('right', 'right (%s) is left of left (%s)', r, l) end
    if b < tp then bad('bottom', 'bottom (%s) is above top (%s)', b, tp) end
    return { { x = l, y = tp, z = 0 }, { x = r, y = b, z = 0 } }
  end
  if t == 'point' then
    return { x = check_number(ann, 'x'), y = check_number(ann, 'y'), z = 0 }
  end
  if t == 'segment' then return { read_points(ann, 3) } end
  if t == 'polyline' then return { read_points(ann, 2) } end
  if t == 'binary' then
    local color = parse_hex_color(ctx.label_colors and ctx.label_colors[ann.label]) or default_color(ann.label)
    return mask_to_png_url(ann.mask, color)
  end
  bad('type', "unknown annotation type '%s' (class, box, segment, polyline, point, binary)", tostring(t))
end

local function convert(ann, ctx)
  if type(ann) ~= 'table' then bad('type', 'must be an annotation table (got a %s)', type(ann)) end
  if type(ann.type) ~= 'string' then bad('type', 'is missing (build annotations with dl.box, dl.classification, ...)') end
  if type(ann.label) ~= 'string' or ann.label == '' then
    bad('label', 'must be a non-empty string (got %s)', type(ann.label) == 'string' and '""' or type(ann.label))
  end
  local conf = ann.confidence
  if not is_finite(conf) or conf < 0 or conf > 1 then
    bad('confidence', 'must be a number in [0, 1] (got %s)', describe_number(conf))
  end
  if ann.attributes ~= nil and type(ann.attributes) ~= 'table' then
    bad('attributes', 'must be a table (got a %s)', type(ann.attributes))
  end
  if ann.description ~= nil and type(ann.description) ~= 'string' then
    bad('description', 'must be a string (got a %s)', type(ann.description))
  end
  local coords = coordinates(ann, ctx)
  local model = { name = ctx.model_name, model_id = ctx.model_id, confidence = conf }
  return {
    type = ann.type,
    label = ann.label,
    attributes = ann.attributes or {},
    coordinates = coords,
    description = ann.description,
    metadata = {
      system = { automated = true, model = model },
      user = { model = model },
    },
  }
end

--- Validates one item's predict result and converts it to Dataloop
--- annotation tables (without ids: the writer assigns stable ids).
---@param result any what predict returned for this item
---@param ctx {model_name: string, model_id: string|nil, label_colors: table|nil}
---@return table[]|nil annotations
---@return string|nil err names the annotation and the field
function M.to_dataloop(result, ctx)
  if type(result) ~= 'table' then
    return nil, format('expected a list of annotations (got a %s)', type(result))
  end
  if getmetatable(result) == mt then
    return nil, 'expected a list of annotations, got a single annotation (wrap it: {dl.box(...)})'
  end
  local n = #result
  for k in pairs(result) do
    if type(k) ~= 'number' or k < 1 or k > n or k % 1 ~= 0 then
      return nil, format("expected a list of annotations, but it has the key '%s'", tostring(k))
    end
  end
  local out = {}
  for i = 1, n do
    local ok, v = pcall(convert, result[i], ctx)
    if not ok then
      if type(v) == 'table' and v.field then
        local t = type(result[i]) == 'table' and result[i].type
        return nil, format("annotation %d%s: field '%s' %s", i, t and (' (' .. tostring(t) .. ')') or '', v.field, v.msg)
      end
      return nil, format('annotation %d: %s', i, tostring(v))
    end
    out[i] = v
  end
  return out
end

return M
