-- Specs for lua/dl/adapter.lua and the host glue that configures `self`.
local dl = require 'dl'
local adapter = require 'dl.adapter'
local host = require 'dl.host'
local cjson = require 'cjson'

describe('dl.Adapter', function()
  it('keeps the spec and defaults the name to the file name', function()
    local A = dl.Adapter { configuration = { batch_size = 8 } }
    assert.equals('adapter_spec', A.name)
    assert.equals('class', A.output_type)
    assert.same({ batch_size = 8 }, A.configuration)
    assert.is_true(adapter.is_adapter(A))
    assert.is_false(adapter.is_adapter({}))
  end)

  it('rejects fields of the wrong type, naming the field', function()
    assert.has_error(function() dl.Adapter { name = 3 } end, "dl.Adapter: field 'name' must be a string (got number)")
    assert.has_error(function() dl.Adapter 'x' end, 'bad argument #1 to dl.Adapter (table expected, got string)')
    assert.has_error(function() dl.Adapter { output_type = 'cls' } end)
    assert.has_error(function() dl.Adapter { input = { type = 'image', size = 28 } } end,
      'dl.Adapter: input.size must be {width, height}')
  end)

  it('rejects unknown fields, naming them and listing the known ones, at the caller\'s line', function()
    local line = debug.getinfo(1, 'l').currentline
    local ok, err = pcall(function() local _ = dl.Adapter { inputs = { size = { 4, 4 } }, configuraton = {} } end)
    assert.is_false(ok)
    assert.equals('spec/dl/adapter_spec.lua:' .. (line + 1) .. ": dl.Adapter: unknown fields 'configuraton', "
      .. "'inputs' (known: name, input, output_type, labels, configuration)", err)
    ok, err = pcall(function() local _ = dl.Adapter { input = { type = 'image', sise = { 4, 4 } } } end)
    assert.is_false(ok)
    assert.equals('spec/dl/adapter_spec.lua:' .. (line + 5) .. ": dl.Adapter: unknown field 'input.sise' "
      .. '(known: type, size, channels, layout, dtype, mean, std, resize, fit, pad)', err)
    assert.has_error(function() dl.Adapter { [1] = 'fashion' } end,
      "dl.Adapter: unknown field '1' (known: name, input, output_type, labels, configuration)")
  end)

  it('asks for user functions to be defined as methods, not spec fields', function()
    local ok, err = pcall(dl.Adapter, { predict = function() end })
    assert.is_false(ok)
    assert.matches("define 'predict' as a function on the adapter", err)
  end)

  it('lists the user functions it defines, counting prepare_item_func', function()
    local A = dl.Adapter { name = 'a' }
    function A:load() end
    function A:prepare_item_func() end
    assert.same({ 'load', 'prepare_item_func' }, adapter.defined_functions(A))
  end)

  it('builds label maps with ids from 1, from strings or platform label objects', function()
    local names, id_to_label, label_to_id = adapter.label_maps({ 'cat', { tag = 'dog', color = '#ff0000' } })
    assert.same({ 'cat', 'dog' }, names)
    assert.same({ [1] = 'cat', [2] = 'dog' }, id_to_label)
    assert.same({ cat = 1, dog = 2 }, label_to_id)
    assert.has_error(function() adapter.label_maps({ 42 }) end)
  end)
end)

describe('dl.host.validate', function()
  it('refuses a value that is not a dl.Adapter', function()
    local a, err = host.validate({}, 'x.lua', 'predict', { 'load', 'predict' })
    assert.is_nil(a)
    assert.matches('x.lua must return a dl.Adapter, but it returned a plain table', err, 1, true)
    a, err = host.validate(nil, 'x.lua', 'predict', {})
    assert.matches('returned nothing', err, 1, true)
  end)

  it('names the command, the missing function and what the adapter defines', function()
    local A = dl.Adapter { name = 'a' }
    function A:load() end
    function A:train() end
    local a, err = host.validate(A, 'x.lua', 'predict', { 'load', 'predict' })
    assert.is_nil(a)
    assert.equals("x.lua: 'predict' needs the user functions load, predict, but the adapter does not define predict "
      .. '(it defines: load, train)', err)
  end)

  it('accepts prepare_item_func as prepare_item', function()
    local A = dl.Adapter { name = 'a' }
    function A:prepare_item_func(item) return item end
    assert.equals(A, host.validate(A, 'x.lua', 'predict', {}))
    assert.equals(A.prepare_item_func, A.prepare_item)
  end)
end)

