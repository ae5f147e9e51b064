-- The code paths for newer Neovim, exercised on the installed one by
-- standing in for the APIs it lacks (vim.lsp.start from 0.8, vim.lsp.config
-- and vim.lsp.enable from 0.11). What is checked is what the plugin hands
-- those APIs; that they behave as documented is Neovim's business.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')

local repo = H.getenv('MONOFLAKE_MONOREPO')
vim.cmd('filetype on')
vim.o.hidden = true

local function fresh_plugin()
  for name in pairs(package.loaded) do
    if name == 'monoflake' or name:match('^monoflake%.') then
      package.loaded[name] = nil
    end
  end
  return require('monoflake')
end

H.test('with vim.lsp.start (0.8+) a buffer is attached through it, reusing the root’s client', function()
  local calls = {}
  vim.lsp.start = function(config, opts)
    table.insert(calls, { config = config, opts = opts })
    return nil -- no client really starts
  end
  local monoflake = fresh_plugin()
  monoflake.setup({ cmd = { 'true' }, switch_environment = false })
  vim.cmd('edit ' .. repo .. '/backend/nix/outputs.nix')
  vim.lsp.start = nil
  H.eq(#calls, 1, 'vim.lsp.start calls')
  local call = calls[1]
  H.eq(call.config.name, 'monoflake', 'name')
  H.eq(call.config.root_dir, repo, 'root_dir')
  H.eq(call.config.cmd, { 'true' }, 'cmd')
  H.eq(call.config.init_options, { trusted = false, evaluation = { enabled = true }, system = vim.NIL, diagnostics = { syntax = true } }, 'init_options')
  H.eq(call.opts.bufnr, vim.api.nvim_get_current_buf(), 'bufnr')
  H.truthy(call.opts.reuse_client({ name = 'monoflake', config = { root_dir = repo } }, call.config), 'reuses the root’s client')
  H.truthy(not call.opts.reuse_client({ name = 'monoflake', config = { root_dir = '/elsewhere' } }, call.config), 'not another root’s')
  H.truthy(call.config.handlers['monoflake/environmentChanged'], 'environmentChanged handler')
  vim.cmd('bwipeout')
end)

H.test('with vim.lsp.config and vim.lsp.enable (0.11+) Neovim manages the client', function()
  local registered, enabled = {}, {}
  vim.lsp.config = setmetatable({}, {
    __call = function(_, name, config)
      registered[name] = config
    end,
  })
  vim.lsp.enable = function(name)
    table.insert(enabled, name)
  end
  local monoflake = fresh_plugin()
  monoflake.setup({ cmd = { 'true' }, switch_environment = false, trusted = true })
  vim.lsp.config, vim.lsp.enable = nil, nil
  H.eq(enabled, { 'monoflake' }, 'enabled')
  local config = H.truthy(registered.monoflake, 'no configuration registered')
  H.eq(config.filetypes, { 'nix' }, 'filetypes')
  H.eq(config.init_options.trusted, true, 'trusted passed through')
  H.eq(config.workspace_folders, nil, 'workspace folders left to Neovim')
  local roots = {}
  vim.cmd('edit ' .. repo .. '/frontend/nix/outputs.nix')
  config.root_dir(vim.api.nvim_get_current_buf(), function(r)
    table.insert(roots, r)
  end)
  H.eq(roots, { repo }, 'root_dir reports the top-level flake')
  local nowhere = {}
  vim.cmd('enew')
  config.root_dir(vim.api.nvim_get_current_buf(), function(r)
    table.insert(nowhere, r)
  end)
  H.eq(nowhere, {}, 'no root for a buffer without a file')
  H.eq(#vim.lsp.get_active_clients(), 0, 'the plugin started nothing itself')
end)

H.finish()
