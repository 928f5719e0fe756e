--- Ghost text, drawn and accepted by the plugin (extmarks), not by `vim.lsp.inline_completion`.
---
--- Why not Neovim's own inline completion: in 0.12 builds without neovim/neovim#41434 ("advance
--- inline completion range over matching input") and #41435 ("clamp the range on accept") —
--- the PyPI build among them — `vim.lsp.inline_completion.get()` applies the held item at the
--- range it was answered for, so a character typed since survives beside the insertion
--- (`radius` + `e` -> `radiuse`, neovim/neovim#36529); it redraws the held item after any key,
--- minus as many characters as were typed, even when they contradict it (`rx` shows `turn ...`);
--- and it draws an answer whenever it arrives, however old its request. A guard around it could
--- fix accepting (`get{ on_accept = ... }`) but not drawing: that happens inside its private
--- state on every CursorMovedI. Detecting which builds carry the fix would still leave the
--- unfixed ones drawing wrong ghosts. Drawing ourselves, as llama.vim and copilot.lua do, needs
--- no version detection, behaves the same on every build, and gives ghost text on 0.11 too.
---
--- The rules, each checked against the buffer as it is at that moment (never against what an
--- autocommand saw last: keys typed together run no autocommand between them):
--- - An answer is drawn only if the buffer's changedtick and the cursor are those of its
---   request; an older answer is dropped (a newer request is already on its way).
--- - A held suggestion is anchored where it was asked (an extmark that typing at it does not
---   move). It fits the text while the line before the anchor is unchanged, the text from the
---   anchor to the cursor is a prefix of the suggestion, and the text after the cursor is what
---   followed it when it was asked. Then the rest is drawn at the cursor; otherwise it is
---   dropped at once and a new request follows.
--- - Accepting inserts the rest at the cursor: the characters typed through stay, replaced by
---   the suggestion's own (they are equal), never duplicated; nothing happens when it no longer
---   fits. Word and line accepts insert a part the same way; the rest stays drawn.
--- - A few answers are held (newest first), so backspacing inside the typed-through part
---   brings back the one asked before it.
local M = {}

local api = vim.api

local METHOD = "textDocument/inlineCompletion"
local INVOKED, AUTOMATIC = 1, 2
--- Answers held per buffer: enough to backspace over a word typed through a suggestion.
local HELD = 8
--- The highlight group of ghost text (by default linked to Comment).
M.HIGHLIGHT = "OllamaGhost"

local ghosts = api.nvim_create_namespace("ollama_lsp.ghost")
local anchors = api.nvim_create_namespace("ollama_lsp.ghost.anchor")

--- Per buffer: `client_name`, `items` (held answers, oldest first), `pending` (the request in
--- flight), `asked` (the tick and cursor last asked for).
local buffers = {}

local function in_insert()
  return api.nvim_get_mode().mode:sub(1, 1) == "i"
end

local function line_at(bufnr, row)
  return api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
end

--- The cursor of `bufnr`'s window as (0-based row, byte column), if it is the current buffer.
local function cursor_of(bufnr)
  if api.nvim_get_current_buf() ~= bufnr then
    return nil
  end
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function client_of(state, bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = state.client_name })[1]
end

local function forget(bufnr, item)
  pcall(api.nvim_buf_del_extmark, bufnr, anchors, item.mark)
end

