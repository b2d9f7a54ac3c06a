--- The adapter's logger (self.log): writes to stderr and, during a run, to
--- the run folder's log.txt. Call as self.log.info('loaded %d weights', n)
--- or self.log:info(...); arguments are formatted with string.format.
---@class dl.log
local M = {}

local LEVELS = { debug = 10, info = 20, warn = 30, error = 40 }

---@param name string shown in each line, usually the model name
---@param opts {level: string?, file: file*?}|nil
---@return dl.Logger
function M.new(name, opts)
  opts = opts or {}
  local threshold = LEVELS[opts.level or 'info'] or LEVELS.info
  local log = { file = opts.file }
  for level, rank in pairs(LEVELS) do
    log[level] = function(first, ...)
      -- accept both log.info(fmt, ...) and log:info(fmt, ...)
      local fmt, n = first, select('#', ...)
      local args = { ... }
      if first == log then
        fmt, n = args[1], n - 1
        table.remove(args, 1)
      end
      local ok, msg = pcall(string.format, tostring(fmt), unpack(args, 1, n))
      if not ok then msg = tostring(fmt) end
      local line = string.format('[%s] %s: %s\n', level, name, msg)
      if rank >= threshold then io.stderr:write(line) end
      if log.file then log.file:write(os.date('!%Y-%m-%dT%H:%M:%SZ '), line) end
    end
  end
  return log
end

return M
