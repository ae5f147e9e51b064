-- Static features through the real `monoflake serve` (evaluation off):
-- root detection, one client per repository, diagnostics, a definition in
-- another component, commands and :checkhealth.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local root = require('monoflake.root')
local monoflake = require('monoflake')

local repo = H.getenv('MONOFLAKE_MONOREPO')
local subflakes = H.getenv('MONOFLAKE_SUBFLAKES')
local bin = H.getenv('MONOFLAKE_BIN')

vim.cmd('filetype on')
vim.o.hidden = true
monoflake.setup({ cmd = { bin, 'serve' }, evaluation = { enabled = false } })

local function clients()
  return vim.lsp.get_active_clients()
end

local function attached(bufnr)
  return H.wait('a client attached to ' .. vim.api.nvim_buf_get_name(bufnr), 10000, function()
    local _, c = next(vim.lsp.buf_get_clients(bufnr))
    return c
  end)
end

H.test('root detection stops at the top-level flake.nix of the repository', function()
  local cases = {
    { repo .. '/backend/src/main.rs', repo },
    { repo .. '/frontend/nix/outputs.nix', repo },
    { repo .. '/flake.nix', repo },
    { repo, repo },
    { subflakes .. '/backend/flake.nix', subflakes },
    { subflakes .. '/frontend/src/index.js', subflakes },
    { vim.fn.fnamemodify(repo, ':h'), nil },
  }
  for _, c in ipairs(cases) do
    H.eq(root.find(c[1]), c[2], c[1])
  end
end)

