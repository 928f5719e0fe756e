"""The OpenAI-compatible provider against a real server no one here wrote: llama-cpp-python's
``python -m llama_cpp.server``, serving the real weights of ``tests/real`` under their Ollama
names. Skipped (with the install command) without the server extra or the weights; failed
instead when ``OLLAMA_LSP_REQUIRE_REAL=1``.

The main server runs with ``--interrupt_requests False`` so that a request waits for the one
before it: that is what makes "closing the stream stops the generation" measurable. The
default (``True``: a new request cuts the running stream short) has a test of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest

from ollama_lsp.openai import (
    MalformedResponse,
    ModelNotServed,
    OpenAIClient,
    OpenAIProvider,
    StreamInterrupted,
)
from ollama_lsp.openai.types import CompletionChunk
from ollama_lsp.provider import ChatMessage, CodeCompletionRequest, ModelInfo
from ollama_lsp.provider.errors import CredentialsRejected
from tests.real import models

from .llama_cpp_server import N_CTX, LlamaServer, need

PROMPT = "def fibonacci(n):\n"
SMOLLM2 = "smollm2:135m"
TOKEN = "test-token-3c1f"


@pytest.fixture(scope="module", params=sorted(models.REAL_MODELS))
def server(request: pytest.FixtureRequest) -> Iterator[LlamaServer]:
    weights = need(request.param)
    running = LlamaServer(weights, request.param, "--interrupt_requests", "False").start()
    yield running
    running.stop()


@pytest.fixture
async def client(server: LlamaServer) -> AsyncIterator[OpenAIClient]:
    c = OpenAIClient(server.url)
    yield c
    await c.aclose()


@pytest.fixture
def provider(client: OpenAIClient) -> OpenAIProvider:
    return OpenAIProvider(client)


async def generate(client: OpenAIClient, model: str, **kwargs) -> list[CompletionChunk]:
    args = {"prompt": PROMPT, "max_tokens": 12, "temperature": 0.0, **kwargs}
    return [c async for c in client.complete_stream(model, **args)]


async def test_streams_a_completion(client: OpenAIClient, server: LlamaServer) -> None:
    chunks = await generate(client, server.alias)
    text = "".join(c.text for c in chunks)
    assert text.strip() and len(chunks) >= 3  # one event per token
    final = chunks[-1]
    assert final.finish_reason in ("length", "stop") and final.text == ""
    assert final.usage is None  # llama_cpp.server ignores stream_options: no streamed usage


async def test_stop_cuts_the_answer(client: OpenAIClient, server: LlamaServer) -> None:
    free = "".join(c.text for c in await generate(client, server.alias, max_tokens=16))
    start = next(i for i in range(3, len(free) - 2) if not free[i : i + 2].isspace())
    stop = free[start : start + 2]
    cut = free[: free.index(stop)]
    chunks = await generate(client, server.alias, max_tokens=16, stop=[stop])
    assert "".join(c.text for c in chunks) == cut
    assert chunks[-1].finish_reason == "stop"


async def test_closing_the_stream_stops_the_generation(
    client: OpenAIClient, server: LlamaServer
) -> None:
    mark = server.mark()
    stream = client.complete_stream(server.alias, PROMPT, max_tokens=N_CTX - 64, temperature=1.0)
    async with aclosing(stream):
        async for _ in stream:
            break
    left = await asyncio.to_thread(server.wait_for, "Disconnected from client", 10, after=mark)
    assert left, "".join(server.lines[mark:])
    # The next request waits for the server's lock: it is quick only if the first one stopped
    # (~1,980 more tokens at 20-40 tokens/s would take a minute).
    started = time.monotonic()
    chunks = await generate(client, server.alias, max_tokens=4)
    assert chunks[-1].finish_reason
    assert time.monotonic() - started < 10


async def test_models_lists_the_alias(provider: OpenAIProvider, server: LlamaServer) -> None:
    assert await provider.list_models() == [ModelInfo(name=server.alias)]
    assert await provider.version() == "openai-compatible (server: uvicorn; owned_by: me)"
    caps = await provider.capabilities(server.alias)
    assert caps.context_window == N_CTX and caps.template == "" and not caps.supports_insert


async def test_an_unknown_model_gives_the_clear_error(
    provider: OpenAIProvider, client: OpenAIClient, server: LlamaServer
) -> None:
    # The server itself answers any model name with its default model...
    chunks = await generate(client, "codellama:7b-code", max_tokens=2)
    assert chunks[-1].finish_reason
    # ...so the provider checks the name against /v1/models.
    with pytest.raises(ModelNotServed) as caught:
        await provider.capabilities("codellama:7b-code")
    assert f"serves '{server.alias}'" in caught.value.message
    assert "ollama.model" in caught.value.message
    request = CodeCompletionRequest(model="codellama:7b-code", prompt=PROMPT, raw=True)
    with pytest.raises(ModelNotServed):
        async for _ in provider.complete_code(request):
            pass


async def test_provider_completion_with_alternatives(
    provider: OpenAIProvider, server: LlamaServer
) -> None:
    request = CodeCompletionRequest(
        model=server.alias, prompt=PROMPT, raw=True, max_tokens=1, temperature=0.0,
        top_logprobs=5,
    )  # fmt: skip
    chunks = [c async for c in provider.complete_code(request)]
    first, final = chunks[0], chunks[-1]
    assert final.done and final.done_reason == "length"
    assert 5 <= len(first.alternatives) <= 6  # the top 5, and the sampled token if not among them
    assert first.text.strip() in [a.strip() for a in first.alternatives]


async def test_a_prompt_past_the_context(client: OpenAIClient, server: LlamaServer) -> None:
    with pytest.raises(MalformedResponse, match="without a single event"):
        await generate(client, server.alias, prompt="x = 1\n" * N_CTX)


async def test_chat_streams(provider: OpenAIProvider, server: LlamaServer) -> None:
    # SmolLM2-Instruct answers; base Gemma 3 ends its turn at once (an empty, finished answer)
    stream = provider.stream_chat([ChatMessage("user", "Say hello.")], model=server.alias)
    pieces: list[str] = []
    async with aclosing(stream):
        async for piece in stream:
            pieces.append(piece)
            break
    assert pieces or server.alias == "gemma3:270m"
    assert all(pieces)


@pytest.fixture(scope="module")
def default_server() -> Iterator[LlamaServer]:
    """SmolLM2 with llama_cpp.server's defaults (requests interrupt each other) and a key."""
    running = LlamaServer(need(SMOLLM2), SMOLLM2, "--api_key", TOKEN).start()
    yield running
    running.stop()


async def test_a_newer_request_interrupts_a_running_stream(default_server: LlamaServer) -> None:
    client = OpenAIClient(default_server.url, headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        long = client.complete_stream(SMOLLM2, PROMPT, max_tokens=N_CTX - 64, temperature=1.0)
        async with aclosing(long):
            await anext(long)
            newer = asyncio.ensure_future(generate(client, SMOLLM2, max_tokens=4))
            with pytest.raises(StreamInterrupted, match="--interrupt_requests False"):
                async with asyncio.timeout(30):
                    async for _ in long:
                        pass
        assert (await newer)[-1].finish_reason
    finally:
        await client.aclose()


async def test_a_wrong_key_is_rejected(default_server: LlamaServer) -> None:
    client = OpenAIClient(default_server.url, headers={"Authorization": "Bearer wrong"})
    try:
        with pytest.raises(CredentialsRejected) as caught:
            await OpenAIProvider(client).list_models()
    finally:
        await client.aclose()
    assert caught.value.status == 401 and "wrong" not in caught.value.message
