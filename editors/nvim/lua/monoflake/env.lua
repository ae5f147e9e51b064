-- Environment switching: Neovim's own environment (vim.env, and so PATH) is
-- set to the devShell of the current buffer's component, so `:!cargo build`,
-- `:terminal` and jobs started from that buffer run in the right shell. The
-- values the devShell replaced are kept and put back when the buffer belongs
-- to no component, or before another component's values go in.
local client = require('monoflake.client')
local root = require('monoflake.root')

local Env = {}
Env.__index = Env

-- Marks a variable that was unset before the devShell set it.
local unset = {}

--- A switcher bound to the plugin's options. `connect(root)` returns the
--- client of a root, starting it if needed.
function Env.new(connect)
  return setmetatable({
    connect = connect,
    saved = {}, -- name -> value before the devShell (or `unset`)
    active = nil, -- { root, component, state, error } of what is applied
    error = nil, -- the error of the last monoflake/environment request, if it failed
    generation = 0,
  }, Env)
end

local function component_of(result)
  if type(result.component) == 'string' then
    return result.component
  end
  return nil
end

--- The value `name` had before any devShell was applied.
function Env:original(name)
  local saved = self.saved[name]
  if saved == unset then
    return nil
  elseif saved ~= nil then
    return saved
  end
  return vim.env[name]
end

--- The variables a process in the devShell of `result` needs, PATH put in
--- front of the user's own. Nil when the answer carries no environment. The
--- server has already left out what belongs to the build sandbox (HOME,
--- TMPDIR, ...), by the same list direnv goes by.
function Env:variables(result)
  if result == nil or component_of(result) == nil or type(result.variables) ~= 'table' then
    return nil
  end
  local out = {}
  for name, value in pairs(result.variables) do
    if name == 'PATH' and self:original('PATH') then
      value = value .. ':' .. self:original('PATH')
    end
    out[name] = value
  end
  if next(out) == nil then
    return nil
  end
  return out
end

--- Puts back every value a devShell replaced.
function Env:restore()
  for name, value in pairs(self.saved) do
    if value == unset then
      vim.env[name] = nil
    else
      vim.env[name] = value
    end
  end
  self.saved = {}
  self.active = nil
end

--- Applies the answer of the server for the current buffer.
function Env:apply(result)
  local vars = self:variables(result)
  local active = self.active
  if vars == nil and result ~= nil and result.state == 'evaluating' and active ~= nil
    and active.component == result.component and active.root == root.from_server(result.root) then
    -- Re-evaluating the component in use: keep its last environment until
    -- the new one is there, rather than dropping to none in between.
    active.state = result.state
    return
  end
  self:restore()
  if result ~= nil and component_of(result) ~= nil then
    self.active = {
      root = root.from_server(result.root),
      component = result.component,
      state = result.state,
      error = result.error ~= vim.NIL and result.error or nil,
    }
  end
  if vars == nil then
    return
  end
  for name, value in pairs(vars) do
    local before = vim.env[name]
    self.saved[name] = before == nil and unset or before
    vim.env[name] = value
  end
end

--- The path a buffer stands for: its file, or for buffers without a file
--- (terminals, help, scratch) nothing, so they keep the active environment.
local function buffer_path(bufnr)
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return nil
  end
  return root.normalize(name)
end

--- Follows `path` (a file, or the working directory after :cd): asks the
--- server of its repository and applies the answer. Answers that arrive after
--- a later switch are dropped.
function Env:follow(path, bufnr)
  self.generation = self.generation + 1
  local generation = self.generation
  local r = root.find(path)
  if r == nil then
    self:restore()
    return
  end
  local c = self.connect(r)
  if c == nil then
    self:restore()
    return
  end
  local params = { uri = vim.uri_from_fname(path) }
  client.request(c, 'monoflake/environment', params, function(err, result)
    if generation ~= self.generation then
      return
    end
    if err ~= nil or result == nil then
      self.error = err or 'no answer'
      self:restore()
      return
    end
    self.error = nil
    self:apply(result)
  end, bufnr)
end

--- BufEnter: switch to the buffer's component.
function Env:on_buffer(bufnr)
  local path = buffer_path(bufnr)
  if path ~= nil then
    self:follow(path, bufnr)
  end
end

--- DirChanged: a buffer without a file follows the new working directory.
function Env:on_directory(bufnr)
  if buffer_path(bufnr) == nil then
    self:follow(root.normalize(vim.fn.getcwd()), bufnr)
  end
end

--- monoflake/environmentChanged: ask again when the component is the active one.
function Env:on_changed(params)
  local r = root.from_server(params.root)
  if r == nil or type(params.component) ~= 'string' then
    return
  end
  if self.active and self.active.root == r and self.active.component == params.component then
    self:on_buffer(vim.api.nvim_get_current_buf())
  end
end

--- The environment for processes of `bufnr`'s component, for other plugins
--- (the `cmd_env` of another language server): a table of variables, or nil
--- when the buffer belongs to no component or its devShell is not evaluated.
--- Asks the server synchronously (up to `timeout_ms`) when nothing is known.
function Env:for_buffer(bufnr, timeout_ms)
  local path = buffer_path(bufnr)
  local r = path and root.find(path)
  if r == nil then
    return nil
  end
  local c = self.connect(r)
  if c == nil then
    return nil
  end
  local answer = client.request_sync(c, 'monoflake/environment', { uri = vim.uri_from_fname(path) }, timeout_ms or 2000, bufnr)
  if answer == nil or answer.err ~= nil or answer.result == nil then
    return nil
  end
  return self:variables(answer.result), answer.result
end

return Env
