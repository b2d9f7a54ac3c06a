-- dl.watch, the Lua half of --watch: which fields load set and how they move
-- to a fresh adapter, and the fingerprints that decide whether load runs
-- again. (The copy between lua_States and inotify are tested end to end in
-- tests/e2e/test_watch.sh.)
local watch = require 'dl.watch'
local testing = require 'dl.testing'
local tensor = require 'dl.tensor'
local nn = require 'dl.nn'

local function write_file(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function new_adapter()
  return require('dl').Adapter { name = 'w', configuration = { k = 1 } }
end

-- Releases the tensor headers an export handed over (the host releases them after a
-- reload; a spec must do it itself).
local function release(state)
  local ffi, C = require 'ffi', require('dl.native').C
  for _, address in ipairs(state.tensors) do C.dl_tensor_release(ffi.cast('dl_tensor *', address)) end
end

-- An adapter file's A, its load defined by load_body (after a helper).
local function adapter_from(dir, name, text)
  local path = dir .. '/' .. name
  write_file(path, "local dl = require 'dl'\nlocal A = dl.Adapter { name = 'w' }\n" .. text .. '\nreturn A\n')
  return assert(loadfile(path))()
end

describe('dl.watch', function()
  teardown(testing.cleanup)

  describe('export and import', function()
    it('move the fields load set, with their shape, and nothing else', function()
      local a = new_adapter()
      a.untouched = 'before load'
      local before = watch.fields(a)
      local shared = { 1, 2, { x = 'y' } }
      local cycle = {}
      cycle.me = cycle
      a.shared, a.again, a.cycle, a.n, a.flag = shared, shared, cycle, 42, false
      a.back = { adapter = a }
      local state = assert(watch.export(a, before))
      assert.are.equal(6, watch.count(state))
      local b = new_adapter()
      assert.is_true(watch.import(b, state))
      assert.are.same({ 1, 2, { x = 'y' } }, b.shared)
      assert.are.equal(b.shared, b.again)          -- still one table
      assert.are.equal(b.cycle, b.cycle.me)        -- still a cycle
      assert.are.equal(42, b.n)
      assert.is_false(b.flag)
      assert.are.equal(b, b.back.adapter)          -- the adapter is the new one
      assert.is_nil(b.untouched)
      assert.are_not.equal(shared, b.shared)       -- copies, not the old tables
    end)

    it('share tensor storage instead of copying it', function()
      local a = new_adapter()
      local before = watch.fields(a)
      a.weights = { w = tensor.from_table({ 1, 2, 3 }) }
      local state = assert(watch.export(a, before))
      local b = new_adapter()
      assert.is_true(watch.import(b, state))
      assert.are.same({ 1, 2, 3 }, b.weights.w:totable())
      a.weights.w:set(2, 20)
      assert.are.equal(20, b.weights.w:get(2))
      release(state)
    end)

    it('give objects the metatable their class has in the loaded code', function()
      local a = new_adapter()
      local before = watch.fields(a)
      nn.manual_seed(3)
      a.model = nn.Sequential(nn.Linear(4, 2), nn.ReLU())
      local x = tensor.from_table({ { 1, 2, 3, 4 } })
      local want = a.model:forward(x):totable()
      local state = assert(watch.export(a, before))
      local b = new_adapter()
      assert.is_true(watch.import(b, state))
      assert.are.equal(getmetatable(a.model), getmetatable(b.model))
      assert.are.same(want, b.model:forward(x):totable())
      release(state)
    end)

    it('refuse a value that cannot move, naming the field', function()
      local a = new_adapter()
      local before = watch.fields(a)
      a.model = { forward = function() end }
      local state, err = watch.export(a, before)
      assert.is_nil(state)
      assert.are.equal('self.model.forward is a function, which cannot move to a fresh Lua state', err)
    end)

    it('refuse a metatable that nothing names', function()
      local a = new_adapter()
      local before = watch.fields(a)
      a.obj = setmetatable({}, { __index = {} })
      local state, err = watch.export(a, before)
      assert.is_nil(state)
      assert.matches('self.obj has a metatable that no loaded module or registry entry holds', err, 1, true)
    end)
  end)

  describe('load_fingerprint', function()
    local dir = testing.tempdir()
    local function fp(name, text) return watch.load_fingerprint(adapter_from(dir, name, text)) end

    local base = [[
local function read(path) return path .. '/w' end
function A:load(path) self.w = read(path) end
function A:predict(batch) return {} end]]

    it('changes with the text of load and of the helpers it calls', function()
      local a = fp('a.lua', base)
      assert.are_not.equal(a, fp('b.lua', (base:gsub("path %.%. '/w'", "path .. '/v'"))))
      assert.are_not.equal(a, fp('c.lua', (base:gsub('self.w = read', 'self.v = read'))))
    end)

    it('stays when only predict changes or lines move', function()
      local a = fp('d.lua', base)
      local moved = '-- a comment\n\n' .. base:gsub('return {}', 'return { {} }')
      assert.are.equal(a:gsub('d%.lua:%d+%-%d+', ''), fp('e.lua', moved):gsub('e%.lua:%d+%-%d+', ''))
    end)
  end)

  describe('config_fingerprint', function()
    it('compares configurations by value, whatever the order keys were set in', function()
      local a, b = new_adapter(), new_adapter()
      a.configuration = { lr = 0.1, layers = { 3, 4 }, opt = { beta = 0.9, eps = 1e-8 } }
      b.configuration = {}
      b.configuration.opt = { eps = 1e-8 }
      b.configuration.layers = { 3, 4 }
      b.configuration.opt.beta = 0.9
      b.configuration.lr = 0.1
      assert.are.equal(watch.config_fingerprint(a), watch.config_fingerprint(b))
      b.configuration.layers[2] = 5
      assert.are_not.equal(watch.config_fingerprint(a), watch.config_fingerprint(b))
      b.configuration.layers[2] = 4
      b.labels = { 'x' }
      assert.are_not.equal(watch.config_fingerprint(a), watch.config_fingerprint(b))
    end)
  end)
end)
