-- Specs for __NAME__.lua: `dlrun test` runs them. dl.testing makes images in
-- memory and runs predict as `dlrun __NAME__.lua predict` does: the same
-- preparation, and results checked and converted to Dataloop annotations.
local testing = require 'dl.testing'

describe('__NAME__', function()
  local A = testing.adapter('__NAME__.lua')
  teardown(testing.cleanup)

  local function image(color)
    return testing.image { width = 48, height = 40, color = color, noise = 20 }
  end

  it('labels each image with its dominant colour', function()
    local results = testing.predict(A, { image { 200, 40, 30 }, image { 30, 190, 60 }, image { 20, 50, 210 } })
    assert.are.equal('red', results[1][1].label)
    assert.are.equal('green', results[2][1].label)
    assert.are.equal('blue', results[3][1].label)
  end)

  it('gives one classification per image, confident on clear colours', function()
    local results = testing.predict(A, { image { 250, 0, 0 } })
    assert.are.equal(1, #results[1])
    assert.are.equal('class', results[1][1].type)
    assert.is_true(results[1][1].metadata.user.model.confidence > 0.9)
  end)

  it('saves weights that load reads back', function()
    local dir = testing.tempdir()
    A:save(dir, {})
    local B = testing.adapter('__NAME__.lua', { model_dir = dir })
    assert.are.same(A.weight:totable(), B.weight:totable())
  end)
end)
