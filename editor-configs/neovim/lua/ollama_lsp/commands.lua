--- The `:Ollama*` commands. Each is a function `(plugin, ...)` here and `require("ollama_lsp").NAME(...)`
--- there; all are asynchronous and take an optional `callback(err, result)` last.
local progress = require("ollama_lsp.progress")
local status_text = require("ollama_lsp.status")

local M = {}

M.exported = {
  "list",
  "models",
  "select",
  "select_chat",
  "pull",
  "pull_cancel",
  "delete",
  "status",
  "chat",
  "format_row",
  "model_names",
}

local levels = vim.log.levels

local function done(callback, err, result)
  if callback then
    callback(err, result)
  end
end

local function error_text(err)
  return type(err) == "table" and (err.message or vim.inspect(err)) or tostring(err)
end

M.format_size = status_text.format_size

--- "codellama:7b-code  3.8 GB  Q4_0  (active)"
function M.format_row(_, row)
  local tags = {}
  if row.active then
    table.insert(tags, "active")
  end
  if row.activeChat then
    table.insert(tags, "chat")
  end
  if row.installed == false then
    table.insert(tags, "not installed")
  elseif row.loaded then
    table.insert(tags, "loaded")
  end
  if row.fitsInMemory == false then
    table.insert(tags, "too big for free RAM")
  end
  local text = ("%s  %s  %s"):format(row.name, M.format_size(row.size), row.quantization or "?")
  if #tags > 0 then
    text = text .. "  (" .. table.concat(tags, ", ") .. ")"
  end
  return text
end

--- Fetch `ollama.listModels`, remembering the rows for name completion and the statusline.
function M.list(plugin, callback)
  plugin.execute("ollama.listModels", {}, function(err, rows)
    if not err and type(rows) == "table" then
      plugin.state.rows = rows
      for _, row in ipairs(rows) do
        if row.active then
          plugin.state.model = row.name
        end
        if row.activeChat then
          plugin.state.chatModel = row.name
        end
      end
    end
    done(callback, err, rows)
  end)
end

--- Names from the last listModels (asking the server once, briefly, if none is known yet).
function M.model_names(plugin, installed_only)
  if #plugin.state.rows == 0 then
    local client = plugin.client()
    if client then
      local params = { command = "ollama.listModels", arguments = {} }
      local answer = client:request_sync("workspace/executeCommand", params, 1500)
      if answer and answer.result then
        plugin.state.rows = answer.result
      end
    end
  end
  local names = {}
  for _, row in ipairs(plugin.state.rows) do
    if not installed_only or row.installed ~= false then
      table.insert(names, row.name)
    end
  end
  return names
end

function M.models(plugin, callback)
  M.list(plugin, function(err, rows)
    if err then
      plugin._notify("listing models failed: " .. error_text(err), levels.ERROR)
    else
      local lines = { "Ollama models:" }
      for _, row in ipairs(rows) do
        table.insert(lines, "  " .. M.format_row(plugin, row))
      end
      plugin._notify(table.concat(lines, "\n"))
    end
    done(callback, err, rows)
  end)
end

local function select_installed(plugin, name, role, callback)
  plugin.execute("ollama.selectModel", { name, role }, function(err, result)
    if err then
      plugin._notify(error_text(err), levels.ERROR)
    else
      plugin.state.model = result.model
      plugin.state.chatModel = result.chatModel
      local what = role == "chat" and "chat model" or "completion model"
      plugin._notify(("ollama %s: %s"):format(what, result.selected or name))
      if result.warning and result.warning ~= vim.NIL then
        plugin._notify(result.warning, levels.WARN)
      end
      vim.cmd.redrawstatus({ bang = true })
    end
    done(callback, err, result)
  end)
end

--- Select `name` for `role` ("completion", default, or "chat"); without a name, pick from a
--- list (vim.ui.select). A model not yet installed is pulled first.
function M.select(plugin, name, role, callback)
  role = role or "completion"
  if name and name ~= "" then
    return select_installed(plugin, name, role, callback)
  end
  M.list(plugin, function(err, rows)
    if err then
      plugin._notify("listing models failed: " .. error_text(err), levels.ERROR)
      return done(callback, err, nil)
    end
    local prompt = role == "chat" and "Ollama chat model" or "Ollama completion model"
    vim.ui.select(rows, {
      prompt = prompt,
      kind = "ollama_model",
      format_item = function(row)
        return M.format_row(plugin, row)
      end,
    }, function(row)
      if not row then
        return done(callback, nil, nil)
      end
      if row.installed == false then
        M.pull(plugin, row.name, function(pull_err, pulled)
          if pull_err or not pulled or pulled.status ~= "success" then
            return done(callback, pull_err or { message = "pull did not finish" }, pulled)
          end
          select_installed(plugin, row.name, role, callback)
        end)
      else
        select_installed(plugin, row.name, role, callback)
      end
    end)
  end)
end

function M.select_chat(plugin, name, callback)
  return M.select(plugin, name, "chat", callback)
end

--- Pull `name`; progress arrives through LspProgress (see progress.lua).
function M.pull(plugin, name, callback)
  if not name or name == "" then
    plugin._notify("OllamaPull needs a model name, e.g. :OllamaPull codellama:7b-code", levels.WARN)
    return done(callback, { message = "no model name" }, nil)
  end
  return plugin.execute("ollama.pullModel", { name }, function(err, result)
    if err then
      plugin._notify(("pulling %s failed: %s"):format(name, error_text(err)), levels.ERROR)
    elseif result.status == "cancelled" then
      plugin._notify(("pull of %s cancelled"):format(name), levels.WARN)
    else
      plugin._notify(("pulled %s"):format(name))
      M.list(plugin)
    end
    done(callback, err, result)
  end)
