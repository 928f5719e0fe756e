"""OpenAIProvider: the AiProvider interface over the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

import pytest
from aiohttp import web

from ollama_lsp.openai import FALLBACK_CONTEXT_WINDOW, ModelNotServed, OpenAIProvider
from ollama_lsp.provider import (
    ChatMessage,
    CodeCompletionRequest,
    ModelUnavailable,
    NeedsOllama,
    TextChunk,
)

from .fake_server import FakeOpenAI, chunk

MODEL = "smollm2:135m"


async def complete(provider: OpenAIProvider, **kwargs: Any) -> list[TextChunk]:
    request = CodeCompletionRequest(**{"model": MODEL, "prompt": "def add", **kwargs})
    return [c async for c in provider.complete_code(request)]


def test_name(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    assert provider.name() == "openai"
    assert provider.host == fake.url


async def test_capabilities_without_a_stated_context(provider: OpenAIProvider) -> None:
    caps = await provider.capabilities(MODEL)
    assert caps.context_window == FALLBACK_CONTEXT_WINDOW == 2048
    assert caps.template == "" and not caps.supports_insert
    assert caps.supports_streaming and caps.supports_code_completion and caps.supports_chat


async def test_capabilities_with_a_stated_context(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    fake.model_extra = {"max_model_len": 16384}  # as vLLM lists its models
    assert (await provider.capabilities(MODEL)).context_window == 16384


async def test_an_unknown_model_is_told_from_the_listing(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    # llama_cpp.server would answer any name with its default model: the listing tells
    fake.models = ["smollm2:135m", "gemma3:270m"]
    with pytest.raises(ModelNotServed) as caught:
        await provider.capabilities("codellama:7b-code")
    error = caught.value
    assert isinstance(error, ModelUnavailable) and error.model == "codellama:7b-code"
    assert "'smollm2:135m', 'gemma3:270m'" in error.message and "ollama.model" in error.message
    assert "--model_alias codellama:7b-code" in error.message
    with pytest.raises(ModelNotServed):
        await complete(provider, model="codellama:7b-code")
    assert fake.requests_to("/v1/completions") == []


async def test_the_listing_is_asked_once(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    await provider.capabilities(MODEL)
    await complete(provider)
    await complete(provider)
    assert len(fake.requests_to("/v1/models")) == 1


async def test_a_model_started_later_is_found(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    await provider.capabilities(MODEL)
    fake.models.append("gemma3:270m")
    assert (await provider.capabilities("gemma3:270m")).context_window == 2048
    assert len(fake.requests_to("/v1/models")) == 2


async def test_a_server_without_a_listing_serves_any_name(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    async def missing(request: web.Request, body: dict[str, Any]) -> web.Response:
        return web.json_response({"detail": "Not Found"}, status=404)

    fake.handle("/v1/models", missing)
    assert (await provider.capabilities("anything")).context_window == 2048
    assert "".join(c.text for c in await complete(provider, model="anything")) == "def add(a, b):"


async def test_raw_requests_send_the_prompt_verbatim(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    prompt = "<PRE> def add(a, b):\n     <SUF>\n <MID>"
    chunks = await complete(
        provider, prompt=prompt, suffix="ignored", raw=True, max_tokens=16, temperature=0.0,
        top_p=0.9, stop=("<EOT>",), num_ctx=4096,
    )  # fmt: skip
    assert "".join(c.text for c in chunks) == "def add(a, b):"
    final = chunks[-1]
    assert final.done and final.done_reason == "stop" and final.text == ""
    assert final.prompt_tokens is None and final.generated_tokens is None
    assert not any(c.done for c in chunks[:-1])
    body = fake.requests_to("/v1/completions")[0].body
    assert body["prompt"] == prompt and "suffix" not in body
    assert body["max_tokens"] == 16 and body["temperature"] == 0.0 and body["top_p"] == 0.9
    assert body["stop"] == ["<EOT>"] and "num_ctx" not in body and "logprobs" not in body


async def test_non_raw_requests_send_the_suffix(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    await complete(provider, prompt="def add(a, b):\n", suffix="\nprint(add(1, 2))", raw=False)
    body = fake.requests_to("/v1/completions")[0].body
    assert body["prompt"] == "def add(a, b):\n" and body["suffix"] == "\nprint(add(1, 2))"


async def test_token_counts_from_usage(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        usage = {"prompt_tokens": 11, "completion_tokens": 1}
        return await fake.sse(request, [chunk("a", "length", usage=usage), "[DONE]"])

    fake.handle("/v1/completions", answer)
    final = (await complete(provider))[-1]
    assert (final.prompt_tokens, final.generated_tokens) == (11, 1)
    assert final.done_reason == "length"


async def test_alternatives_capped_and_mapped(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    chunks = await complete(provider, top_logprobs=50)
    assert fake.requests_to("/v1/completions")[0].body["logprobs"] == 20
    assert chunks[0].alternatives == ("DEF?", "def", "x")


async def test_how_sure_the_model_is_asks_for_one_logprob(
    provider: OpenAIProvider, fake: FakeOpenAI
) -> None:
    chunks = await complete(provider, logprobs=True)
    assert fake.requests_to("/v1/completions")[0].body["logprobs"] == 1
    pieces = [c for c in chunks if c.text]
    assert pieces and all(c.logprob == -0.5 for c in pieces)
    await complete(provider)
    assert "logprobs" not in fake.requests_to("/v1/completions")[1].body


async def test_closing_early_stops_the_server(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a")], forever=chunk("b"))

    fake.handle("/v1/completions", answer)
    request = CodeCompletionRequest(model=MODEL, prompt="x", raw=True)
    stream = provider.complete_code(request)
    async with aclosing(stream):
        async for piece in stream:
            assert piece.text == "a"
            break
    await asyncio.wait_for(fake.disconnected.wait(), 3)


async def test_chat(provider: OpenAIProvider) -> None:
    messages = [ChatMessage("user", "hi")]
    answer = await provider.chat(messages, model=MODEL)
    assert answer == ChatMessage("assistant", "def add(a, b):")
    pieces = [p async for p in provider.stream_chat(messages, model=MODEL)]
    assert pieces == ["def", " add", "(a", ", b", "):"]


async def test_list_models_and_version(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    fake.models = ["smollm2:135m", "gemma3:270m"]
    assert [m.name for m in await provider.list_models()] == fake.models
    assert await provider.version() == "openai-compatible (server: uvicorn; owned_by: me)"
    await provider.capabilities("gemma3:270m")  # from the listing version() just read
    assert len(fake.requests_to("/v1/models")) == 2


async def test_model_management_needs_ollama(provider: OpenAIProvider, fake: FakeOpenAI) -> None:
    await provider.warm_up(MODEL, num_ctx=4096)
    assert fake.requests == []
    with pytest.raises(NeedsOllama) as caught:
        async for _ in provider.pull_model("codellama:7b-code"):
            pass
    assert fake.url in caught.value.message and 'ollama.api = "openai"' in caught.value.message


async def test_on_llama_server_each_lane_is_a_slot_of_its_own(
    client: Any, fake: FakeOpenAI
) -> None:
    fake.model_extra = {"owned_by": "llamacpp"}  # as llama-server lists its model
    provider = OpenAIProvider(client, slot=2, spare_slot=3)
    assert (await provider.capabilities(MODEL)).lanes == 2
    await complete(provider, lane=0)
    await complete(provider, lane=1)
    assert [r.body["id_slot"] for r in fake.requests_to("/v1/completions")] == [2, 3]


async def test_without_a_spare_slot_every_lane_is_the_one_slot(
    client: Any, fake: FakeOpenAI
) -> None:
    fake.model_extra = {"owned_by": "llamacpp"}
    provider = OpenAIProvider(client, slot=2, spare_slot=-1)
    assert (await provider.capabilities(MODEL)).lanes == 1
    await complete(provider, lane=1)
    assert [r.body["id_slot"] for r in fake.requests_to("/v1/completions")] == [2]


async def test_other_servers_have_one_lane_and_never_see_a_slot(
    client: Any, fake: FakeOpenAI
) -> None:
    provider = OpenAIProvider(client, slot=0, spare_slot=1)  # owned_by "me": not llama-server
    assert (await provider.capabilities(MODEL)).lanes == 1
    await complete(provider, lane=1)
    assert all("id_slot" not in r.body for r in fake.requests_to("/v1/completions"))