local frontend
H.test('opening a nix file starts one client rooted at the repository', function()
  vim.cmd('edit ' .. repo .. '/frontend/nix/outputs.nix')
  frontend = vim.api.nvim_get_current_buf()
  H.eq(vim.bo[frontend].filetype, 'nix', 'filetype')
  local c = attached(frontend)
  H.eq(c.name, 'monoflake', 'client name')
  H.eq(c.config.root_dir, repo, 'root_dir')
  H.eq(c.config.init_options.evaluation.enabled, false, 'evaluation passed to the server')

  vim.cmd('edit ' .. repo .. '/backend/nix/outputs.nix')
  local other = attached(vim.api.nvim_get_current_buf())
  H.eq(other.id, c.id, 'a second component shares the client')

  vim.cmd('edit ' .. subflakes .. '/backend/flake.nix')
  local sub = attached(vim.api.nvim_get_current_buf())
  H.eq(sub.config.root_dir, subflakes, 'a sub-flake is served by its repository’s client')
  vim.cmd('edit ' .. subflakes .. '/frontend/flake.nix')
  H.eq(attached(vim.api.nvim_get_current_buf()).id, sub.id, 'sibling sub-flakes share it')
  H.eq(#clients(), 2, 'one client per repository')
end)

local function messages(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(out, d.message)
  end
  return table.concat(out, ' | ')
end

H.test('diagnostics follow edits of a cross-component reference', function()
  vim.cmd('buffer ' .. frontend)
  local line = H.find(frontend, "self'.packages.backend}")
  local original = vim.api.nvim_buf_get_lines(frontend, line, line + 1, false)[1]
  local broken = original:gsub("self'%.packages%.backend}", "self'.packages.backedn}")
  vim.api.nvim_buf_set_lines(frontend, line, line + 1, false, { broken })
  local found = H.wait('a diagnostic naming packages.backedn', 10000, function()
    for _, d in ipairs(vim.diagnostic.get(frontend)) do
      if d.message:find('backedn', 1, true) then
        return d
      end
    end
  end, function()
    return 'diagnostics: ' .. messages(frontend)
  end)
  H.eq(found.lnum, line, 'diagnostic line')
  vim.api.nvim_buf_set_lines(frontend, line, line + 1, false, { original })
  H.wait('the diagnostic to clear', 10000, function()
    return not messages(frontend):find('backedn', 1, true)
  end, function()
    return 'diagnostics: ' .. messages(frontend)
  end)
  vim.cmd('silent write')
end)

H.test('go to definition jumps into the other component', function()
  vim.cmd('buffer ' .. frontend)
  local line, col = H.find(frontend, "self'.packages.backend")
  vim.api.nvim_win_set_cursor(0, { line + 1, col + #"self'.packages." + 1 })
  vim.lsp.buf.definition()
  local target = repo .. '/backend/nix/outputs.nix'
  H.wait('the jump to ' .. target, 10000, function()
    return vim.api.nvim_buf_get_name(0) == target
  end, function()
    return 'current buffer: ' .. vim.api.nvim_buf_get_name(0)
  end)
  local want = H.find(0, 'packages.backend =')
  H.eq(vim.api.nvim_win_get_cursor(0)[1] - 1, want, 'line of packages.backend in backend/nix/outputs.nix')
end)

H.test('without evaluation the environment is left alone', function()
  local before = vim.env.PATH
  vim.cmd('edit ' .. repo .. '/backend/src/main.rs')
  local bufnr = vim.api.nvim_get_current_buf()
  H.wait('the component to be known', 10000, function()
    H.eq(monoflake.last_error(), nil, 'error of monoflake/environment')
    return monoflake.active() and monoflake.active().component == 'backend'
  end)
  H.eq(vim.env.MONOREPO_COMPONENT, nil, 'MONOREPO_COMPONENT')
  H.eq(vim.env.PATH, before, 'PATH')
  local vars, result = monoflake.env(bufnr)
  H.eq(vars, nil, 'env() without an evaluated devShell')
  H.eq(result.component, 'backend', 'component in the answer')
  H.truthy(result.state == 'none' or result.state == 'untrusted', 'state none or untrusted, got ' .. tostring(result.state))
end)

H.test('commands and :checkhealth monoflake', function()
  for _, name in ipairs({ 'MonoflakeReload', 'MonoflakeEnv', 'MonoflakeTrust' }) do
    H.eq(vim.fn.exists(':' .. name), 2, ':' .. name)
  end
  vim.cmd('edit ' .. repo .. '/backend/nix/outputs.nix')
  vim.cmd('checkhealth monoflake')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  H.truthy(text:find('monoflake binary', 1, true), 'no binary section in:\n' .. text)
  H.truthy(text:find('found ' .. bin, 1, true), 'binary not reported in:\n' .. text)
  H.truthy(text:find('monoflake ', 1, true), 'no version in:\n' .. text)
  H.truthy(text:find('repository root: ' .. repo, 1, true), 'no root in:\n' .. text)
  H.truthy(not text:find('ERROR', 1, true), 'errors in:\n' .. text)
  vim.cmd('bwipeout')
end)

H.test('the help file builds its tags', function()
  local doc = vim.fn.tempname()
  vim.fn.mkdir(doc, 'p')
  local source = vim.api.nvim_get_runtime_file('doc/monoflake.txt', false)[1]
  H.truthy(source, 'doc/monoflake.txt is not on the runtimepath')
  vim.fn.writefile(vim.fn.readfile(source), doc .. '/monoflake.txt')
  vim.cmd('helptags ' .. doc) -- raises on duplicate tags
  local tags = table.concat(vim.fn.readfile(doc .. '/tags'), '\n')
  for _, tag in ipairs({ ':MonoflakeReload', ':MonoflakeEnv', ':MonoflakeTrust', 'monoflake.env()', 'monoflake-environment' }) do
    H.truthy(tags:find(tag, 1, true), tag .. ' missing from the help tags')
  end
end)

H.test('a missing server binary is reported once, without errors', function()
  local other = vim.fn.tempname()
  vim.fn.mkdir(other .. '/lib', 'p')
  vim.fn.writefile({ '{ outputs = _: { }; }' }, other .. '/flake.nix')
  vim.fn.writefile({ '{ }' }, other .. '/lib/default.nix')
  monoflake.setup({ cmd = { other .. '/no-such-monoflake', 'serve' } })
  local before = #H.notifications
  vim.cmd('edit ' .. other .. '/flake.nix')
  vim.cmd('edit ' .. other .. '/lib/default.nix')
  vim.cmd('edit ' .. other .. '/flake.nix')
  local said = {}
  for i = before + 1, #H.notifications do
    table.insert(said, H.notifications[i].message)
  end
  H.eq(#said, 1, 'notifications ' .. vim.inspect(said))
  H.truthy(said[1]:find('no-such-monoflake is not executable', 1, true), said[1])
  H.eq(#vim.lsp.buf_get_clients(0), 0, 'clients of the buffer')
end)

H.finish()