end

--- Cancel every pull now running (its token came with the pull's `begin` progress).
--- Returns how many were asked to stop.
function M.pull_cancel(plugin)
  local count = 0
  for _, pull in ipairs(progress.pulls()) do
    local client = vim.lsp.get_client_by_id(pull.entry.client_id)
    if client then
      client:notify("window/workDoneProgress/cancel", { token = pull.token })
      count = count + 1
    end
  end
  if count == 0 then
    plugin._notify("no pull is running", levels.WARN)
  end
  return count
end

--- Delete `name` after confirming (through vim.ui.select); `opts.force` skips the question.
function M.delete(plugin, name, opts, callback)
  opts = opts or {}
  local function run()
    plugin.execute("ollama.deleteModel", { name }, function(err, result)
      if err then
        plugin._notify(("deleting %s failed: %s"):format(name, error_text(err)), levels.ERROR)
      else
        plugin._notify(("deleted %s"):format(name))
        M.list(plugin)
      end
      done(callback, err, result)
    end)
  end
  if opts.force then
    return run()
  end
  vim.ui.select({ "Delete", "Keep" }, { prompt = ("Delete %s from Ollama?"):format(name) }, function(choice)
    if choice == "Delete" then
      run()
    else
      done(callback, nil, nil)
    end
  end)
end

function M.status(plugin, callback)
  plugin.execute("ollama.status", {}, function(err, s)
    if err then
      plugin._notify("ollama status failed: " .. error_text(err), levels.ERROR)
      return done(callback, err, nil)
    end
    plugin.state.model = s.model
    plugin.state.chatModel = s.chatModel
    local text = table.concat(status_text.lines(s), "\n")
    plugin._notify(text, s.reachable and levels.INFO or levels.WARN)
    done(callback, nil, s)
  end)
end

--- The conversation so far, sent again with each question (the server keeps no history).
M.history = {}

local CHAT_NAME = "ollama://chat"

local function chat_buffer()
  local bufnr = vim.fn.bufnr(CHAT_NAME)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, CHAT_NAME)
    vim.bo[bufnr].filetype = "markdown"
  end
  if vim.fn.bufwinid(bufnr) == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, bufnr)
  end
  return bufnr
end

local function append(bufnr, text)
  local lines = vim.split(text, "\n", { plain = true })
  local last = vim.api.nvim_buf_line_count(bufnr)
  local empty = last == 1 and vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1] == ""
  vim.api.nvim_buf_set_lines(bufnr, empty and 0 or last, -1, false, lines)
end

--- Ask the chat model; the answer goes into the `ollama://chat` scratch split.
--- `opts.new` starts a new conversation.
function M.chat(plugin, text, opts, callback)
  opts = opts or {}
  if opts.new then
    M.history = {}
  end
  if not text or text == "" then
    plugin._notify("OllamaChat needs a question", levels.WARN)
    return done(callback, { message = "no question" }, nil)
  end
  table.insert(M.history, { role = "user", content = text })
  local previous_win = vim.api.nvim_get_current_win()
  local bufnr = chat_buffer()
  append(bufnr, "## you\n" .. text .. "\n")
  vim.api.nvim_set_current_win(previous_win)
  local messages = vim.deepcopy(M.history)
  plugin.execute("ollama.chat", { { messages = messages } }, function(err, result)
    if err then
      table.remove(M.history)
      append(bufnr, "_error: " .. error_text(err) .. "_\n")
      return done(callback, err, nil)
    end
    table.insert(M.history, result.message)
    append(bufnr, ("## %s\n%s\n"):format(result.model, result.message.content))
    done(callback, nil, result)
  end)
end

--- Define the user commands (idempotent).
function M.define(plugin)
  local command = vim.api.nvim_create_user_command
  local function complete_all(lead)
    return vim.tbl_filter(function(name)
      return vim.startswith(name, lead)
    end, M.model_names(plugin, false))
  end
  local function complete_installed(lead)
    return vim.tbl_filter(function(name)
      return vim.startswith(name, lead)
    end, M.model_names(plugin, true))
  end
  command("OllamaModels", function()
    M.models(plugin)
  end, { desc = "List Ollama models" })
  command("OllamaSelect", function(a)
    M.select(plugin, a.args, "completion")
  end, { nargs = "?", complete = complete_all, desc = "Select the completion model" })
  command("OllamaSelectChat", function(a)
    M.select(plugin, a.args, "chat")
  end, { nargs = "?", complete = complete_all, desc = "Select the chat model" })
  command("OllamaPull", function(a)
    M.pull(plugin, a.args)
  end, { nargs = 1, complete = complete_all, desc = "Pull a model into Ollama" })
  command("OllamaPullCancel", function()
    M.pull_cancel(plugin)
  end, { desc = "Cancel the running pull" })
  command("OllamaDelete", function(a)
    M.delete(plugin, a.args, { force = a.bang })
  end, { nargs = 1, bang = true, complete = complete_installed, desc = "Delete a model (! skips the question)" })
  command("OllamaStatus", function()
    M.status(plugin)
  end, { desc = "Show ollama-lsp status" })
  command("OllamaChat", function(a)
    M.chat(plugin, a.args, { new = a.bang })
  end, { nargs = "+", bang = true, desc = "Ask the chat model (! starts a new conversation)" })
end

return M