--- What is left of `item` to insert at the cursor (row, col), or nil when it no longer fits.
local function rest_of(bufnr, item, row, col)
  local pos = api.nvim_buf_get_extmark_by_id(bufnr, anchors, item.mark, {})
  local arow, acol = pos[1], pos[2]
  if arow == nil or row < arow or (row == arow and col < acol) then
    return nil
  end
  if row - arow > item.newlines or line_at(bufnr, arow):sub(1, acol) ~= item.before then
    return nil
  end
  if line_at(bufnr, row):sub(col + 1) ~= item.after then
    return nil
  end
  local typed = table.concat(api.nvim_buf_get_text(bufnr, arow, acol, row, col, {}), "\n")
  if item.text:sub(1, #typed) ~= typed then
    return nil
  end
  return item.text:sub(#typed + 1)
end

--- The newest held answer that fits the text now, and what is left of it; the ones that do
--- not fit (or are used up) are dropped.
local function fitting(bufnr, state)
  local row, col = cursor_of(bufnr)
  if row == nil then
    return nil
  end
  local kept, best, rest = {}, nil, nil
  for _, item in ipairs(state.items) do
    local left = rest_of(bufnr, item, row, col)
    if left == nil or left == "" then
      forget(bufnr, item)
    else
      table.insert(kept, item)
      best, rest = item, left
    end
  end
  state.items = kept
  return best, rest, row, col
end

local function hide(bufnr)
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, ghosts, 0, -1)
  end
end

--- A tab in virtual text takes one cell: draw it as the spaces it will take once inserted,
--- from display column `start`.
local function shown(text, start)
  if not text:find("\t", 1, true) then
    return text
  end
  local tabstop = vim.bo.tabstop
  local out, width = {}, start
  for piece, tab in text:gmatch("([^\t]*)(\t?)") do
    table.insert(out, piece)
    width = width + vim.fn.strdisplaywidth(piece)
    if tab ~= "" then
      local spaces = tabstop - width % tabstop
      table.insert(out, string.rep(" ", spaces))
      width = width + spaces
    end
  end
  return table.concat(out)
end

local function draw(bufnr, state, row, col, rest)
  hide(bufnr)
  local lines = vim.split(rest, "\n", { plain = true })
  local opts = { hl_mode = "combine" }
  if lines[1] ~= "" then
    -- 'inline': the text after the cursor moves right, as it will when the ghost is accepted.
    local start = vim.fn.strdisplaywidth(line_at(bufnr, row):sub(1, col))
    opts.virt_text = { { shown(lines[1], start), M.HIGHLIGHT } }
    opts.virt_text_pos = "inline"
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      table.insert(opts.virt_lines, { { shown(lines[i], 0), M.HIGHLIGHT } })
    end
  end
  state.drawn = { mark = api.nvim_buf_set_extmark(bufnr, ghosts, row, col, opts), text = rest }
end

--- Draw the newest held answer that fits the text now, or nothing.
function M.refresh(bufnr)
  local state = buffers[bufnr]
  if not state or not api.nvim_buf_is_valid(bufnr) then
    return
  end
  local _, rest, row, col = fitting(bufnr, state)
  if rest == nil or not in_insert() or vim.fn.pumvisible() == 1 then
    hide(bufnr)
  else
    draw(bufnr, state, row, col, rest)
  end
end

local function cancel(bufnr, state)
  local pending = state.pending
  state.pending = nil
  if pending then
    local client = vim.lsp.get_client_by_id(pending.client_id)
    local request = client and pending.id and client.requests[pending.id]
    if request and request.type == "pending" then
      client:cancel_request(pending.id)
    end
  end
end

--- The first answer item as a held suggestion anchored at its range's start (or the cursor).
local function hold(bufnr, client, raw, row, col)
  local text = type(raw) == "table" and raw.insertText
  if type(text) ~= "string" or text == "" then
    return nil -- a snippet (`StringValue`) is not ours to draw
  end
  local line = line_at(bufnr, row)
  local acol = col
  local range = raw.range
  if range and range.start.line == row and range["end"].line == row then
    local start = vim.str_byteindex(line, client.offset_encoding, range.start.character, false)
    local stop = vim.str_byteindex(line, client.offset_encoding, range["end"].character, false)
    if stop ~= col or start > col then
      return nil -- replaces text after the cursor: not something this server sends
    end
    acol = start
  end
  local _, newlines = text:gsub("\n", "")
  local mark = api.nvim_buf_set_extmark(bufnr, anchors, row, acol, { right_gravity = false })
  return {
    mark = mark,
    before = line:sub(1, acol),
    after = line:sub(col + 1),
    text = text,
    newlines = newlines,
    command = raw.command,
    client_id = client.id,
    raw = raw,
  }
end

local function on_answer(bufnr, pending, err, result)
  local state = buffers[bufnr]
  if not state or state.pending ~= pending then
    return -- superseded by a newer request
  end
  state.pending = nil
  if err or type(result) ~= "table" or not api.nvim_buf_is_valid(bufnr) then
    return
  end
  local row, col = cursor_of(bufnr)
  if row ~= pending.row or col ~= pending.col or vim.b[bufnr].changedtick ~= pending.tick then
    return -- the text moved on since it was asked: never draw an outdated answer
  end
  if not in_insert() then
    return
  end
  local client = vim.lsp.get_client_by_id(pending.client_id)
  local items = result.items or result
  local item = client and items[1] and hold(bufnr, client, items[1], row, col)
  if item then
    table.insert(state.items, item)
    while #state.items > HELD do
      forget(bufnr, table.remove(state.items, 1))
    end
  end
  M.refresh(bufnr)
end

--- Ask the server for a suggestion at the cursor; the request in flight is cancelled. An
--- automatic request is not repeated for a text and cursor already asked about.
function M.request(bufnr, kind)
  local state = buffers[bufnr]
  local row, col = cursor_of(bufnr)
  if not state or row == nil or not in_insert() then
    return
  end
  local client = client_of(state, bufnr)
  if not client then
    return
  end
  kind = kind or AUTOMATIC
  local tick = vim.b[bufnr].changedtick
  local key = table.concat({ tick, row, col }, ":")
  if kind == AUTOMATIC and state.asked == key then
    return
  end
  state.asked = key
  cancel(bufnr, state)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = kind }
  local pending = { client_id = client.id, tick = tick, row = row, col = col }
  state.pending = pending
  local ok, id = client:request(METHOD, params, function(err, result)
    on_answer(bufnr, pending, err, result)
  end, bufnr)
  if ok then
    pending.id = id
  elseif state.pending == pending then
    state.pending = nil
  end
