-- Specs for __NAME__.lua: `dlrun test` runs them. dl.testing makes images in
-- memory and runs predict as `dlrun __NAME__.lua predict` does: the same
-- preparation, and results checked and converted to Dataloop annotations.
local testing = require 'dl.testing'

describe('__NAME__', function()
  local A = testing.adapter('__NAME__.lua')
  teardown(testing.cleanup)

  it('boxes the bright rectangle of an image', function()
    local img = testing.image { width = 64, height = 48, color = { 20, 20, 30 },
      rects = { { x = 10, y = 5, width = 20, height = 12, color = { 240, 230, 220 } } } }
    local results = testing.predict(A, { img })
    assert.are.equal(1, #results[1])
    local box = results[1][1]
    assert.are.equal('box', box.type)
    assert.are.equal('object', box.label)
    -- columns 10..29 and rows 5..16, as pixel edges
    assert.are.same({ { x = 10, y = 5, z = 0 }, { x = 30, y = 17, z = 0 } }, box.coordinates)
    assert.are.equal(1, box.metadata.user.model.confidence)
  end)

  it('finds nothing in a dark image', function()
    local results = testing.predict(A, { testing.image { width = 16, height = 16, color = { 10, 10, 10 } } })
    assert.are.same({}, results[1])
  end)
end)