describe('dl.host.configure', function()
  local function make()
    return dl.Adapter { name = 'm', labels = { 'a', 'b' },
      configuration = { batch_size = 64, lr = 0.1, opt = { beta = 0.9, eps = 1e-8 }, sizes = { 1, 2 } } }
  end

  it('merges adapter defaults, then the model entity, then --config', function()
    local A = make()
    local entity = cjson.encode({ configuration = { lr = 0.5, opt = { beta = 0.95 }, sizes = { 7 } } })
    host.configure(A, entity, { 'batch_size=8', 'opt.eps=1e-6', 'name="x y"', 'tag=plain text' })
    assert.same({ batch_size = 8, lr = 0.5, opt = { beta = 0.95, eps = 1e-6 }, sizes = { 7 },
      name = 'x y', tag = 'plain text' }, A.configuration)
  end)

  it('parses JSON values and falls back to strings', function()
    local A = make()
    host.configure(A, nil, { 'flag=true', 'list=[1,2,3]', 'obj={"k":1}', 'word=hello', 'lr=null' })
    assert.is_true(A.configuration.flag)
    assert.same({ 1, 2, 3 }, A.configuration.list)
    assert.same({ k = 1 }, A.configuration.obj)
    assert.equals('hello', A.configuration.word)
    assert.is_nil(A.configuration.lr)
  end)

  it('creates nested tables for dotted keys and refuses to descend into a value', function()
    local A = make()
    host.configure(A, nil, { 'a.b.c=3' })
    assert.equals(3, A.configuration.a.b.c)
    assert.has_error(function() host.configure(make(), nil, { 'lr.x=1' }) end,
      "--config 'lr.x=1': 'lr' is a number, not a table")
    assert.has_error(function() host.configure(make(), nil, { '=1' }) end)
  end)

  it('keeps the type of a number, boolean or table already in the configuration', function()
    assert.has_error(function() host.configure(make(), nil, { 'batch_size=6o' }) end,
      "--config 'batch_size=6o': batch_size is a number in the configuration (64), but '6o' is a string")
    assert.has_error(function() host.configure(make(), nil, { 'sizes=3' }) end,
      "--config 'sizes=3': sizes is a list in the configuration ([1,2]), but '3' is a number")
    assert.has_error(function() host.configure(make(), nil, { 'opt=adam' }) end)
    local A = make()
    host.configure(A, cjson.encode({ configuration = { device = 'cpu' } }),
      { 'batch_size=8.5', 'sizes=[3]', 'device=0', 'fresh=word', 'lr=null' })
    assert.same({ 8.5, { 3 }, 0, 'word' }, { A.configuration.batch_size, A.configuration.sizes,
      A.configuration.device, A.configuration.fresh })
  end)

  it('check_overrides answers with the message, and changes nothing', function()
    local A = make()
    assert.is_nil(host.check_overrides(A, { 'batch_size=8', 'a.b=1' }))
    assert.equals("--config 'lr.x=1': 'lr' is a number, not a table", host.check_overrides(A, { 'batch_size=8', 'lr.x=1' }))
    assert.matches('must look like KEY=VALUE', host.check_overrides(A, { 'nokey' }))
    assert.equals(64, A.configuration.batch_size)
    assert.is_nil(A.configuration.a)
  end)

  it('never writes defaults back when a key is read', function()
    local A = make()
    host.configure(A, nil, {})
    local _ = A.configuration.missing_key
    assert.is_nil(rawget(A.configuration, 'missing_key'))
    A.configuration.batch_size = 1
    assert.equals(64, A._defaults.configuration.batch_size)
  end)

  it('takes labels from the model entity when it has them', function()
    local A = make()
    host.configure(A, cjson.encode({ labels = { { tag = 'x' }, { tag = 'y' }, { tag = 'z' } } }), {})
    assert.same({ 'x', 'y', 'z' }, A.labels)
    assert.equals(3, A.label_to_id_map.z)
    host.configure(A, nil, {})
    assert.same({ 'a', 'b' }, A.labels)
    assert.equals('b', A.id_to_label_map[2])
  end)

  it('gives the adapter a logger', function()
    local A = make()
    host.configure(A, nil, {})
    assert.is_function(A.log.info)
    assert.is_function(A.log.error)
  end)
end)

describe('dl.log', function()
  it('formats and writes to its file, both call styles', function()
    local path = os.tmpname()
    local f = assert(io.open(path, 'w'))
    local log = require('dl.log').new('m', { file = f, level = 'error' })
    log.info('%d items', 3)
    log:warn('careful %s', 'now')
    f:close()
    local text = assert(io.open(path)):read('*a')
    os.remove(path)
    assert.matches('%[info%] m: 3 items', text)
    assert.matches('%[warn%] m: careful now', text)
  end)
end)
