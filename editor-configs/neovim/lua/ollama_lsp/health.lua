--- `:checkhealth ollama_lsp`: Neovim, the server command, and Ollama itself.
local M = {}

local health = vim.health

local function check_neovim()
  health.start("Neovim")
  local v = vim.version()
  local version = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.11") == 0 then
    health.error(("Neovim %s: ollama_lsp needs 0.11 or newer (vim.lsp.config)"):format(version))
    return
  end
  health.ok(("Neovim %s"):format(version))
  local plugin = require("ollama_lsp")
  if not plugin.options or plugin.options.inline then
    health.ok("inline completion (ghost text) is available: drawn by the plugin")
  else
    health.info("inline = false: suggestions come through the completion menu (<C-y> accepts)")
  end
  if plugin.options then
    health.ok("setup() was called")
  else
    health.warn("setup() was not called", { 'add require("ollama_lsp").setup({}) to your config' })
  end
end

local function check_command(opts)
  health.start("ollama-lsp")
  local exe = opts.cmd[1]
  if vim.fn.executable(exe) == 1 then
    health.ok(("`%s` is executable (%s)"):format(exe, vim.fn.exepath(exe)))
    return true
  end
  health.error(("`%s` is not executable"):format(exe), {
    "pip install ollama-lsp (or the repository: pip install .) into a Python on your PATH",
    "or set cmd = { '/path/to/ollama-lsp' } in setup()",
  })
  return false
end

local function check_running_client(plugin)
  local client = plugin.client()
  if not client then
    return false
  end
  local params = { command = "ollama.status", arguments = {} }
  local answer, err = client:request_sync("workspace/executeCommand", params, 5000)
  if not answer then
    health.error("the running ollama-lsp did not answer ollama.status: " .. tostring(err))
    return true
  end
  if answer.err then
    health.error("ollama.status failed: " .. (answer.err.message or vim.inspect(answer.err)))
    return true
  end
  local s = answer.result
  if s.reachable then
    health.ok(("Ollama %s is reachable at %s (asked the running server)"):format(s.version, s.host))
    health.ok(("completion model: %s, chat model: %s"):format(s.model, s.chatModel))
  else
    health.error(("Ollama is not reachable at %s"):format(s.host), { "start it with `ollama serve`" })
  end
  return true
end

local function check_with_cli(opts, plugin)
  local settings = plugin.settings_of(opts)
  local command = vim.list_slice(opts.cmd)
  if settings.host then
    vim.list_extend(command, { "--ollama-host", settings.host })
  end
  vim.list_extend(command, { "check" })
  if settings.model then
    vim.list_extend(command, { "--model", settings.model })
  end
  local ok, job = pcall(vim.system, command, { text = true, env = opts.cmd_env, timeout = 15000 })
  if not ok then
    health.error("could not run " .. table.concat(command, " ") .. ": " .. tostring(job))
    return
  end
  local result = job:wait()
  local output = vim.trim((result.stdout or "") .. (result.stderr or ""))
  local lines = vim.split(output, "\n", { plain = true })
  if result.code == 0 then
    health.ok("`ollama-lsp check`: " .. lines[1])
    for i = 2, #lines do
      health.info(lines[i])
    end
  else
    health.error("`ollama-lsp check` failed: " .. (output ~= "" and output or ("exit " .. result.code)))
  end
end

function M.check()
  check_neovim()
  local plugin = require("ollama_lsp")
  local opts = plugin.options or plugin.defaults
  local runnable = check_command(opts)
  health.start("Ollama")
  if not check_running_client(plugin) and runnable then
    check_with_cli(opts, plugin)
  end
end

return M