end

--- Ask explicitly (the server skips its debounce): for a "suggest now" mapping.
function M.suggest(bufnr)
  M.request(bufnr, INVOKED)
end

--- The part of `rest` a word or line accept takes.
local function part_of(rest, how)
  if how == "word" then
    return rest:match("^%s*[%w_]+") or rest:match("^%s*[^%w_%s]+") or rest:match("^%s+") or rest
  elseif how == "line" then
    return rest:match("^\n?[^\n]*")
  end
  return rest
end

--- Insert the rest of the suggestion that fits the text now ("all"), or its next word or line;
--- returns whether anything was inserted. Runs from a callback mapping, in key order.
function M.accept(bufnr, how)
  local state = buffers[bufnr]
  if not state or not in_insert() then
    return false
  end
  local item, rest, row, col = fitting(bufnr, state)
  if item == nil then
    return false
  end
  local part = part_of(rest, how or "all")
  local lines = vim.split(part, "\n", { plain = true })
  hide(bufnr)
  vim.cmd("let &l:undolevels = &l:undolevels") -- an undo step of its own
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local last = #lines == 1 and col + #part or #lines[#lines]
  api.nvim_win_set_cursor(0, { row + #lines, last })
  local client = vim.lsp.get_client_by_id(item.client_id)
  if client and part == rest then
    if item.command then
      client:exec_cmd(item.command, { bufnr = bufnr })
    end
  elseif client then
    client:notify("textDocument/didPartiallyAcceptCompletion", {
      item = item.raw,
      acceptedLength = vim.str_utfindex(part, "utf-16"),
    })
  end
  M.refresh(bufnr)
  return true
end

--- The suggestion drawn in `bufnr` as the user sees it (what is left to insert, tabs as tabs),
--- lines joined with "\n"; nil if none.
function M.text(bufnr)
  local drawn = buffers[bufnr] and buffers[bufnr].drawn
  if drawn and api.nvim_buf_get_extmark_by_id(bufnr, ghosts, drawn.mark, {})[1] then
    return drawn.text
  end
  return nil
end

local function reset(bufnr)
  local state = buffers[bufnr]
  if state then
    cancel(bufnr, state)
    for _, item in ipairs(state.items) do
      forget(bufnr, item)
    end
    state.items, state.asked = {}, nil
  end
  hide(bufnr)
end

local function define_highlight()
  api.nvim_set_hl(0, M.HIGHLIGHT, { link = "Comment", default = true })
end

--- The highlight group, defined again after a colour scheme clears it.
local function highlight_once()
  define_highlight()
  local group = api.nvim_create_augroup("ollama_lsp.ghost", { clear = true })
  api.nvim_create_autocmd("ColorScheme", { group = group, callback = define_highlight })
  highlight_once = function() end
end

--- Draw ghost text in `bufnr` from the client named `client_name`.
function M.attach(bufnr, client_name)
  if buffers[bufnr] then
    return
  end
  buffers[bufnr] = { client_name = client_name, items = {} }
  highlight_once()
  local group = api.nvim_create_augroup("ollama_lsp.ghost." .. bufnr, { clear = true })
  local function on_change()
    M.refresh(bufnr)
    M.request(bufnr)
  end
  api.nvim_create_autocmd({ "TextChangedI", "TextChangedP", "CursorMovedI" }, {
    group = group,
    buffer = bufnr,
    callback = on_change,
  })
  api.nvim_create_autocmd("InsertEnter", {
    group = group,
    buffer = bufnr,
    callback = function()
      vim.schedule(on_change) -- the cursor is where insert mode puts it only after the event
    end,
  })
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      reset(bufnr)
    end,
  })
  api.nvim_create_autocmd("LspDetach", {
    group = group,
    buffer = bufnr,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == client_name then
        M.detach(bufnr)
      end
    end,
  })
  if in_insert() and api.nvim_get_current_buf() == bufnr then
    on_change()
  end
end

function M.detach(bufnr)
  reset(bufnr)
  buffers[bufnr] = nil
  pcall(api.nvim_del_augroup_by_name, "ollama_lsp.ghost." .. bufnr)
end

function M.attached(bufnr)
  return buffers[bufnr] ~= nil
end

return M
