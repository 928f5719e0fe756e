-- What the user sees and what the client asked: the ghost text drawn now, the editor's
-- completion requests and their answers, and what is still in flight. Read, never changed.
--
-- The ghost comes from `require("ollama_lsp").ghost(bufnr)` when the plugin has it (the
-- suggestion drawn now, string or nil; its place from the plugin's `ollama_lsp.ghost`
-- extmark), else from the extmarks of the client's namespace: Neovim's
-- `nvim.lsp.inline_completion` for the older plugin, llama.vim's `vt_fim` (its hint chunks
-- only, not its info text). Text is the virt_text, then "\n" and each virt_line.
local W = {}
local api = vim.api

function W.now()
  return vim.uv.hrtime() / 1e6
end

local function chunks_text(chunks, hl)
  local parts = {}
  for _, chunk in ipairs(chunks or {}) do
    if hl == nil or chunk[2] == hl then
      parts[#parts + 1] = chunk[1]
    end
  end
  return table.concat(parts)
end

--- The ghost drawn in `ns`: text, row (0-based), col (bytes); nil when nothing is drawn.
function W.extmark_ghost(bufnr, ns, hl)
  local marks = api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
  local text, row, col, lines = nil, nil, nil, {}
  for _, mark in ipairs(marks) do
    local details = mark[4]
    if details.virt_text and text == nil then
      text, row, col = chunks_text(details.virt_text, hl), mark[2], mark[3]
    end
    for _, line in ipairs(details.virt_lines or {}) do
      lines[#lines + 1] = chunks_text(line, hl)
    end
  end
  local all = text or ""
  for _, line in ipairs(lines) do
    all = all .. "\n" .. line
  end
  if all == "" then
    return nil
  end
  return all, row, col
end

--- A reader of the ghost for `client` ("ours" or "llamavim") in `bufnr`.
function W.ghost_reader(client, bufnr)
  if client == "llamavim" then
    local ns = api.nvim_create_namespace("vt_fim")
    return function()
      return W.extmark_ghost(bufnr, ns, "llama_hl_fim_hint")
    end
  end
  local builtin = api.nvim_create_namespace("nvim.lsp.inline_completion")
  local own = api.nvim_create_namespace("ollama_lsp.ghost")
  return function()
    local plugin = package.loaded["ollama_lsp"]
    if plugin and type(plugin.ghost) == "function" then
      local text = plugin.ghost(bufnr)
      if text == nil or text == "" then
        return nil
      end
      local mark = api.nvim_buf_get_extmarks(bufnr, own, 0, -1, { limit = 1 })[1]
      return text, mark and mark[2], mark and mark[3]
    end
    return W.extmark_ghost(bufnr, builtin, nil)
  end
end

--- Record every textDocument/inlineCompletion `client` sends, its answer and its cancel.
--- `on_request(params)` returns a record; `on_answer(record, err, result)`;
--- `on_cancel(record)` (Neovim never calls the handler of a cancelled request). Wraps the
--- client's `request` and `cancel_request`, which every plugin's requests go through.
function W.wrap_requests(client, on_request, on_answer, on_cancel)
  local request, cancel = client.request, client.cancel_request
  local by_id = {}
  client.request = function(self, method, params, handler, bufnr)
    if method ~= "textDocument/inlineCompletion" then
      return request(self, method, params, handler, bufnr)
    end
    local record = on_request(params)
    local function wrapped(err, result, ctx, config)
      if not record.over then
        record.over = true
        on_answer(record, err, result)
      end
      if handler then
        return handler(err, result, ctx, config)
      end
    end
    local ok, id = request(self, method, params, wrapped, bufnr)
    if ok and id then
      by_id[id] = record
    end
    return ok, id
  end
  client.cancel_request = function(self, id)
    local record = by_id[id]
    by_id[id] = nil
    if record and not record.over then
      record.over = true
      on_cancel(record)
    end
    return cancel(self, id)
  end
end

--- The first items of an inline-completion result as {text, line, character} (range start).
function W.items(result)
  local out = {}
  local items = type(result) == "table" and (result.items or result) or {}
  for i, item in ipairs(items) do
    if i > 3 then
      break
    end
    local text = item.insertText
    if type(text) == "table" then
      text = text.value
    end
    local start = item.range and item.range.start or {}
    out[#out + 1] = { text = text or "", line = start.line, character = start.character }
  end
  return out
end

--- How many curl jobs (llama.vim's requests) are running now.
function W.curl_jobs()
  local n = 0
  for _, chan in ipairs(api.nvim_list_chans()) do
    local argv = chan.argv
    if chan.stream == "job" and type(argv) == "table" and argv[1] and argv[1]:match("curl$") then
      n = n + 1
    end
  end
  return n
end

return W
