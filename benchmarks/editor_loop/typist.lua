-- The typist: types the target at human speed inside Neovim's own loop (uv timers, keys via
-- nvim_input, so no RPC round trip adds jitter), watches the ghost every `poll_ms`, accepts
-- with the client's key when the ghost is exactly what comes next and has been in view,
-- unchanged and with no key typed, for `reaction_ms`; then checks the buffer against the
-- corpus (a wrong one is logged and repaired so the run goes on).
--
-- mode "unhurried": no clock; after each key or accept it waits until nothing is in flight and
-- the ghost has not changed for `settle_ms`, then accepts a matching ghost or types the next key.
local W = dofile(os.getenv("EL_DIR") .. "/watch.lua")
local api = vim.api
local T = {}

local function split(text)
  return vim.split(text, "\n", { plain = true })
end

function T.run(cfg, env)
  local target, bufnr, log, now = cfg.target, env.bufnr, env.log, W.now
  local start_row, tail_lines = cfg.start_row, cfg.tail_lines
  local key_of, row_of, line_start = {}, {}, {}
  for k, key in ipairs(cfg.keys) do
    for p = key[1], key[1] + #key[2] - 1 do
      key_of[p] = k
    end
  end
  local row, ls = 0, 1
  for p = 0, #target do
    row_of[p], line_start[p] = row, ls
    if target:sub(p + 1, p + 1) == "\n" then
      row, ls = row + 1, p + 2
    end
  end
  local last = cfg.keys[#cfg.keys]
  local stop_pos = last[1] + #last[2]
  local s = { pos = 0, prev = 0, keys = 0, last_ghost = {}, changed_at = now(), action_at = now() }

  local function line_at(p)
    return target:sub(line_start[p], p)
  end
  --- Which typed position the buffer shows now (pos, the one before a key not yet processed,
  --- or the one after an accept being made); -1 when it is none of them (a wrong buffer).
  local function buffer_pos()
    local cursor = api.nvim_win_get_cursor(0)
    local line = api.nvim_get_current_line()
    local candidates = { s.pos, s.prev }
    if s.accepting then -- the accept may have landed already
      table.insert(candidates, 1, s.accepting.pos + #s.accepting.text)
    end
    for _, p in ipairs(candidates) do
      if cursor[1] == start_row + row_of[p] and cursor[2] == #line_at(p) and line == line_at(p) then
        return p
      end
    end
    return -1
  end
  local function matches(g)
    return g ~= nil and g:find("%S") ~= nil and target:sub(s.pos + 1, s.pos + #g) == g
  end
  local function stop_timer(name)
    local timer = s[name]
    s[name] = nil
    if timer and not timer:is_closing() then
      timer:stop()
      timer:close()
    end
  end
  local function after(name, ms, fn)
    stop_timer(name)
    local timer = assert(vim.uv.new_timer())
    s[name] = timer
    timer:start(math.max(0, math.floor(ms)), 0, vim.schedule_wrap(function()
      if s[name] == timer then
        stop_timer(name)
        fn()
      end
    end))
  end

  local press_accept, next_key, finish
  local function after_action()
    s.action_at = now()
    if s.pos >= stop_pos then
      return finish()
    end
    if cfg.mode == "unhurried" then
      s.waiting = true
      return
    end
    local k = key_of[s.pos]
    after("key_timer", cfg.delays[k] * 1000, next_key)
  end

  --- Arm the accept for the ghost in view, `reaction_ms` after it (or the last key) changed.
  local function consider(g)
    stop_timer("accept_timer")
    if cfg.mode ~= "unhurried" and not s.accepting and not s.finishing and matches(g) then
      local since = math.max(s.changed_at, s.action_at)
      after("accept_timer", since + cfg.reaction_ms - now(), function()
        local seen = s.last_ghost
        if seen.text == g and seen.p == s.pos and matches(g) then
          press_accept(g)
        end
      end)
    end
  end

  next_key = function()
    if s.accepting or s.finishing then
      return
    end
    local k = key_of[s.pos]
    local text = target:sub(s.pos + 1, cfg.keys[k][1] + #cfg.keys[k][2])
    stop_timer("accept_timer")
    log({ e = "key", t = now(), p = s.pos, n = #text })
    api.nvim_input((text:gsub("<", "<lt>"):gsub("\n", "<CR>")))
    s.prev, s.pos, s.keys = s.pos, s.pos + #text, s.keys + 1
    after_action()
    consider(s.last_ghost.text)
  end

  press_accept = function(g)
    stop_timer("key_timer")
    s.waiting = false
    s.accepting = { t = now(), text = g, tick = api.nvim_buf_get_changedtick(bufnr), pos = s.pos }
    log({ e = "tab", t = s.accepting.t, p = s.pos, text = g })
    api.nvim_input(cfg.accept_key)
  end

  local function expected_lines(p)
    return split(target:sub(1, p))
  end
  local function check_accept()
    local a = s.accepting
    local p = a.pos + #a.text
    local count = api.nvim_buf_line_count(bufnr)
    local region = api.nvim_buf_get_lines(bufnr, start_row - 1, count - tail_lines, false)
    local want = expected_lines(p)
    local cursor = api.nvim_win_get_cursor(0)
    local ok = vim.deep_equal(region, want)
      and cursor[1] == start_row + row_of[p]
      and cursor[2] == #line_at(p)
      and api.nvim_get_mode().mode == "i"
    log({ e = "accepted", t = now(), p = p, n = #a.text, ok = ok, waited = now() - a.t,
      got = not ok and table.concat(region, "\n") or nil,
      cursor = not ok and cursor or nil })  -- fmt: skip
    if not ok then
      api.nvim_buf_set_lines(bufnr, start_row - 1, count - tail_lines, false, want)
      api.nvim_win_set_cursor(0, { start_row + row_of[p], #line_at(p) })
    end
    s.accepting, s.prev, s.pos = nil, p, p
    after_action()
  end

  local function settled()
    local t = now()
    if t - s.action_at > cfg.settle_timeout_ms then
      log({ e = "settle_timeout", t = t, p = s.pos })
      return true
    end
    return t - s.action_at >= cfg.min_wait_ms
      and env.inflight() == 0
      and t - s.changed_at >= cfg.settle_ms
      and t - env.last_answer() >= cfg.settle_ms
  end

  local function tick()
    if s.finished then
      return
    end
    local text, row, col = env.ghost()
    local p = buffer_pos()
    local g = s.last_ghost
    if text ~= g.text or row ~= g.row or col ~= g.col or p ~= g.p then
      local cursor = api.nvim_win_get_cursor(0)
      log({ e = "ghost", t = now(), g = text or vim.NIL, r = row, c = col,
        cr = cursor[1] - 1, cc = cursor[2], p = p })  -- fmt: skip
      if text ~= g.text or row ~= g.row or col ~= g.col then
        s.changed_at = now()
      end
      s.last_ghost = { text = text, row = row, col = col, p = p }
      if text ~= g.text then
        consider(text)
      end
    end
    local a = s.accepting
    if a then
      if not a.changed and api.nvim_buf_get_changedtick(bufnr) ~= a.tick then
        a.changed = now()
      end
      local t = now()
      if (a.changed and t - a.changed >= 2 * cfg.poll_ms and api.nvim_get_mode().mode == "i")
        or t - a.t > cfg.accept_timeout_ms then
        check_accept()
      end
    elseif s.waiting and not s.finishing and settled() then
      s.waiting = false
      if matches(s.last_ghost.text) and s.last_ghost.p == s.pos then
        press_accept(s.last_ghost.text)
      else
        next_key()
      end
    end
  end

  finish = function()
    if s.finishing then
      return
    end
    s.finishing = true
    stop_timer("key_timer")
    stop_timer("accept_timer")
    log({ e = "typed", t = now(), p = s.pos, keys = s.keys })
    vim.defer_fn(function()
      s.finished = true
      s.poll:stop()
      s.poll:close()
      env.done({ pos = s.pos, keys = s.keys })
    end, cfg.tail_ms)
  end

  s.poll = assert(vim.uv.new_timer())
  s.poll:start(0, cfg.poll_ms, vim.schedule_wrap(tick))
  log({ e = "start", t = now(), p = 0 })
  s.action_at = now()
  if cfg.mode == "unhurried" then
    s.waiting = true
  else
    after("key_timer", cfg.delays[1] * 1000, next_key)
  end
end

return T
