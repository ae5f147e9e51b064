-- :checkhealth monoflake — the binary, its version, nix, and for the current
-- buffer's repository whether it is trusted and the state of its cached
-- environment.
local M = {}

-- vim.health.start/ok/... from 0.9; require('health').report_* on 0.7.
local health = vim.health or require('health')
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local info = health.info or health.report_info
local warn = health.warn or health.report_warn
local fail = health.error or health.report_error

local function first_line(cmd)
  local out = vim.fn.systemlist(cmd)
  if vim.v.shell_error ~= 0 then
    return nil, table.concat(out, ' ')
  end
  return out[1] or ''
end

local function check_binary(opts)
  start('monoflake binary')
  local bin = opts.cmd[1]
  if vim.fn.executable(bin) ~= 1 then
    fail(string.format('%s is not executable', bin), {
      'Build it with `make build` and put bin/monoflake on PATH,',
      'or pass cmd = { "/path/to/monoflake", "serve" } to require("monoflake").setup().',
    })
    return false
  end
  ok('found ' .. vim.fn.exepath(bin))
  local version, err = first_line({ bin, 'version' })
  if version then
    ok(version)
  else
    warn('`' .. bin .. ' version` failed: ' .. err)
  end
  return true
end

local function check_nix()
  start('nix')
  if vim.fn.executable('nix') ~= 1 then
    warn('nix is not on PATH: static features work, devShell environments do not', {
      'Install nix (Debian: apt-get install nix-bin).',
    })
    return
  end
  local version = first_line({ 'nix', '--version' })
  ok(version or 'nix found')
end

local state_reports = {
  fresh = { ok, 'environment is fresh' },
  stale = { info, 'environment is stale (inputs changed since it was evaluated); :MonoflakeReload re-evaluates it' },
  evaluating = { info, 'environment is being evaluated' },
  none = { info, 'no devShell environment (evaluation disabled or no devShell)' },
}

local function check_workspace(monoflake)
  start('workspace')
  local bufnr = monoflake.last_file_buffer()
  local r = monoflake.root_dir(bufnr)
  if r == nil then
    info('the current buffer is not in a flake repository; open a file of one and run :checkhealth monoflake again')
    return
  end
  ok('repository root: ' .. r)
  local _, result = monoflake.env(bufnr, 5000)
  if result == nil then
    warn('the server gave no environment for the current buffer')
    return
  end
  local component = type(result.component) == 'string' and result.component or nil
  if component == nil then
    info('the current buffer belongs to no component')
    return
  end
  if result.state == 'untrusted' then
    warn('the repository is not trusted: devShells are not evaluated', { 'Run :MonoflakeTrust (or `monoflake trust ' .. r .. '`).' })
  elseif result.state == 'failed' then
    ok('the repository is trusted')
    fail(component .. ': evaluation failed: ' .. tostring(result.error))
  else
    ok('the repository is trusted')
    local report = state_reports[result.state] or { info, 'environment state ' .. tostring(result.state) }
    report[1](component .. ': ' .. report[2])
  end
end

function M.check()
  local ok_require, monoflake = pcall(require, 'monoflake')
  if not ok_require then
    fail('require("monoflake") failed: ' .. tostring(monoflake))
    return
  end
  local opts = monoflake.options()
  if check_binary(opts) then
    check_nix()
    if pcall(monoflake.active) then
      check_workspace(monoflake)
    else
      start('workspace')
      warn('require("monoflake").setup() has not been called')
    end
  end
end

return M
