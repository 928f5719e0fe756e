--- ollama-lsp for Neovim: AI code completion from local Ollama models.
---
--- `require("ollama_lsp").setup(opts)` registers the server with `vim.lsp.config` and
--- `vim.lsp.enable` (Neovim >= 0.11), turns on ghost text (drawn by the plugin: see
--- `ollama_lsp.ghost` for why not `vim.lsp.inline_completion`) or, with `inline = false`, the
--- completion menu, and defines the `:Ollama*` commands. Every command is also a function of
--- this module.
local ghost = require("ollama_lsp.ghost")
local progress = require("ollama_lsp.progress")

local M = {}

M.name = "ollama_lsp"

--- What `setup()` uses for options left out.
M.defaults = {
  --- The server command; `cmd[1]` must be executable.
  cmd = { "ollama-lsp" },
  --- Extra environment for the server process (e.g. `{ OLLAMA_HOST = "..." }`).
  cmd_env = nil,
  --- Shortcuts merged into `settings`: `host`, `model`, `chat_model` (sent as `chatModel`).
  host = nil,
  model = nil,
  chat_model = nil,
  --- The `ollama` settings section, with the server's own (camelCase) key names.
  settings = {},
  --- nil: every buffer that is a file (see README); or a list of filetypes.
  filetypes = nil,
  root_markers = { ".git" },
  --- Ghost text. false: suggestions come through the completion menu.
  inline = true,
  --- Insert-mode key that accepts the ghost text; without a suggestion it does what it always
  --- does. false: map nothing (map `require("ollama_lsp").accept()` yourself).
  accept_key = "<Tab>",
  --- Insert-mode keys that accept only the next word / the rest of the line (false: none).
  accept_word_key = false,
  accept_line_key = false,
  --- `vim.notify` pull and model-load progress.
  notify_progress = true,
  --- Called after the plugin's own attach work, as `on_attach(client, bufnr)`.
  on_attach = nil,
}

--- The options in force (after `setup()`).
M.options = nil

--- What the plugin last learned about models: `model`, `chatModel`, and `rows` (listModels).
M.state = { rows = {} }

local function notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO, { title = "ollama" })
end
M._notify = notify

--- The settings table sent as `init_options.ollama` and answered to `workspace/configuration`.
function M.settings_of(opts)
  local settings = vim.deepcopy(opts.settings or {})
  settings.host = opts.host or settings.host
  settings.model = opts.model or settings.model
  settings.chatModel = opts.chat_model or settings.chatModel
  if next(settings) == nil then
    return vim.empty_dict() -- `{}` on the wire, not `[]`
  end
  return settings
end

--- Whether ghost text can be drawn: inline virtual text arrived in Neovim 0.10.
local function has_inline()
  return vim.fn.has("nvim-0.10") == 1
end
M.has_inline = has_inline

--- Whether this buffer should get the server: a file buffer with an allowed filetype.
local function wanted(bufnr)
  if vim.bo[bufnr].buftype ~= "" then
    return false
  end
  local filetypes = M.options and M.options.filetypes
  return filetypes == nil or vim.tbl_contains(filetypes, vim.bo[bufnr].filetype)
end

local ACCEPT_DESC = "ollama: accept the suggestion"
local ACCEPTS = {
  all = ACCEPT_DESC,
  word = ACCEPT_DESC .. "'s next word",
  line = ACCEPT_DESC .. "'s line",
}

