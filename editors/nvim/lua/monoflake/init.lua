-- monoflake for Neovim: starts `monoflake serve` for nix buffers, one client
-- per repository (the directory of the top-level flake.nix), and keeps
-- Neovim's environment on the devShell of the current buffer's component.
--
--   require('monoflake').setup({
--     cmd = { 'monoflake', 'serve' },
--     evaluation = { enabled = true },
--     system = nil,            -- e.g. 'x86_64-linux'; nil: the system nix runs on
--     diagnostics = { syntax = true }, -- false beside nil or nixd
--     switch_environment = true,
--   })
local Env = require('monoflake.env')
local client = require('monoflake.client')
local root = require('monoflake.root')

local M = {}

local defaults = {
  cmd = { 'monoflake', 'serve' },
  cmd_env = nil,
  -- Whether the editor vouches for every repository it opens. Neovim has no
  -- workspace trust, so by default the server evaluates a repository only
  -- after :MonoflakeTrust (or `monoflake trust DIR`), as direnv waits for
  -- `direnv allow`: evaluating a flake runs its code.
  trusted = false,
  evaluation = { enabled = true },
  system = nil,
  -- Beside nil or nixd, which report parse errors too, `syntax = false`
  -- keeps the same error from showing twice.
  diagnostics = { syntax = true },
  filetypes = { 'nix' },
  switch_environment = true,
  capabilities = nil,
  on_attach = nil,
}

-- The plugin instance of the last setup() call; nil before it.
local instance = nil

local function current()
  if instance == nil then
    error('monoflake: call require("monoflake").setup() first', 2)
  end
  return instance
end

local function handlers(env)
  return {
    ['monoflake/environmentChanged'] = function(_, params)
      if env and params then
        env:on_changed(params)
      end
    end,
  }
end

--- Starts the server for `bufnr` if it is a file of a flake repository.
function M.attach(bufnr)
  local self = current()
  bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  local name = vim.api.nvim_buf_get_name(bufnr)
  local r = root.find(name)
  if r ~= nil then
    client.attach(bufnr, r, self.opts, self.handlers)
  end
end

--- The root (top-level flake directory) of a buffer, or nil.
function M.root_dir(bufnr)
  return root.find(vim.api.nvim_buf_get_name(bufnr or 0))
end

--- The running client of a buffer's repository, started when needed.
function M.client(bufnr)
  local self = current()
  local r = M.root_dir(bufnr)
  return r and client.ensure(r, self.opts, self.handlers) or nil
end

