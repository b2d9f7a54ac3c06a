-- The LuaCATS annotations of the dl package, which editors (lua-language-server)
-- use to complete and type-check adapters: every public function documents its
-- parameters and results, every dl.* type an annotation names is declared, and
-- each submodule that `dl` loads lazily has a typed field. The checks read the
-- source files; they need no language server.
local fs = require 'dl._fs'

local dl_dir = package.searchpath('dl', package.path):match('^(.*)/init%.lua$')

local function lines_of(path)
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  return lines
end

-- The package's source files (the scaffold's templates are not part of the API).
local function sources()
  local out = {}
  for _, rel in ipairs(assert(fs.list_files(dl_dir))) do
    if rel:match('%.lua$') and not rel:match('^templates/') then out[#out + 1] = rel end
  end
  return out
end

-- The annotation lines right above line i.
local function doc_above(lines, i)
  local doc, j = {}, i - 1
  while j > 0 and lines[j]:match('^%-%-%-') do
    table.insert(doc, 1, lines[j])
    j = j - 1
  end
  return table.concat(doc, '\n')
end

-- Whether the function defined at line i returns a value from its own body
-- (returns inside nested functions do not count).
local function returns_value(lines, i)
  if lines[i]:match('%send%s*$') and not lines[i]:match('function%s*%(.-%)%s*$') then
    return lines[i]:match('%sreturn%s+[^%s]') ~= nil
  end
  local nested
  for k = i + 1, #lines do
    local l = lines[k]
    if l:match('^end') then return false end
    local indent = #l:match('^(%s*)')
    if nested then
      if indent == nested and l:match('^%s*end') then nested = nil end
    elseif l:match('^%s+return%s+[^%s]') then
      return true
    elseif l:match('function[%s%w_.:]*%(.-%)%s*$') then
      nested = indent
    end
  end
  return false
end

-- The type at the start of an annotation's text, without the description that
-- follows: "fun(a: T): R the sum" gives "fun(a: T): R".
local function type_part(text)
  local depth, i, n = 0, 1, #text
  while i <= n do
    local c = text:sub(i, i)
    if c == '(' or c == '{' or c == '<' or c == '[' then depth = depth + 1
    elseif c == ')' or c == '}' or c == '>' or c == ']' then depth = depth - 1
    elseif c:match('%s') and depth == 0 then
      local before, after = text:sub(i - 1, i - 1), text:match('^%s*(.)', i)
      if not (before == ':' or before == ',' or before == '|' or after == '|') then return text:sub(1, i - 1) end
    end
    i = i + 1
  end
  return text
end

describe('LuaCATS annotations of the dl package', function()
  it('document every parameter and result of every public function', function()
    local missing = {}
    for _, rel in ipairs(sources()) do
      local lines = lines_of(dl_dir .. '/' .. rel)
      for i, l in ipairs(lines) do
        local name, params = l:match('^function ([%w_.:]+)%((.-)%)')
        -- ops.* are metamethod bodies; names starting with _ are private
        if name and not name:match('^ops%.') and not name:match('[.:]_') then
          local doc, problems = doc_above(lines, i), {}
          for p in params:gmatch('[%w_]+') do
            if not doc:match('@param%s+' .. p .. '%??%s') then problems[#problems + 1] = '@param ' .. p end
          end
          if params:match('%.%.%.') and not doc:match('@param%s+%.%.%.') then problems[#problems + 1] = '@param ...' end
          if returns_value(lines, i) and not doc:match('@return') then problems[#problems + 1] = '@return' end
          if #problems > 0 then
            missing[#missing + 1] = string.format('%s:%d %s lacks %s', rel, i, name, table.concat(problems, ', '))
          end
        end
      end
    end
    assert.are.same({}, missing)
  end)

  it('declare every dl.* type they name', function()
    local declared, used = {}, {}
    for _, rel in ipairs(sources()) do
      for i, l in ipairs(lines_of(dl_dir .. '/' .. rel)) do
        local class = l:match('^%-%-%-@class%s+([%w_.]+)') or l:match('^%-%-%-@alias%s+([%w_.]+)')
        if class then declared[class] = true end
        local tag, rest = l:match('^%-%-%-@(%w+)%s+(.*)$')
        local types
        if tag == 'param' or tag == 'field' then
          types = type_part(rest:gsub('^[%w_.]+%??%s+', '', 1))
        elseif tag == 'return' or tag == 'type' or tag == 'operator' or tag == 'alias' then
          types = type_part(tag == 'alias' and rest:gsub('^[%w_.]+%s+', '', 1) or rest)
        elseif tag == 'class' then
          types = rest:match(':%s*(.*)$')
        end
        for t in (types or ''):gmatch('dl%.[%w_.]*[%w_]') do
          used[#used + 1] = { t, string.format('%s:%d', rel, i) }
        end
      end
    end
    local unknown = {}
    for _, u in ipairs(used) do
      if not declared[u[1]] then unknown[#unknown + 1] = u[2] .. ' names ' .. u[1] end
    end
    assert.are.same({}, unknown)
  end)

  it('type every submodule that dl loads on first use', function()
    local text = table.concat(lines_of(dl_dir .. '/init.lua'), '\n')
    local lazy = text:match('local lazy = (%b{})')
    assert.is_truthy(lazy)
    for key, module in lazy:gmatch('([%w_]+)%s*=%s*\'([%w_.]+)\'') do
      assert.matches('\n%-%-%-@field ' .. key .. ' ' .. module:gsub('%.', '%%.') .. '%s', text)
      local file = module:gsub('^dl%.', ''):gsub('%.', '/')
      local path = dl_dir .. '/' .. file .. '.lua'
      if not fs.exists(path) then path = dl_dir .. '/' .. file .. '/init.lua' end
      local source = table.concat(lines_of(path), '\n')
      assert.matches('\n%-%-%-@class ' .. module:gsub('%.', '%%.') .. '\n', source)
    end
  end)
end)