local function is_accept_mapping(mapping)
  return type(mapping.desc) == "string" and mapping.desc:sub(1, #ACCEPT_DESC) == ACCEPT_DESC
end

--- Put `keys` (key codes) next in the typeahead, before any key typed after this one;
--- `remap`: let mappings apply to them.
local function feed(keys, remap)
  vim.api.nvim_feedkeys(keys, remap and "im" or "in", false)
end

--- What `key` did before we mapped it, as a function that does it: the mapping it shadows
--- (e.g. Neovim 0.11+'s default <Tab>, which jumps in an active snippet), else the key itself.
--- It runs from our mapping's callback, where the buffer may change.
local function fallback_for(key)
  local previous = vim.fn.maparg(key, "i", false, true)
  if type(previous) ~= "table" or vim.tbl_isempty(previous) or is_accept_mapping(previous) then
    return function()
      feed(vim.keycode(key), false)
    end
  end
  local remap = previous.noremap == 0
  if previous.callback then
    if previous.expr == 1 then
      return function()
        local keys = previous.callback() or ""
        feed(previous.replace_keycodes == 1 and vim.keycode(keys) or keys, remap)
      end
    end
    return previous.callback
  end
  local rhs = previous.rhs or key
  if previous.expr == 1 then
    return function()
      feed(vim.api.nvim_eval(rhs), remap)
    end
  end
  return function()
    feed(vim.keycode(rhs), remap)
  end
end

local function map_accept_key(bufnr, key, how)
  local existing = vim.fn.maparg(key, "i", false, true)
  if type(existing) == "table" and existing.buffer == 1 and is_accept_mapping(existing) then
    return -- already mapped for this buffer (a second attach)
  end
  local fallback = fallback_for(key)
  -- Not an expr mapping: Neovim evaluates those while it peeks at the typeahead, before the
  -- keys typed ahead of this one are inserted ("e<Tab>" would be judged against the line
  -- without the "e"). A callback mapping runs in key order, where the buffer may change.
  vim.keymap.set("i", key, function()
    if not ghost.accept(bufnr, how) then
      fallback()
    end
  end, { buffer = bufnr, desc = ACCEPTS[how] })
end

local function is_ours(item)
  return type(item) == "table"
    and type(item.command) == "table"
    and item.command.command == "ollama.accepted"
end

local function suggestion_text(item)
  return (item.textEdit and item.textEdit.newText) or item.insertText or item.label
end

--- vim.lsp.completion inserts only the first run of non-blank characters of a plain-text
--- item ("return" of "return a + b"), and nothing at all when it starts with indentation;
--- our items are whole suggestions, so the menu inserts their first line ...
local function convert_item(item)
  if not is_ours(item) then
    return {}
  end
  return { word = suggestion_text(item):match("^[^\n]*") }
end

--- ... and, once accepted, the lines after it.
local function finish_multiline(bufnr)
  local reason = vim.v.event and vim.v.event.reason
  if reason and reason ~= "accept" then
    return
  end
  local item = vim.tbl_get(vim.v.completed_item or {}, "user_data", "nvim", "lsp", "completion_item")
  if not is_ours(item) then
    return
  end
  local rest = vim.split(suggestion_text(item), "\n", { plain = true })
  if #rest < 2 then
    return
  end
  rest[1] = ""
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  vim.api.nvim_buf_set_text(bufnr, row - 1, col, row - 1, col, rest)
  vim.api.nvim_win_set_cursor(0, { row + #rest - 1, #rest[#rest] })
end

--- With Neovim's default 'completeopt' ("menu,popup") a single match is inserted as soon as
--- it is offered, so every trigger character would type a suggestion into the buffer
--- unasked. Unless the user already chose noinsert/noselect, this buffer offers it in a menu
--- and inserts it only on accept (<C-y>).
local function ask_before_inserting(bufnr)
  local value = vim.bo[bufnr].completeopt
  if value == "" then
    value = vim.go.completeopt -- global-local: no local value yet
  end
  if value:find("noinsert") or value:find("noselect") then
    return
  end
  local parts = vim.split(value, ",", { trimempty = true })
  for _, want in ipairs({ "menuone", "noinsert" }) do
    if not vim.tbl_contains(parts, want) then
      table.insert(parts, want)
    end
  end
  vim.bo[bufnr].completeopt = table.concat(parts, ",")
end

local function enable_completion_menu(client, bufnr)
  ask_before_inserting(bufnr)
  vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = true, convert = convert_item })
  vim.api.nvim_create_autocmd("CompleteDone", {
    group = vim.api.nvim_create_augroup("ollama_lsp.completion." .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = function()
      finish_multiline(bufnr)
    end,
  })
end

--- Per-buffer wiring once the client is attached: ghost text or the completion menu.
function M.on_attach(client, bufnr)
  local opts = M.options or M.defaults
  if opts.inline and has_inline() then
    ghost.attach(bufnr, M.name)
    local keys = { all = opts.accept_key, word = opts.accept_word_key, line = opts.accept_line_key }
    for how, key in pairs(keys) do
      if key then
        map_accept_key(bufnr, key, how)
      end
    end
  elseif vim.lsp.completion and vim.lsp.completion.enable then
    enable_completion_menu(client, bufnr)
  end
  if opts.on_attach then
    opts.on_attach(client, bufnr)
  end
end

--- Learn the server's models once it runs, for the statusline (no notification).
function M.on_init(client)
  local params = { command = "ollama.status", arguments = {} }
  client:request("workspace/executeCommand", params, function(err, status)
    if not err and type(status) == "table" then
      M.state.model = status.model
      M.state.chatModel = status.chatModel
      vim.cmd.redrawstatus({ bang = true })
    end
  end)
end

--- `vim.lsp.enable` starts clients from the FileType event only, which never fires for a
--- buffer without a filetype; with `filetypes = nil` those buffers are started here.
local function start_untyped(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].filetype ~= "" then
    return
  end
  if not wanted(bufnr) or #vim.lsp.get_clients({ bufnr = bufnr, name = M.name }) > 0 then
    return
  end
  local config = vim.deepcopy(vim.lsp.config[M.name])
  config.root_dir = config.root_dir or vim.fs.root(bufnr, config.root_markers or {})
  vim.lsp.start(config, { bufnr = bufnr, reuse_client = config.reuse_client })
end

function M.setup(opts)
  if vim.fn.has("nvim-0.11") == 0 then
    notify("ollama_lsp needs Neovim 0.11 or newer", vim.log.levels.ERROR)
    return
  end
  local given = opts or {}
  opts = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), given)
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if type(given[key]) == "table" then
      opts[key] = vim.deepcopy(given[key]) -- a list replaces the default, never merges into it
    end
  end
  M.options = opts
  local settings = M.settings_of(opts)
  M.state.model = settings.model
  M.state.chatModel = settings.chatModel

  vim.lsp.config(M.name, {
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = { ollama = settings },
    settings = { ollama = settings },
    -- One server serves every project: it knows no workspace, so one cache and one status.
    reuse_client = function(client, config)
      return client.name == config.name and not client:is_stopped()
    end,
    on_init = M.on_init,
    on_attach = M.on_attach,
  })
  vim.lsp.enable(M.name)

  local group = vim.api.nvim_create_augroup("ollama_lsp", { clear = true })
  if opts.filetypes == nil then
    vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
      group = group,
      callback = function(args)
        vim.schedule(function()
          start_untyped(args.buf)
        end)
      end,
    })
  end
  progress.attach(group, M)
  require("ollama_lsp.commands").define(M)
