-- Builds a small training subset on disk, in the layout train_model prepares
-- (dir/items/<remote path> + dir/json/<remote path>.json), from 28×28
-- grayscale PNGs drawn here: a 'Trouser' is a vertical bar, a 'Bag' a
-- horizontal one, each with its own speckle so no two images are equal.
local dl = require 'dl'
local cjson = require 'cjson'

local M = {}

function M.temp_dir()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p '" .. path .. "'") == 0)
  return path
end

function M.remove(dir) os.execute("rm -rf '" .. dir .. "'") end

-- A 28×28×1 u8 image of the class, speckled by seed.
function M.image(label, seed)
  local img = dl.tensor.new({ 28, 28, 1 }, 'u8')
  local p = img:data()
  local s = seed
  for y = 0, 27 do
    for x = 0, 27 do
      s = (s * 1103515245 + 12345) % 2147483648
      local v = s % 40
      local on = label == 'Trouser' and (x >= 11 and x <= 16) or (label == 'Bag' and y >= 11 and y <= 16)
      p[y * 28 + x] = on and 255 - v or v
    end
  end
  return img
end

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

-- Writes n items per label under dir (items/<sub>/<label><i>.png); extra
-- annotations (a table label -> list of annotation tables) join each
-- document's ground-truth class annotation. Returns the remote paths.
function M.make(dir, labels, n, sub, seed)
  sub = sub or 'train'
  os.execute(string.format("mkdir -p '%s/items/%s' '%s/json/%s'", dir, sub, dir, sub))
  local remote = {}
  for k, label in ipairs(labels) do
    for i = 1, n do
      local name = string.format('%s%02d', label:gsub('[^%w]', ''), i)
      local filename = string.format('/%s/%s.png', sub, name)
      assert(dl.image.save_png(M.image(label, (seed or 7) * 1000 + k * 100 + i), dir .. '/items' .. filename))
      write(string.format('%s/json/%s/%s.json', dir, sub, name), cjson.encode({
        id = name, filename = filename,
        annotations = { { id = 'a' .. name, type = 'class', label = label, metadata = { system = {} } } },
      }))
      remote[#remote + 1] = filename
    end
  end
  return remote
end

return M
