-- Specs for __NAME__.lua: `dlrun test` runs them. dl.testing makes images in
-- memory and runs embed as `dlrun __NAME__.lua embed` does: the same
-- preparation, and the vectors checked as a run checks them.
local testing = require 'dl.testing'

local function cosine(a, b)
  local dot = 0
  for i = 1, #a do dot = dot + a[i] * b[i] end
  return dot -- the vectors have unit length
end

describe('__NAME__', function()
  local A = testing.adapter('__NAME__.lua')
  teardown(testing.cleanup)

  local function image(color, seed)
    return testing.image { width = 40, height = 30, color = color, noise = 25, seed = seed }
  end

  it('gives unit vectors of embeddings_size values', function()
    local v = testing.embed(A, { image({ 200, 40, 30 }, 1) })[1]
    assert.are.equal(A.configuration.embeddings_size, #v)
    assert.are.near(1, cosine(v, v), 1e-6) -- float32 values
  end)

  it('puts similar colours closer than different ones', function()
    local v = testing.embed(A, { image({ 200, 40, 30 }, 1), image({ 210, 50, 20 }, 2), image({ 20, 50, 210 }, 3) })
    assert.is_true(cosine(v[1], v[2]) > cosine(v[1], v[3]))
  end)
end)
