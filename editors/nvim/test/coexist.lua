-- monoflake beside another Nix language server on the same buffers, a
-- stand-in for nil or nixd (editors/testing/otherserver.js): both attach,
-- monoflake leaves syntax errors to the other when told to, and a quick fix
-- applies while both offer code actions.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local monoflake = require('monoflake')

local repo = H.getenv('MONOFLAKE_MONOREPO')
local bin = H.getenv('MONOFLAKE_BIN')
local other = H.getenv('MONOFLAKE_OTHER_SERVER')

vim.cmd('filetype on')
vim.o.hidden = true
monoflake.setup({ cmd = { bin, 'serve' }, evaluation = { enabled = false }, diagnostics = { syntax = false } })

-- The other server attaches to nix buffers the way a user's configuration
-- would start nil.
local other_id
vim.api.nvim_create_autocmd('FileType', {
  pattern = 'nix',
  callback = function(args)
    other_id = other_id or vim.lsp.start_client({ name = 'other', cmd = { 'node', other }, root_dir = repo })
    vim.lsp.buf_attach_client(args.buf, other_id)
  end,
})

-- The LSP code of a diagnostic: a field of its own from 0.8, in user_data before.
local function code(d)
  return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
end

local function describe(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(out, string.format('%s/%s: %s', tostring(d.source), tostring(code(d)), d.message))
  end
  return table.concat(out, ' | ')
end

local function find(bufnr, source, wanted)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == source and code(d) == wanted then
      return d
    end
  end
end

local frontend
H.test('both servers attach to a nix buffer', function()
  vim.cmd('edit ' .. repo .. '/frontend/nix/outputs.nix')
  frontend = vim.api.nvim_get_current_buf()
  local names = H.wait('two clients on the buffer', 10000, function()
    local names = {}
    for _, c in pairs(vim.lsp.buf_get_clients(frontend)) do
      table.insert(names, c.name)
    end
    table.sort(names)
    return #names == 2 and names
  end)
  H.eq(names, { 'monoflake', 'other' }, 'clients')
  local mf = monoflake.client(frontend)
  H.eq(mf.config.init_options.diagnostics, { syntax = false }, 'the setting sent to the server')
end)

H.test('a parse error shows once, from the other server', function()
  local port = H.find(frontend, 'FRONTEND_PORT = "3000";')
  vim.api.nvim_buf_set_lines(frontend, port, port + 1, false, { '      FRONTEND_PORT = ;' })
  local line = H.find(frontend, "self'.packages.backend}")
  local text = vim.api.nvim_buf_get_lines(frontend, line, line + 1, false)[1]
  vim.api.nvim_buf_set_lines(frontend, line, line + 1, false, { (text:gsub("packages%.backend}", 'packages.backedn}')) })
  -- monoflake publishes a file's diagnostics together, so once its
  -- unknown-output for this text is there, a syntax error of its own
  -- would be too.
  H.wait("both servers' diagnostics of the edit", 10000, function()
    return find(frontend, 'nil', 'syntax') and find(frontend, 'monoflake', 'unknown-output')
  end, function()
    return 'diagnostics: ' .. describe(frontend)
  end)
  H.eq(find(frontend, 'nil', 'syntax').lnum, port, 'line of the parse error')
  H.eq(find(frontend, 'monoflake', 'syntax'), nil, "monoflake's own syntax diagnostic; all: " .. describe(frontend))
end)

H.test('a quick fix applies while both servers offer actions', function()
  vim.cmd('buffer ' .. frontend)
  local line, col = H.find(frontend, 'backedn')
  vim.api.nvim_win_set_cursor(0, { line + 1, col })
  local offered = {}
  local select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    local chosen
    for _, item in ipairs(items) do
      table.insert(offered, item[2].title)
      if item[2].title == 'Change backedn to backend' then
        chosen = item
      end
    end
    on_choice(chosen)
  end
  vim.lsp.buf.code_action({ only = { 'quickfix' } })
  H.wait('the fixed reference', 10000, function()
    return vim.api.nvim_buf_get_lines(frontend, line, line + 1, false)[1]:find("self'.packages.backend}", 1, true)
  end, function()
    return 'offered: ' .. vim.inspect(offered) .. '; line: ' .. vim.api.nvim_buf_get_lines(frontend, line, line + 1, false)[1]
  end)
  vim.ui.select = select
  table.sort(offered)
  H.eq(offered, { 'Change backedn to backend', 'Stand-in action (does nothing)' }, 'actions offered')
  H.wait('the unknown-output diagnostic to clear', 10000, function()
    return not find(frontend, 'monoflake', 'unknown-output')
  end, function()
    return 'diagnostics: ' .. describe(frontend)
  end)
  H.truthy(find(frontend, 'nil', 'syntax'), "the other server's diagnostic stays")
end)

H.finish()
