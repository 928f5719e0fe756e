"""The whole language server with ``ollama.api: "openai"`` against a real OpenAI-compatible
server no one here wrote: ``python -m llama_cpp.server`` serving SmolLM2's real weights.

Same editor session as against Ollama — inline completions, listing models, status — and what
needs Ollama (pulling) says so plainly instead of failing strangely.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, open_document
from tests.remote.conftest import StartRemote

from .llama_cpp_server import LlamaServer, need

URI = "file:///work/project/calc.py"
DOC = "def add(a, b):\n    return \n"
WAIT_S = 60
SMOLLM2 = "smollm2:135m"


@pytest.fixture(scope="module")
def llama() -> Iterator[LlamaServer]:
    running = LlamaServer(need(SMOLLM2), SMOLLM2, "--interrupt_requests", "False").start()
    yield running
    running.stop()


def settings_for(server: LlamaServer, **more: Any) -> dict[str, Any]:
    return {"api": "openai", "host": server.url, "model": SMOLLM2, **more}


async def suggestion(client: LanguageClient) -> str:
    items = await asyncio.wait_for(inline(client, URI, 1, 11), WAIT_S)
    return items[0].insert_text if items else ""


async def test_completions_listing_and_status_work_against_llama_cpp_server(
    llama: LlamaServer, start_remote: StartRemote
) -> None:
    session = await start_remote(settings_for(llama))
    open_document(session.client, URI, DOC)
    text = await suggestion(session.client)
    assert text.strip(), "the real model suggested nothing"
    models = await session.run("ollama.listModels")
    assert [m["name"] for m in models] == [SMOLLM2] and models[0]["active"]
    status = await session.status()
    assert status["api"] == "openai" and status["reachable"]
    assert [h["state"] for h in status["hosts"]] == ["up"]
    assert not session.popups()


async def test_what_needs_ollama_says_so(llama: LlamaServer, start_remote: StartRemote) -> None:
    session = await start_remote(settings_for(llama))
    with pytest.raises(Exception, match="needs Ollama") as caught:
        await session.run("ollama.pullModel", "codellama:7b-code")
    assert "ollama.api" in str(caught.value)
    selected = await session.run("ollama.selectModel", SMOLLM2)
    assert selected["selected"] == SMOLLM2 and selected["unloaded"] is None


async def test_a_model_the_server_does_not_serve_is_one_clear_message(
    llama: LlamaServer, start_remote: StartRemote
) -> None:
    session = await start_remote(settings_for(llama, model="codellama:7b-code"))
    open_document(session.client, URI, DOC)
    for _ in range(3):
        assert await suggestion(session.client) == ""
    (message,) = session.popups()
    assert SMOLLM2 in message and "ollama.model" in message


async def test_a_stopped_server_is_one_message_not_one_per_keystroke(
    start_remote: StartRemote,
) -> None:
    server = LlamaServer(need(SMOLLM2), SMOLLM2).start()
    url = server.url
    server.stop()
    session = await start_remote({"api": "openai", "host": url, "model": SMOLLM2})
    open_document(session.client, URI, DOC)
    for _ in range(3):
        assert await suggestion(session.client) == ""
    (message,) = session.popups()
    assert "not reachable" in message and url.split("//")[1] in message
