-- Specs for adapters_lua/fashion_mlp.lua (checks in spec/support/fashion_adapter.lua).
local check = require 'spec.support.fashion_adapter'

local ADAPTER = 'adapters_lua/fashion_mlp.lua'

describe('fashion_mlp adapter', function()
  it('trains from scratch, reports every epoch, saves, and a fresh copy predicts the classes', function()
    check.train_save_predict(ADAPTER, 6)
  end)

  it('names the weights file that does not fit the network', function() check.misfit_weights(ADAPTER) end)
end)
