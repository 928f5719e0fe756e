-- Runs one scenario inside a real Neovim and writes its outcome as JSON to $OLLAMA_TEST_OUT.
--
-- The scenario runs in a coroutine: `H.wait` yields back to Neovim's main loop between polls,
-- so typed keys (nvim_feedkeys) are processed and insert-mode autocommands fire — `vim.wait`
-- alone runs the event loop but never the typeahead.
local H = {}

H.result = {}
H.notes = {}

local function now_ms()
  return vim.uv.hrtime() / 1e6
end

local function write(payload)
  local file = assert(io.open(assert(os.getenv("OLLAMA_TEST_OUT")), "w"))
  file:write(vim.json.encode(payload))
  file:close()
end

--- Wait until `cond()` is truthy (returning its value) or fail after `timeout_ms`.
function H.wait(cond, timeout_ms, what)
  local co = assert(coroutine.running(), "H.wait runs inside H.run")
  local deadline = now_ms() + (timeout_ms or 5000)
  local timer = assert(vim.uv.new_timer())
  timer:start(
    10,
    20,
    vim.schedule_wrap(function()
      if timer:is_closing() then
        return
      end
      local ok, value = pcall(cond)
      if (ok and value) or now_ms() > deadline then
        timer:stop()
        timer:close()
        coroutine.resume(co, ok and value or nil)
      end
    end)
  )
  local value = coroutine.yield()
  if not value then
    error("timed out waiting for " .. (what or "a condition"), 2)
  end
  return value
end

--- Call `start(callback)` and wait for the callback; returns its (err, result).
function H.await(start, timeout_ms, what)
  local box = {}
  start(function(err, result)
    box.done, box.err, box.result = true, err, result
  end)
  H.wait(function()
    return box.done
  end, timeout_ms, what)
  return box.err, box.result
end

--- Wait until the typed keys so far have put Neovim in `mode` ("n", "i", ...).
function H.mode(mode)
  H.wait(function()
    return vim.api.nvim_get_mode().mode == mode
  end, 3000, "mode " .. mode)
end

--- Record every vim.notify call as {msg, level} in H.result.notifications.
function H.record_notifications()
  H.result.notifications = {}
  vim.notify = function(msg, level)
    table.insert(H.result.notifications, { msg = msg, level = level or vim.log.levels.INFO })
  end
end

--- The plugin, set up against the double (env OLLAMA_TEST_HOST, server via OLLAMA_TEST_PYTHON).
function H.setup(opts)
  local plugin = require("ollama_lsp")
  opts = vim.tbl_deep_extend("force", {
    cmd = { os.getenv("OLLAMA_TEST_PYTHON"), "-m", "ollama_lsp", "--log-level", "INFO" },
    cmd_env = { OLLAMA_HOST = os.getenv("OLLAMA_TEST_HOST") },
  }, opts or {})
  plugin.setup(opts)
  return plugin
end

--- Open `path` (a file the test wrote) and wait until ollama_lsp is attached and initialized.
function H.open(path)
  vim.cmd("filetype on")
  vim.cmd.edit(path)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = H.wait(function()
    local c = vim.lsp.get_clients({ bufnr = bufnr, name = "ollama_lsp" })[1]
    return c and c.initialized and c
  end, 10000, "ollama_lsp to attach")
  return bufnr, client
end

function H.lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false)
end

--- The ghost text now drawn in `bufnr` (lines joined with "\n"), or nil: the plugin's own API.
function H.ghost_text(bufnr)
  return require("ollama_lsp").ghost(bufnr or 0)
end

--- Let `ms` pass with the event loop running: a user's reaction time in a scenario (never a
--- way to wait for something; that is H.wait).
function H.sleep(ms)
  local co = assert(coroutine.running(), "H.sleep runs inside H.run")
  vim.defer_fn(function()
    coroutine.resume(co)
  end, ms)
  coroutine.yield()
end

--- Every textDocument/inlineCompletion request of `bufnr` from now on, in order, as
--- {id, tick, col, state}: the changedtick and cursor column when it was sent, and
--- "pending", "complete" or "cancel".
function H.record_requests(bufnr)
  local list, by_id = {}, {}
  vim.api.nvim_create_autocmd("LspRequest", {
    buffer = bufnr,
    callback = function(args)
      local request = args.data.request
      if request.method ~= "textDocument/inlineCompletion" then
        return
      end
      local id = args.data.request_id
      if request.type == "pending" and not by_id[id] then
        local entry = {
          id = id,
          tick = vim.b[bufnr].changedtick,
          col = vim.api.nvim_win_get_cursor(0)[2],
          state = "pending",
        }
        by_id[id] = entry
        table.insert(list, entry)
      elseif by_id[id] then
        by_id[id].state = request.type
      end
    end,
  })
  return list
end

--- Sample the ghost text of `bufnr` every few milliseconds and after every change, recording
--- each one drawn as {before = the line up to the cursor, ghost = its text}. Returns the list
--- and a function that stops sampling.
function H.watch_ghosts(bufnr)
  local samples = {}
  local function sample()
    local ghost = H.ghost_text(bufnr)
    if ghost and vim.api.nvim_get_current_buf() == bufnr then
      local row, col = unpack(vim.api.nvim_win_get_cursor(0))
      local before = H.lines(bufnr)[row]:sub(1, col)
      local last = samples[#samples]
      if not last or last.before ~= before or last.ghost ~= ghost then
        table.insert(samples, { before = before, ghost = ghost })
      end
    end
  end
  local timer = assert(vim.uv.new_timer())
  timer:start(0, 5, vim.schedule_wrap(sample))
  local autocmd = vim.api.nvim_create_autocmd({ "TextChangedI", "CursorMovedI" }, {
    buffer = bufnr,
    callback = sample,
  })
  return samples, function()
    sample()
    timer:stop()
    timer:close()
    vim.api.nvim_del_autocmd(autocmd)
  end
end

--- Run `scenario()` in a coroutine after startup; write {ok, error, result} and quit.
function H.run(scenario)
  vim.schedule(function()
    local co = coroutine.create(function()
      local ok, err = xpcall(scenario, debug.traceback)
      write({ ok = ok, error = not ok and tostring(err) or nil, result = H.result })
      for _, client in ipairs(vim.lsp.get_clients()) do
        client:stop(true)
      end
      vim.cmd("qa!")
    end)
    local ok, err = coroutine.resume(co)
    if not ok then
      write({ ok = false, error = tostring(err), result = H.result })
      vim.cmd("qa!")
    end
  end)
end

return H
