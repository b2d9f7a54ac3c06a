--- The `dl` package that adapters require: `local dl = require 'dl'`.
---
--- Submodules load on first use (dl.tensor, dl.image, dl.nn, ...), so a plain
--- `require 'dl'` stays cheap for the cold start of a run.
local adapter = require 'dl.adapter'
local annotations = require 'dl.annotations'

---@class dl
---@field tensor dl.tensor n-dimensional arrays over native storage (loaded on first use)
---@field image dl.image decode, resize, crop and encode images
---@field batch dl.batch batch objects and the native batching pipeline
---@field nn dl.nn layers, losses and initialisation over native kernels
---@field optim dl.optim SGD and Adam
---@field data dl.data datasets for train()
---@field safetensors dl.safetensors read and write .safetensors files
---@field testing dl.testing helpers for adapter specs (dlrun test)
---@field log dl.log the logger behind self.log (dl.log.new)
---@field annotations dl.annotations annotation builders and their conversion to Dataloop JSON
local dl = {
  _VERSION = '0.1.0',
  Adapter = adapter.new,
  classification = annotations.classification,
  box = annotations.box,
  polygon = annotations.polygon,
  polyline = annotations.polyline,
  point = annotations.point,
  segmentation = annotations.segmentation,
}

-- name -> module, resolved lazily by __index below
local lazy = {
  tensor = 'dl.tensor',
  image = 'dl.image',
  batch = 'dl.batch',
  nn = 'dl.nn',
  optim = 'dl.optim',
  data = 'dl.data',
  safetensors = 'dl.safetensors',
  testing = 'dl.testing',
  log = 'dl.log',
  annotations = 'dl.annotations',
}

return setmetatable(dl, {
  __index = function(t, k)
    local mod = lazy[k]
    if not mod then return nil end
    local value = require(mod)
    rawset(t, k, value)
    return value
  end,
})
