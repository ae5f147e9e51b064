-- Environment switching: moving between buffers of two components switches
-- vim.env (and so :! commands and :terminal), leaving restores it. The server
-- is MONOFLAKE_SERVER_CMD: the real one with nix evaluation, or the fake one.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local monoflake = require('monoflake')

local repo = H.getenv('MONOFLAKE_MONOREPO')
local cmd = vim.split(H.getenv('MONOFLAKE_SERVER_CMD'), ' ', true)
local timeout = tonumber(os.getenv('MONOFLAKE_EVAL_TIMEOUT_MS') or '') or 120000

vim.cmd('filetype on')
vim.o.hidden = true
local original_path = vim.env.PATH
vim.env.MONOREPO_COMPONENT = nil
monoflake.setup({ cmd = cmd, evaluation = { enabled = true } })

-- A failed request ends the wait at once instead of after the evaluation timeout.
local function no_error()
  local err = monoflake.last_error()
  if err ~= nil then
    error('monoflake/environment failed: ' .. vim.inspect(err), 0)
  end
end

local function in_component(name)
  return H.wait('vim.env of ' .. name, timeout, function()
    no_error()
    return vim.env.MONOREPO_COMPONENT == name
  end, function()
    local active = monoflake.active() or {}
    return string.format('MONOREPO_COMPONENT=%s, active=%s', tostring(vim.env.MONOREPO_COMPONENT), vim.inspect(active))
  end)
end

local backend, frontend
H.test('trusting the repository evaluates the current component', function()
  vim.cmd('edit ' .. repo .. '/backend/src/main.rs')
  backend = vim.api.nvim_get_current_buf()
  H.wait('the server to answer', 15000, function()
    no_error()
    return monoflake.active() ~= nil
  end)
  H.eq(monoflake.active().state, 'untrusted', 'state before :MonoflakeTrust')
  H.eq(vim.env.MONOREPO_COMPONENT, nil, 'nothing applied before trust')
  vim.cmd('checkhealth monoflake')
  local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  H.truthy(report:find('the repository is not trusted', 1, true), 'no trust warning in:\n' .. report)
  vim.cmd('bwipeout')
  vim.cmd('buffer ' .. backend)
  vim.cmd('MonoflakeTrust')
  in_component('backend')
  H.eq(H.notifications[#H.notifications].message, 'monoflake: trusted ' .. repo, 'message after trusting')
end)
if H.failed > 0 then
  -- Every later case starts from a trusted, evaluated component.
  H.finish()
end

H.test('PATH puts the devShell in front of the user’s PATH', function()
  local path = vim.env.PATH
  H.truthy(#path > #original_path + 1, 'PATH did not grow: ' .. path)
  H.eq(path:sub(-#original_path - 1), ':' .. original_path, 'PATH ends with the original')
  H.eq(vim.fn.system('echo "$MONOREPO_COMPONENT"'), 'backend\n', ':! sees the devShell')
  H.eq(vim.env.HOME, os.getenv('HOME'), 'HOME is never the sandbox’s')
end)

H.test('moving to another component switches, leaving restores', function()
  vim.cmd('edit ' .. repo .. '/frontend/src/index.js')
  frontend = vim.api.nvim_get_current_buf()
  in_component('frontend')
  vim.cmd('edit ' .. repo .. '/flake.nix')
  H.wait('the environment to be restored outside components', 15000, function()
    return vim.env.MONOREPO_COMPONENT == nil
  end, function()
    return 'MONOREPO_COMPONENT=' .. tostring(vim.env.MONOREPO_COMPONENT)
  end)
  H.eq(vim.env.PATH, original_path, 'PATH restored')
  vim.cmd('buffer ' .. backend)
  in_component('backend')
end)

H.test(':terminal runs in the component’s shell', function()
  vim.cmd('new')
  local term = vim.api.nvim_get_current_buf()
  vim.fn.termopen({ 'sh', '-c', 'echo "component=$MONOREPO_COMPONENT"' })
  H.wait('the terminal output', 10000, function()
    return table.concat(vim.api.nvim_buf_get_lines(term, 0, -1, false), '\n'):find('component=backend', 1, true)
  end, function()
    return table.concat(vim.api.nvim_buf_get_lines(term, 0, -1, false), '\n')
  end)
  H.eq(vim.env.MONOREPO_COMPONENT, 'backend', 'entering a terminal keeps the environment')
  vim.cmd('bwipeout!')
end)

H.test('require("monoflake").env(bufnr) gives another buffer’s environment', function()
  vim.cmd('buffer ' .. backend)
  in_component('backend')
  local vars = H.truthy(monoflake.env(frontend, 10000), 'no environment for the frontend buffer')
  H.eq(vars.MONOREPO_COMPONENT, 'frontend', 'MONOREPO_COMPONENT')
  H.eq(vars.PATH:sub(-#original_path - 1), ':' .. original_path, 'PATH built on the user’s, not the active devShell’s')
  H.eq(vars.HOME, nil, 'HOME left out')
end)

H.test(':cd in a buffer without a file follows the directory', function()
  vim.cmd('enew')
  vim.bo.buftype = 'nofile'
  vim.cmd('cd ' .. repo .. '/frontend')
  in_component('frontend')
  vim.cmd('cd ' .. repo)
  H.wait('the environment to be restored at the root', 15000, function()
    return vim.env.MONOREPO_COMPONENT == nil
  end)
  vim.cmd('bwipeout!')
end)

H.test(':MonoflakeReload and :MonoflakeEnv', function()
  vim.cmd('buffer ' .. backend)
  in_component('backend')
  vim.cmd('MonoflakeReload')
  H.eq(vim.env.MONOREPO_COMPONENT, 'backend', 'the environment stays while the component re-evaluates')
  H.wait('the re-evaluation to finish', timeout, function()
    local _, result = monoflake.env(backend, 5000)
    return result and result.state == 'fresh'
  end)
  in_component('backend')
  vim.cmd('MonoflakeEnv')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  H.truthy(text:find("export MONOREPO_COMPONENT='backend'", 1, true), 'no export line in:\n' .. text)
  -- The server leaves out what no surface applies (direnv's list): the
  -- builder's HOME, its temporary directories, bash's own variables.
  for _, name in ipairs({ 'HOME', 'TMPDIR', 'NIX_BUILD_TOP', 'PWD', 'SHLVL' }) do
    H.eq(text:find('\nexport ' .. name .. '=', 1, true), nil, name .. ' shown in:\n' .. text)
  end
  H.eq(vim.bo.buftype, 'nofile', 'a scratch buffer')
  vim.cmd('close')
  H.eq(vim.env.MONOREPO_COMPONENT, 'backend', 'closing the scratch buffer keeps the environment')
end)

H.test(':checkhealth reports a trusted repository with a fresh environment', function()
  vim.cmd('buffer ' .. backend)
  -- The reload above may still be evaluating: the server starts it after answering.
  H.wait('backend to be fresh', timeout, function()
    local _, result = monoflake.env(backend, 5000)
    return result and result.state == 'fresh'
  end)
  vim.cmd('checkhealth monoflake')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  H.truthy(text:find('the repository is trusted', 1, true), 'not trusted in:\n' .. text)
  H.truthy(text:find('backend: environment is fresh', 1, true), 'not fresh in:\n' .. text)
  vim.cmd('bwipeout')
end)

H.finish()