end

--- The running ollama_lsp client: the current buffer's, else any.
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr or 0 })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end

--- Run a server command; `callback(err, result)`. Returns the request id, or nil when no
--- client runs (the user is told).
function M.execute(command, arguments, callback)
  local client = M.client()
  callback = callback or function() end
  if not client then
    local message = "ollama-lsp is not running: open a file after require('ollama_lsp').setup()"
    notify(message, vim.log.levels.WARN)
    callback({ message = message }, nil)
    return nil
  end
  local params = { command = command, arguments = arguments or {} }
  local ok, id = client:request("workspace/executeCommand", params, function(err, result)
    callback(err, result)
  end)
  if not ok then
    callback({ message = "ollama-lsp has stopped" }, nil)
    return nil
  end
  return id
end

local function buffer(bufnr)
  return (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
end

--- The suggestion drawn as ghost text in `bufnr` (default: current) as the user sees it, its
--- lines joined with "\n"; nil when none is drawn. (For scripts and tests that drive the plugin.)
function M.ghost(bufnr)
  return ghost.text(buffer(bufnr))
end

--- Insert the suggestion that fits the text now: `how` is "all" (default), "word" or "line".
--- Returns false when there is none. Call it from a Lua callback mapping (not an expr one:
--- it runs before the keys typed ahead of it are inserted, and may not change the buffer).
function M.accept(how, bufnr)
  return ghost.accept(buffer(bufnr), how or "all")
end

--- Ask for a suggestion now, without the server's typing pause.
function M.suggest(bufnr)
  ghost.suggest(buffer(bufnr))
end

--- "ollama: pulling 42%" while a pull runs, else "ollama: MODEL".
function M.statusline()
  return progress.statusline(M.state.model)
end

local commands = require("ollama_lsp.commands")
for _, name in ipairs(commands.exported) do
  M[name] = function(...)
    return commands[name](M, ...)
  end
end

return M
