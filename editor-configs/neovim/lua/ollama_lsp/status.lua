--- `:OllamaStatus`'s text: the server's `ollama.status` answer as lines a person reads.
---
--- Pure (no client, no notify) so the wording is one function of the answer. Every field is
--- treated as possibly missing or `vim.NIL`: an older or newer server must never make the
--- command throw while formatting.
local M = {}

local function present(value)
  return value ~= nil and value ~= vim.NIL
end

local function known(value)
  return present(value) and tostring(value) or "?"
end

function M.format_size(bytes)
  if type(bytes) ~= "number" then
    return "?"
  end
  if bytes >= 1e9 then
    return ("%.1f GB"):format(bytes / 1e9)
  end
  return ("%.2f GB"):format(bytes / 1e9)
end

local function pairs_text(t)
  if type(t) ~= "table" then
    return tostring(t)
  end
  local parts = {}
  for key, value in vim.spairs(t) do
    if present(value) then
      table.insert(parts, ("%s %s"):format(key, tostring(value)))
    end
  end
  return table.concat(parts, ", ")
end

--- "http://a:11434: up" or "http://b:11434: down — <why>": one line per host, but only when
--- they tell something the first line does not — a pool (which host is up is the news), or a
--- host that is down (its error says why; the first line only says "NOT reachable").
function M.host_lines(s)
  local hosts = type(s.hosts) == "table" and s.hosts or {}
  local any_down = false
  for _, h in ipairs(hosts) do
    any_down = any_down or h.state == "down"
  end
  if #hosts < 2 and not any_down then
    return {}
  end
  local lines = {}
  for _, h in ipairs(hosts) do
    local line = ("  %s: %s"):format(tostring(h.host), present(h.state) and h.state or "unknown")
    if h.state == "down" and present(h.error) and h.error ~= "" then
      line = line .. " — " .. tostring(h.error)
    end
    table.insert(lines, line)
  end
  table.insert(lines, 1, #hosts > 1 and "hosts:" or "host:")
  return lines
end

--- The first line: where we talk to, and whether it answers. An OpenAI-compatible server has
--- no Ollama version, so it is named for its API instead.
local function where(s)
  local reach = s.reachable and "reachable" or "NOT reachable"
  if s.api == "openai" then
    return ("OpenAI-compatible server at %s: %s"):format(known(s.host), reach)
  end
  return ("Ollama %s at %s: %s"):format(known(s.version), known(s.host), reach)
end

--- All of `:OllamaStatus`, as a list of lines.
function M.lines(s)
  local lines = { where(s) }
  if s.api == "openai" then
    table.insert(lines, "api: openai (/v1/completions; pulling and deleting models need Ollama)")
  end
  vim.list_extend(lines, M.host_lines(s))
  local loaded = {}
  for _, m in ipairs(type(s.loaded) == "table" and s.loaded or {}) do
    table.insert(loaded, m.name)
  end
  local mem = type(s.memory) == "table" and s.memory or {}
  vim.list_extend(lines, {
    ("completion model: %s   chat model: %s"):format(known(s.model), known(s.chatModel)),
    "loaded: " .. (#loaded > 0 and table.concat(loaded, ", ") or "none"),
    ("memory: server %s, free %s of %s"):format(
      M.format_size(mem.rss),
      M.format_size(mem.available),
      M.format_size(mem.total)
    ),
    "cache: " .. pairs_text(s.cache),
    "completions: " .. pairs_text(s.completions),
    "suggestions: " .. pairs_text(s.suggestions),
  })
  return lines
end

return M
