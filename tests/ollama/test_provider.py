"""OllamaProvider: the AiProvider interface over the double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ollama_lsp.ollama.client import OllamaClient
from ollama_lsp.ollama.errors import ModelNotFound
from ollama_lsp.ollama.provider import OllamaProvider
from ollama_lsp.provider import ChatMessage, CodeCompletionRequest

CODELLAMA = "codellama:7b-code"
TINYLLAMA = "tinyllama:1.1b-chat-v1-q4_0"


@pytest.fixture
async def provider(ollama_double) -> AsyncIterator[OllamaProvider]:
    client = OllamaClient(ollama_double.host)
    yield OllamaProvider(client, keep_alive="30m")
    await client.aclose()


def test_name(provider: OllamaProvider) -> None:
    assert provider.name() == "ollama"


async def test_capabilities_from_show_cached_per_model(provider, ollama_double) -> None:
    code = await provider.capabilities(CODELLAMA)
    assert code.context_window == 16384
    assert code.supports_insert and code.supports_code_completion and code.supports_chat
    assert code.supports_streaming
    again = await provider.capabilities(CODELLAMA)
    assert again == code
    chat = await provider.capabilities(TINYLLAMA)
    assert chat.context_window == 2048 and not chat.supports_insert
    shows = [r.body["model"] for r in ollama_double.requests_to("/api/show")]
    assert shows == [CODELLAMA, TINYLLAMA]


async def test_failed_show_is_not_cached(provider, ollama_double) -> None:
    with pytest.raises(ModelNotFound):
        await provider.capabilities("later:1b")
    with pytest.raises(ModelNotFound):
        await provider.capabilities("later:1b")
    assert len(ollama_double.requests_to("/api/show")) == 2


async def test_complete_code_streams_text_and_counts(provider, ollama_double) -> None:
    ollama_double.script("return a + b")
    request = CodeCompletionRequest(
        model=CODELLAMA,
        prompt="<PRE> def add(a, b):\n     <SUF>\n <MID>",
        raw=True,
        max_tokens=32,
        temperature=0.1,
        stop=("<EOT>",),
        num_ctx=4096,
    )
    chunks = [c async for c in provider.complete_code(request)]
    assert "".join(c.text for c in chunks) == "return a + b"
    last = chunks[-1]
    assert last.done and last.done_reason == "stop"
    assert last.generated_tokens and last.prompt_tokens
    (req,) = ollama_double.requests_to("/api/generate")
    assert req.body["keep_alive"] == "30m"
    assert req.body["raw"] is True
    assert req.body["options"] == {
        "num_predict": 32,
        "temperature": 0.1,
        "stop": ["<EOT>"],
        "num_ctx": 4096,
    }


async def test_chat_and_stream_chat(provider, ollama_double) -> None:
    ollama_double.script("Answer one.")
    msg = await provider.chat([ChatMessage("user", "q")], model=TINYLLAMA)
    assert msg == ChatMessage("assistant", "Answer one.")
    ollama_double.script("Answer two.")
    parts = [p async for p in provider.stream_chat([ChatMessage("user", "q")], model=TINYLLAMA)]
    assert "".join(parts) == "Answer two." and len(parts) > 1
    assert all(r.body["keep_alive"] == "30m" for r in ollama_double.requests_to("/api/chat"))


async def test_list_and_pull(provider, ollama_double) -> None:
    ollama_double.latency.pull_tick_s = 0.001
    name = "codellama:13b-code"
    with pytest.raises(ModelNotFound):
        await provider.capabilities(name)
    statuses = [p.status async for p in provider.pull_model(name)]
    assert statuses[-1] == "success"
    assert name in {m.name for m in await provider.list_models()}
    assert (await provider.capabilities(name)).supports_insert
