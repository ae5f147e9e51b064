-- Repository root detection: the top-level flake.nix, so that one client
-- serves a whole monorepo, sub-flakes included. Written against Neovim 0.7,
-- which has no vim.fs.
local M = {}

local uv = vim.loop

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

local function is_dir(path)
  local stat = uv.fs_stat(path)
  return stat ~= nil and stat.type == 'directory'
end

local function parent(dir)
  local up = dir:match('^(.*)/[^/]*$')
  if up == nil or up == '' then
    return '/'
  end
  return up
end

--- The absolute, normalised form of a path (no trailing slash, symbolic
--- links resolved where the path exists, as the server reports roots).
function M.normalize(path)
  path = uv.fs_realpath(path) or vim.fn.fnamemodify(path, ':p')
  if #path > 1 then
    path = path:gsub('/+$', '')
  end
  return path
end

--- The repository root for a file or directory: the highest directory
--- holding a flake.nix, searching upwards no further than the enclosing git
--- work tree (so a flake.nix in $HOME never captures a repository). Nil when
--- there is no flake.nix.
function M.find(path)
  if path == nil or path == '' then
    return nil
  end
  local dir = M.normalize(path)
  if not is_dir(dir) then
    dir = parent(dir)
  end
  local top = nil
  while true do
    if exists(dir .. '/flake.nix') then
      top = dir
    end
    if dir == '/' or exists(dir .. '/.git') then
      return top
    end
    dir = parent(dir)
  end
end

--- Whether `path` is `root` or lies below it.
function M.contains(root, path)
  return path == root or path:sub(1, #root + 1) == root .. '/'
end

--- A root as the server may report it (a path or a file URI) as a path.
function M.from_server(root)
  if type(root) ~= 'string' then
    return nil
  end
  if root:match('^file://') then
    root = vim.uri_to_fname(root)
  end
  return M.normalize(root)
end

return M