--- The devShell environment of `bufnr`'s component as a table of variables
--- (PATH combined with the user's), for the `cmd_env` of other language
--- servers; nil outside components or before evaluation. The second result
--- is the server's full answer (component, state, error).
function M.env(bufnr, timeout_ms)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return current().env:for_buffer(bufnr, timeout_ms)
end

--- What is applied to Neovim's environment now: { root, component, state, error } or nil.
function M.active()
  return current().env.active
end

--- The error of the last environment request, when it failed (server
--- gone, method unsupported); nil after a successful one.
function M.last_error()
  return current().env.error
end

local function execute(bufnr, command, argument, done)
  local c = M.client(bufnr)
  if c == nil then
    vim.notify('monoflake: this buffer is not in a flake repository', vim.log.levels.WARN)
    return
  end
  client.request(c, 'workspace/executeCommand', { command = command, arguments = { argument } }, function(err)
    if err then
      vim.notify(string.format('monoflake: %s failed: %s', command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    if done then
      done()
    end
  end, bufnr)
end

--- :MonoflakeReload — re-evaluate the current component's devShell.
function M.reload()
  local bufnr = vim.api.nvim_get_current_buf()
  local file = vim.api.nvim_buf_get_name(bufnr)
  execute(bufnr, 'monoflake.reloadEnvironment', vim.uri_from_fname(file), function()
    current().env:on_buffer(bufnr)
  end)
end

--- :MonoflakeTrust — allow the server to evaluate this repository.
function M.trust()
  local bufnr = vim.api.nvim_get_current_buf()
  local r = M.root_dir(bufnr)
  if r == nil then
    vim.notify('monoflake: this buffer is not in a flake repository', vim.log.levels.WARN)
    return
  end
  execute(bufnr, 'monoflake.trustWorkspace', vim.uri_from_fname(r), function()
    vim.notify('monoflake: trusted ' .. r)
    current().env:on_buffer(bufnr)
  end)
end

local function quote(value)
  return "'" .. value:gsub("'", [['\'']]) .. "'"
end

--- The lines :MonoflakeEnv shows for a server answer.
function M.describe(result)
  if result == nil then
    return { '# monoflake: no answer from the server' }
  end
  local component = type(result.component) == 'string' and result.component or 'no component'
  local lines = { string.format('# monoflake: %s (%s)', component, result.state) }
  if type(result.error) == 'string' then
    for i, line in ipairs(vim.split(result.error, '\n', true)) do
      table.insert(lines, (i == 1 and '# error: ' or '#   ') .. line)
    end
  end
  local names = vim.tbl_keys(type(result.variables) == 'table' and result.variables or {})
  table.sort(names)
  for _, name in ipairs(names) do
    -- A quoted value may span lines (shellHook does); buffers take one line per entry.
    local export = string.format('export %s=%s', name, quote(result.variables[name]))
    vim.list_extend(lines, vim.split(export, '\n', true))
  end
  return lines
end

--- :MonoflakeEnv — show the current component's environment in a scratch buffer.
function M.show()
  local bufnr = vim.api.nvim_get_current_buf()
  local _, result = M.env(bufnr, 5000)
  if result == nil then
    vim.notify('monoflake: this buffer belongs to no component of a flake repository', vim.log.levels.INFO)
    return
  end
  vim.cmd('new')
  local scratch = vim.api.nvim_get_current_buf()
  vim.bo[scratch].buftype = 'nofile'
  vim.bo[scratch].bufhidden = 'wipe'
  vim.bo[scratch].swapfile = false
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, M.describe(result))
  vim.bo[scratch].filetype = 'sh'
  vim.bo[scratch].modifiable = false
end

local function commands()
  local command = vim.api.nvim_create_user_command
  command('MonoflakeReload', M.reload, { desc = 'Re-evaluate the devShell of the current component' })
  command('MonoflakeEnv', M.show, { desc = 'Show the devShell environment of the current component' })
  command('MonoflakeTrust', M.trust, { desc = 'Allow monoflake to evaluate this repository' })
end

-- Neovim 0.11+ manages clients itself once a configuration is enabled; the
-- root is still the top-level flake, found by the same function.
local function enable_native(self)
  local config = client.config('', self.opts, self.handlers)
  config.root_dir = function(bufnr, on_dir)
    local r = root.find(vim.api.nvim_buf_get_name(bufnr))
    if r ~= nil then
      on_dir(r)
    end
  end
  config.workspace_folders = nil
  config.filetypes = self.opts.filetypes
  vim.lsp.config('monoflake', config)
  vim.lsp.enable('monoflake')
end

local function autocmds(self)
  local group = vim.api.nvim_create_augroup('monoflake', { clear = true })
  -- :checkhealth and :MonoflakeEnv open buffers of their own; they report on
  -- the file the user was in.
  vim.api.nvim_create_autocmd('BufEnter', {
    group = group,
    callback = function(args)
      if vim.bo[args.buf].buftype == '' and vim.api.nvim_buf_get_name(args.buf) ~= '' then
        self.last_file = args.buf
      end
    end,
  })
  if vim.lsp.config and vim.lsp.enable then
    enable_native(self)
  else
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = self.opts.filetypes,
      callback = function(args)
        M.attach(args.buf)
      end,
    })
  end
  if self.opts.switch_environment then
    vim.api.nvim_create_autocmd('BufEnter', {
      group = group,
      callback = function(args)
        self.env:on_buffer(args.buf)
      end,
    })
    vim.api.nvim_create_autocmd('DirChanged', {
      group = group,
      callback = function()
        self.env:on_directory(vim.api.nvim_get_current_buf())
      end,
    })
  end
end

--- Configures the plugin; may be called again to change options.
function M.setup(opts)
  opts = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if instance ~= nil then
    instance.env:restore()
  end
  local self = { opts = opts }
  self.env = Env.new(function(r)
    return client.ensure(r, opts, self.handlers)
  end)
  self.handlers = handlers(self.env)
  instance = self
  commands()
  autocmds(self)
  -- Buffers opened before setup (e.g. `nvim file.nix`) are attached now.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if not (vim.lsp.config and vim.lsp.enable) and vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
  if opts.switch_environment then
    self.env:on_buffer(vim.api.nvim_get_current_buf())
  end
end

--- The options in force, for :checkhealth.
function M.options()
  return instance and instance.opts or vim.deepcopy(defaults)
end

--- The last buffer of a file the user entered (for :checkhealth, which runs in a buffer of its own).
function M.last_file_buffer()
  local bufnr = instance and instance.last_file
  if bufnr and vim.api.nvim_buf_is_valid(bufnr) then
    return bufnr
  end
  return vim.api.nvim_get_current_buf()
end

return M
