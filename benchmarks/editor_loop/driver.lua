-- The editor side of the loop: `nvim --headless -u NONE -i NONE -n -c "luafile driver.lua"`
-- with $EL_DIR (this folder) and $EL_CONFIG (the run's JSON, written by neovim.py).
-- Sets up one client (ours: editor-configs/neovim; or llama.vim), opens the corpus document,
-- lets it warm up as a user opening a file would, enters insert mode, waits for the go-ahead
-- (a file the orchestrator writes once the engine is idle), runs the typist and writes every
-- event (timestamps from vim.uv.hrtime, in ms) as JSON to cfg.out.
local dir = assert(os.getenv("EL_DIR"))
local W = dofile(dir .. "/watch.lua")
local T = dofile(dir .. "/typist.lua")
local api = vim.api
local file = assert(io.open(assert(os.getenv("EL_CONFIG"))))
local cfg = vim.json.decode(file:read("*a"))
file:close()

local events = {}
local function log(event)
  events[#events + 1] = event
end

local written = false
local function write_and_quit(result)
  if not written then
    written = true
    local out = assert(io.open(cfg.out, "w"))
    out:write(vim.json.encode({ events = events, result = result }))
    out:close()
  end
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  vim.cmd("qa!")
end

local function fail(message)
  log({ e = "error", t = W.now(), message = message })
  write_and_quit({ error = message })
end

--- Call `fn(value)` once `cond()` is truthy; fail after `timeout_ms`.
local function when(cond, timeout_ms, what, fn)
  local deadline = W.now() + timeout_ms
  local timer = assert(vim.uv.new_timer())
  timer:start(20, 20, vim.schedule_wrap(function()
    if timer:is_closing() then
      return
    end
    local ok, value = pcall(cond)
    if (ok and value) or W.now() > deadline then
      timer:stop()
      timer:close()
      if ok and value then
        fn(value)
      else
        fail("timed out waiting for " .. what .. (ok and "" or (": " .. tostring(value))))
      end
    end
  end))
end

local function plain_buffer(bufnr)
  for name, value in pairs({ autoindent = false, smartindent = false, cindent = false,
    indentexpr = "", textwidth = 0, formatoptions = "", expandtab = false }) do  -- fmt: skip
    vim.bo[bufnr][name] = value
  end
end

local answered_at = -1e12
local env = { log = log }

--- Ours: the plugin from editor-configs/neovim, its requests and answers recorded.
local function setup_ours(ready)
  vim.opt.rtp:prepend(cfg.plugin_dir)
  require("ollama_lsp").setup(cfg.setup)
  vim.cmd.edit(cfg.doc)
  local bufnr = api.nvim_get_current_buf()
  local pending, next_id = {}, 0
  when(function()
    local c = vim.lsp.get_clients({ bufnr = bufnr, name = "ollama_lsp" })[1]
    return c and c.initialized and c
  end, 30000, "ollama_lsp to attach", function(client)
    W.wrap_requests(client, function(params)
      next_id = next_id + 1
      local record = { id = next_id, t = W.now() }
      pending[next_id] = record
      log({ e = "req", t = record.t, id = next_id, line = params.position.line,
        character = params.position.character })  -- fmt: skip
      return record
    end, function(record, err, result)
      pending[record.id] = nil
      answered_at = W.now()
      log({ e = "ans", t = answered_at, id = record.id, items = W.items(result),
        err = err and (err.message or tostring(err)) or nil })  -- fmt: skip
    end, function(record)
      pending[record.id] = nil
      log({ e = "cancel", t = W.now(), id = record.id })
    end)
    env.inflight = function()
      local n, t = 0, W.now()
      for _, record in pairs(pending) do
        if t - record.t < 60000 then
          n = n + 1
        end
      end
      return n
    end
    ready(bufnr, W.ghost_reader("ours", bufnr))
  end)
end

--- llama.vim from its checkout, pointed at llama-server (through the recording proxy).
local function setup_llamavim(ready)
  vim.g.llama_config = cfg.llama_config
  vim.opt.rtp:prepend(cfg.llama_vim_dir)
  vim.cmd("source " .. vim.fn.fnameescape(cfg.llama_vim_dir .. "/plugin/llama.vim"))
  vim.cmd.edit(cfg.doc)
  local bufnr = api.nvim_get_current_buf()
  local running = 0
  env.inflight = function()
    local n = W.curl_jobs()
    if n < running then
      answered_at = W.now()
    end
    running = n
    return n
  end
  ready(bufnr, W.ghost_reader("llamavim", bufnr))
end

local function start(bufnr, ghost)
  plain_buffer(bufnr)
  env.bufnr, env.ghost = bufnr, ghost
  env.last_answer = function()
    return answered_at
  end
  env.done = function(result)
    log({ e = "end", t = W.now() })
    write_and_quit(result)
  end
  api.nvim_win_set_cursor(0, { cfg.start_row, 0 })
  vim.defer_fn(function()
    api.nvim_input("i")
    when(function()
      return api.nvim_get_mode().mode == "i"
    end, 5000, "insert mode", function()
      -- Tell the orchestrator we are ready; it says "go" once the engine has been idle a
      -- while (llama.vim's context warm-up, our warm-up and prefill done), so every client
      -- starts typing from a settled engine.
      vim.defer_fn(function()
        local ready = assert(io.open(cfg.ready, "w"))
        ready:close()
        when(function()
          return vim.uv.fs_stat(cfg.go) ~= nil
        end, cfg.go_timeout_ms, "the go-ahead", function()
          T.run(cfg, env)
        end)
      end, 300)
    end)
  end, cfg.warmup_ms)
end

vim.defer_fn(function()
  fail("deadline: the run took longer than " .. cfg.deadline_ms .. " ms")
end, cfg.deadline_ms)
vim.cmd("filetype on")
vim.schedule(function()
  local ok, err = pcall(cfg.client == "llamavim" and setup_llamavim or setup_ours, start)
  if not ok then
    fail(tostring(err))
  end
end)
