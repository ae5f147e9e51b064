-- A small test runner for headless Neovim: named cases, bounded waits, TAP-ish
-- lines on stdout and a closing "N passed, N failed" line. Neovim exits with
-- the number of failures (capped), so test.sh fails when a case does.
local H = { passed = 0, failed = 0, notifications = {} }

-- Messages go to a list tests can read instead of interleaving with the output.
vim.notify = function(msg, level)
  table.insert(H.notifications, { message = msg, level = level })
end

local function out(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

function H.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    H.passed = H.passed + 1
    out('ok - ' .. name)
  else
    H.failed = H.failed + 1
    out('not ok - ' .. name)
    for line in tostring(err):gmatch('[^\n]+') do
      out('#   ' .. line)
    end
  end
end

--- Waits up to `ms` for `cond()` to return a truthy value, and returns it;
--- fails naming `what` (and `detail()` if given) otherwise.
function H.wait(what, ms, cond, detail)
  local value
  vim.wait(ms, function()
    value = cond()
    return value
  end, 20)
  if not value then
    error(string.format('timed out after %d ms waiting for %s%s', ms, what, detail and ('; ' .. detail()) or ''), 2)
  end
  return value
end

function H.eq(got, want, what)
  if not vim.deep_equal(got, want) then
    error(string.format('%s: got %s, want %s', what or 'value', vim.inspect(got), vim.inspect(want)), 2)
  end
end

function H.truthy(value, what)
  if not value then
    error(what or 'expected a truthy value', 2)
  end
  return value
end

function H.finish()
  out(string.format('%d passed, %d failed', H.passed, H.failed))
  for _, c in ipairs(vim.lsp.get_active_clients()) do
    c.stop(true)
  end
  vim.wait(1000, function()
    return #vim.lsp.get_active_clients() == 0
  end, 20)
  if H.failed > 0 then
    vim.cmd('cquit ' .. math.min(H.failed, 100))
  else
    vim.cmd('qall!')
  end
end

--- The path of the environment variable `name`, which test.sh must set.
function H.getenv(name)
  local value = os.getenv(name)
  if value == nil or value == '' then
    error(name .. ' is not set; run editors/nvim/test.sh', 2)
  end
  return value
end

--- The 0-based line and byte column of the first `needle` in a buffer.
function H.find(bufnr, needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      return i - 1, col - 1
    end
  end
  error(needle .. ' not found in ' .. vim.api.nvim_buf_get_name(bufnr), 2)
end

return H
