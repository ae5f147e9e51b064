-- Starting and finding the language client, on every Neovim from 0.7:
-- vim.lsp.start_client + buf_attach_client on 0.7, vim.lsp.start from 0.8,
-- and method-style client calls from 0.11.
local M = {}

local name = 'monoflake'

local function has(version)
  return vim.fn.has('nvim-' .. version) == 1
end

-- Client methods take the client as `self` from 0.11 (the dot-call form is
-- deprecated there); before, they are closures over it.
local function call(client, method, ...)
  if has('0.11') then
    return client[method](client, ...)
  end
  return client[method](...)
end

local function clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = name })
  end
  return vim.lsp.get_active_clients()
end

local function stopped(client)
  return call(client, 'is_stopped')
end

-- Executables already reported missing, so a missing binary is said once,
-- not on every buffer switch.
local reported = {}

local function runnable(cmd)
  if vim.fn.executable(cmd[1]) == 1 then
    return true
  end
  if not reported[cmd[1]] then
    reported[cmd[1]] = true
    vim.notify(
      string.format("monoflake: %s is not executable; set cmd in require('monoflake').setup() (see :checkhealth monoflake)", cmd[1]),
      vim.log.levels.ERROR
    )
  end
  return false
end

-- Clients started by this plugin, by root. Neovim lists a client only once
-- it has answered initialize, so without this a buffer opened meanwhile
-- would start a second server for the same repository.
local started = {}

--- The running client for a repository root, or nil.
function M.for_root(root)
  local id = started[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if client and not stopped(client) then
    return client
  end
  for _, c in ipairs(clients()) do
    if c.name == name and c.config.root_dir == root and not stopped(c) then
      return c
    end
  end
  return nil
end

--- The client configuration for a root. `opts` are the plugin options.
function M.config(root, opts, handlers)
  return {
    name = name,
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ':t') } },
    init_options = {
      trusted = opts.trusted,
      evaluation = { enabled = opts.evaluation.enabled },
      system = opts.system or vim.NIL,
      diagnostics = { syntax = opts.diagnostics.syntax },
    },
    capabilities = opts.capabilities,
    handlers = handlers,
    on_attach = opts.on_attach,
    flags = { debounce_text_changes = 150 },
  }
end

local function reuse(client, config)
  return client.name == config.name and client.config.root_dir == config.root_dir
end

--- Attaches `bufnr` to the client of `root`, starting it when needed.
function M.attach(bufnr, root, opts, handlers)
  local existing = M.for_root(root)
  if existing then
    vim.lsp.buf_attach_client(bufnr, existing.id)
    return existing.id
  end
  if not runnable(opts.cmd) then
    return nil
  end
  local config = M.config(root, opts, handlers)
  local id
  if vim.lsp.start then
    id = vim.lsp.start(config, { bufnr = bufnr, reuse_client = reuse })
  else
    id = vim.lsp.start_client(config)
    if id then
      vim.lsp.buf_attach_client(bufnr, id)
    end
  end
  started[root] = id
  return id
end

--- The client of `root`, started without attaching a buffer when needed:
--- environments are asked for from buffers of any language.
function M.ensure(root, opts, handlers)
  local existing = M.for_root(root)
  if existing then
    return existing
  end
  if not runnable(opts.cmd) then
    return nil
  end
  local config = M.config(root, opts, handlers)
  local id
  if has('0.11') then
    id = vim.lsp.start(config, { attach = false })
  else
    id = vim.lsp.start_client(config)
  end
  started[root] = id
  return id and vim.lsp.get_client_by_id(id) or nil
end

function M.request(client, method, params, handler, bufnr)
  return call(client, 'request', method, params, handler, bufnr)
end

function M.request_sync(client, method, params, timeout_ms, bufnr)
  return call(client, 'request_sync', method, params, timeout_ms, bufnr)
end

return M
