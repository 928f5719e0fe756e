--- The server's `$/progress` (pulls, model loads, slow completions, chat), seen through
--- Neovim's LspProgress event: kept per token for the statusline and `:OllamaPullCancel`,
--- and told through `vim.notify` for pulls and loads.
local M = {}

--- token -> { client_id, title, message, percentage, cancellable }
M.active = {}

--- Title prefixes whose progress is worth a notification (slow completions are not).
local NOTIFIED = { "Pulling ", "Loading " }

local function notified(title)
  for _, prefix in ipairs(NOTIFIED) do
    if vim.startswith(title or "", prefix) then
      return true
    end
  end
  return false
end

local function text_of(entry)
  local text = entry.title or "working"
  if entry.percentage then
    text = ("%s %d%%"):format(text, entry.percentage)
  end
  if entry.message and entry.message ~= "" then
    text = text .. " — " .. entry.message
  end
  return text
end

--- Pull notifications at most once per 10% step, so a long pull does not flood messages.
local function worth_telling(entry, percentage)
  if percentage == nil then
    return false
  end
  local step = math.floor(percentage / 10)
  if entry.told_step == step then
    return false
  end
  entry.told_step = step
  return true
end

local function on_progress(plugin, args)
  local data = args.data or {}
  local client = vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= plugin.name then
    return
  end
  local params = data.params or {}
  local value = params.value
  if type(value) ~= "table" or params.token == nil then
    return
  end
  local token = params.token
  local tell = plugin.options and plugin.options.notify_progress
  if value.kind == "begin" then
    local entry = {
      client_id = client.id,
      title = value.title,
      message = value.message,
      percentage = value.percentage,
      cancellable = value.cancellable,
    }
    M.active[token] = entry
    if tell and notified(entry.title) then
      worth_telling(entry, entry.percentage or 0)
      plugin._notify(text_of(entry))
    end
  elseif value.kind == "report" then
    local entry = M.active[token]
    if not entry then
      return
    end
    entry.message = value.message or entry.message
    entry.percentage = value.percentage or entry.percentage
    if tell and notified(entry.title) and worth_telling(entry, value.percentage) then
      plugin._notify(text_of(entry))
    end
  elseif value.kind == "end" then
    local entry = M.active[token]
    M.active[token] = nil
    if entry and tell and notified(entry.title) then
      local outcome = value.message and (" — " .. value.message) or " — done"
      plugin._notify((entry.title or "") .. outcome)
    end
  end
  vim.cmd.redrawstatus({ bang = true })
end

function M.attach(group, plugin)
  vim.api.nvim_create_autocmd("LspProgress", {
    group = group,
    callback = function(args)
      on_progress(plugin, args)
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local client_id = args.data and args.data.client_id
      local client = client_id and vim.lsp.get_client_by_id(client_id)
      if client and client:is_stopped() then
        M.forget(client_id)
      end
    end,
  })
end

function M.forget(client_id)
  for token, entry in pairs(M.active) do
    if entry.client_id == client_id then
      M.active[token] = nil
    end
  end
end

--- The pulls now running: { token, entry } each.
function M.pulls()
  local found = {}
  for token, entry in pairs(M.active) do
    if vim.startswith(entry.title or "", "Pulling ") then
      table.insert(found, { token = token, entry = entry })
    end
  end
  return found
end

function M.statusline(model)
  local pulls = M.pulls()
  if #pulls > 0 then
    local entry = pulls[1].entry
    return ("ollama: pulling %d%%"):format(entry.percentage or 0)
  end
  for _, entry in pairs(M.active) do
    if notified(entry.title) then
      return "ollama: " .. entry.title:sub(1, 1):lower() .. entry.title:sub(2)
    end
  end
  return model and ("ollama: " .. model) or "ollama"
end

return M
