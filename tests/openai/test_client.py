"""OpenAIClient against the fake OpenAI-compatible server: streams, ends, errors, limits."""

from __future__ import annotations

import asyncio
import ssl
from contextlib import aclosing
from typing import Any

import pytest
from aiohttp import web

from ollama_lsp.http.tls import client_context
from ollama_lsp.openai import (
    MalformedResponse,
    ModelNotServed,
    OpenAIClient,
    OpenAIHTTPError,
    OpenAIStreamError,
    OpenAITimeout,
    OpenAIUnreachable,
    ResponseTooLarge,
    RouteMissing,
    StreamInterrupted,
)
from ollama_lsp.openai.types import CompletionChunk
from ollama_lsp.provider.errors import (
    CertificateUntrusted,
    CredentialsRejected,
    ProviderUnreachable,
)
from tests.remote.certs import Certs, make_certs

from .fake_server import FakeOpenAI, chunk


async def collect(client: OpenAIClient, **kwargs: Any) -> list[CompletionChunk]:
    args = {"model": "smollm2:135m", "prompt": "def add", **kwargs}
    return [c async for c in client.complete_stream(**args)]


def text_of(chunks: list[CompletionChunk]) -> str:
    return "".join(c.text for c in chunks)


async def test_list_models_ids_and_server(client: OpenAIClient, fake: FakeOpenAI) -> None:
    fake.models = ["smollm2:135m", "gemma3:270m"]
    listing = await client.list_models()
    assert listing.ids == ("smollm2:135m", "gemma3:270m")
    assert listing.server == "uvicorn"
    assert [r.path for r in fake.requests] == ["/v1/models"]


async def test_a_base_url_ending_in_v1_is_not_doubled(fake: FakeOpenAI) -> None:
    client = OpenAIClient(fake.url + "/v1")
    try:
        await client.list_models()
        assert text_of(await collect(client)) == "def add(a, b):"
    finally:
        await client.aclose()
    assert [r.path for r in fake.requests] == ["/v1/models", "/v1/completions"]


async def test_streams_text_then_one_finish_chunk(client: OpenAIClient, fake: FakeOpenAI) -> None:
    chunks = await collect(client, max_tokens=32, temperature=0.1, stop=["\n\n"])
    assert [c.text for c in chunks] == ["def", " add", "(a", ", b", "):", ""]
    assert [c.finish_reason for c in chunks] == [""] * 5 + ["stop"]
    assert chunks[-1].usage is None  # llama_cpp.server streams no usage
    body = fake.requests_to("/v1/completions")[0].body
    assert body == {
        "model": "smollm2:135m",
        "prompt": "def add",
        "max_tokens": 32,
        "temperature": 0.1,
        "stream": True,
        "stop": ["\n\n"],
        "stream_options": {"include_usage": True},
    }


async def test_alternatives_from_logprobs(client: OpenAIClient, fake: FakeOpenAI) -> None:
    chunks = await collect(client, logprobs=3)
    assert fake.requests_to("/v1/completions")[0].body["logprobs"] == 3
    assert chunks[0].alternatives == ("DEF?", "def", "x")


async def test_usage_after_the_finish(client: OpenAIClient, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        usage = {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
        events = [chunk("a"), chunk("b", "length"), {"choices": [], "usage": usage}, "[DONE]"]
        return await fake.sse(request, events)

    fake.handle("/v1/completions", answer)
    chunks = await collect(client)
    assert text_of(chunks) == "ab"
    final = chunks[-1]
    assert final.finish_reason == "length" and final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (7, 2)


async def test_finish_without_done_ends_cleanly(client: OpenAIClient, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a"), chunk("", "stop")])

    fake.handle("/v1/completions", answer)
    assert [c.finish_reason for c in await collect(client)] == ["", "stop"]


async def test_a_server_stalling_after_the_finish_does_not_hold_the_answer(
    client: OpenAIClient, fake: FakeOpenAI
) -> None:
    hold = asyncio.Event()

    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a", "stop")], hold=hold)

    fake.handle("/v1/completions", answer)
    async with asyncio.timeout(3):
        chunks = await collect(client)
    assert [(c.text, c.finish_reason) for c in chunks] == [("a", ""), ("", "stop")]
    await asyncio.wait_for(fake.disconnected.wait(), 3)


async def test_done_before_a_finish_is_an_interrupted_answer(
    client: OpenAIClient, fake: FakeOpenAI
) -> None:
    # what llama_cpp.server sends a running stream when another request comes in
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("def"), chunk(" add"), "[DONE]"])

    fake.handle("/v1/completions", answer)
    seen: list[str] = []
    with pytest.raises(StreamInterrupted) as caught:
        async for piece in client.complete_stream("smollm2:135m", "x"):
            seen.append(piece.text)
    assert seen == ["def", " add"]
    assert "--interrupt_requests False" in caught.value.message
    assert fake.url.removeprefix("http://") in caught.value.message


async def test_a_stream_cut_short_is_malformed(client: OpenAIClient, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a")])

    fake.handle("/v1/completions", answer)
    with pytest.raises(MalformedResponse, match="ended before the answer was finished"):
        await collect(client)


async def test_an_empty_stream_hints_at_the_context(client: OpenAIClient, fake: FakeOpenAI) -> None:
    # what llama_cpp.server does when a streamed prompt exceeds its context
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [])

    fake.handle("/v1/completions", answer)
    with pytest.raises(MalformedResponse, match="without a single event") as caught:
        await collect(client)
    assert "contextTokens" in caught.value.message and "--n_ctx" in caught.value.message


async def test_an_error_event_mid_stream(client: OpenAIClient, fake: FakeOpenAI) -> None:
    error = {"error": {"message": "KV cache full", "type": "server_error", "code": None}}

    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a"), error, "[DONE]"])

    fake.handle("/v1/completions", answer)
    with pytest.raises(OpenAIStreamError, match="KV cache full"):
        await collect(client)


async def test_not_json_mid_stream(client: OpenAIClient, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a"), b"data: {oops\n\n"])

    fake.handle("/v1/completions", answer)
    with pytest.raises(MalformedResponse, match="not JSON"):
        await collect(client)


async def test_pings_and_other_fields_are_skipped(client: OpenAIClient, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        events = [b": ping - now\r\n\r\n", b"event: message\r\n", chunk("a"), chunk("", "stop")]
        return await fake.sse(request, [*events, "[DONE]"])

    fake.handle("/v1/completions", answer)
    assert text_of(await collect(client)) == "a"


async def test_server_errors_carry_their_status(client: OpenAIClient, fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.Response:
        error = {"message": "Service is not available", "type": "internal_server_error"}
        return web.json_response({"error": error}, status=503)

    fake.handle("/v1/completions", answer)
    with pytest.raises(OpenAIHTTPError) as caught:
        await collect(client)
    assert caught.value.status == 503 and "Service is not available" in caught.value.message


async def test_an_unknown_model_lists_the_served_ones(
    client: OpenAIClient, fake: FakeOpenAI
) -> None:
    fake.models = ["qwen2.5-coder:1.5b", "smollm2:135m"]

    async def answer(request: web.Request, body: dict[str, Any]) -> web.Response:
        error = {"message": "The model `x` does not exist.", "type": "NotFoundError", "code": 404}
        return web.json_response({"object": "error", "error": error}, status=404)

    fake.handle("/v1/completions", answer)
    with pytest.raises(ModelNotServed) as caught:
        await collect(client, model="x")
    assert caught.value.served == ("qwen2.5-coder:1.5b", "smollm2:135m")
    assert "'qwen2.5-coder:1.5b', 'smollm2:135m'" in caught.value.message
    assert "ollama.model" in caught.value.message and caught.value.status == 404


async def test_a_host_that_is_not_openai_compatible(fake: FakeOpenAI) -> None:
    client = OpenAIClient(fake.url + "/api")
    try:
        with pytest.raises(RouteMissing, match="/api has no /v1/models"):
            await client.list_models()
    finally:
        await client.aclose()


async def test_credentials_rejected_and_headers_sent(fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.Response:
        if request.headers.get("Authorization") != "Bearer right":
            return web.json_response({"detail": "Invalid API key"}, status=401)
        return await fake.models_route(request, body)

    fake.handle("/v1/models", answer)
    wrong = OpenAIClient(fake.url, headers={"Authorization": "Bearer wrong"})
    right = OpenAIClient(fake.url, headers={"Authorization": "Bearer right"})
    try:
        with pytest.raises(CredentialsRejected) as caught:
            await wrong.list_models()
        assert "wrong" not in caught.value.message and caught.value.status == 401
        assert (await right.list_models()).ids == ("smollm2:135m",)
    finally:
        await wrong.aclose()
        await right.aclose()


async def test_basic_auth_from_the_url_never_shown(fake: FakeOpenAI) -> None:
    host = fake.url.replace("http://", "http://alice:s3cret@")
    client = OpenAIClient(host)
    try:
        await client.list_models()
        assert fake.requests[0].headers["Authorization"].startswith("Basic ")
        assert "s3cret" not in client.host and "alice:***@" in client.host
    finally:
        await client.aclose()


async def test_unreachable_says_how_to_start_it(closed_port_host: str) -> None:
    client = OpenAIClient(f"http://{closed_port_host}")
    try:
        with pytest.raises(OpenAIUnreachable) as caught:
            await collect(client)
    finally:
        await client.aclose()
    error = caught.value
    assert isinstance(error, ProviderUnreachable) and error.host == f"http://{closed_port_host}"
    assert "python -m llama_cpp.server" in error.message and "ollama.host" in error.message


async def test_first_byte_timeout(fake: FakeOpenAI) -> None:
    never = asyncio.Event()

    async def answer(request: web.Request, body: dict[str, Any]) -> web.Response:
        await never.wait()
        raise AssertionError("unreachable")

    fake.handle("/v1/completions", answer)
    client = OpenAIClient(fake.url, first_byte_timeout=0.2)
    try:
        with pytest.raises(OpenAITimeout, match=r"within 0\.2 s"):
            await collect(client)
    finally:
        await client.aclose()


async def test_no_timeout_once_streaming(fake: FakeOpenAI) -> None:
    fake.pace = 0.1  # slower than the first-byte timeout between events

    client = OpenAIClient(fake.url, first_byte_timeout=0.05)
    try:
        assert text_of(await collect(client, max_tokens=3)) == "def add(a"
    finally:
        await client.aclose()


async def test_closing_the_stream_closes_the_connection(
    client: OpenAIClient, fake: FakeOpenAI
) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a")], forever=chunk("b"))

    fake.handle("/v1/completions", answer)
    stream = client.complete_stream("smollm2:135m", "x")
    async with aclosing(stream):
        async for piece in stream:
            assert piece.text == "a"
            break
    await asyncio.wait_for(fake.disconnected.wait(), 3)


async def test_cancelled_requests_do_not_drain_the_pool(fake: FakeOpenAI) -> None:
    """Keystroke-rate cancellation at every stage of a request: the pool keeps working."""
    gate = asyncio.Event()

    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("a")], forever=chunk("b"))

    fake.handle("/v1/completions", answer)
    client = OpenAIClient(fake.url, max_connections=2, pool_timeout=2.0)

    async def one() -> None:
        async for _ in client.complete_stream("smollm2:135m", "x"):
            await gate.wait()

    try:
        for round_ in range(30):
            tasks = [asyncio.ensure_future(one()) for _ in range(3)]
            for _ in range(round_ % 4):
                await asyncio.sleep(0)  # cancel at a different point each round
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        fake.handle("/v1/completions", FakeOpenAI.completions_route.__get__(fake))
        async with asyncio.timeout(5):
            assert text_of(await collect(client)) == "def add(a, b):"
    finally:
        await client.aclose()


async def test_a_line_longer_than_the_cap(fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [chunk("x" * 5000)])

    fake.handle("/v1/completions", answer)
    client = OpenAIClient(fake.url, max_line_bytes=1024)
    try:
        with pytest.raises(ResponseTooLarge):
            await collect(client)
    finally:
        await client.aclose()


async def test_a_runaway_answer(fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await fake.sse(request, [], forever=chunk("0123456789"))

    fake.handle("/v1/completions", answer)
    client = OpenAIClient(fake.url, max_text_chars=1000)
    try:
        with pytest.raises(ResponseTooLarge, match="1,000 characters"):
            await collect(client)
    finally:
        await client.aclose()
    await asyncio.wait_for(fake.disconnected.wait(), 3)


async def test_chat_whole_and_streamed(client: OpenAIClient, fake: FakeOpenAI) -> None:
    from ollama_lsp.provider import ChatMessage

    messages = [ChatMessage("user", "hi")]
    assert await client.chat("smollm2:135m", messages) == "def add(a, b):"
    pieces = [p async for p in client.chat_stream("smollm2:135m", messages)]
    assert pieces == ["def", " add", "(a", ", b", "):"]
    bodies = [r.body for r in fake.requests_to("/v1/chat/completions")]
    assert bodies[0] == {
        "model": "smollm2:135m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
    assert bodies[1]["stream"] is True


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """Fails, naming the package, where the openssl command is missing (.ci/run installs it)."""
    return make_certs(tmp_path_factory.mktemp("certs"))


async def test_https_with_a_team_ca(certs: Certs) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    async with FakeOpenAI(ssl_context=context) as fake:
        untrusted = OpenAIClient(fake.url)
        trusted = OpenAIClient(fake.url, verify=client_context(str(certs.ca)))
        try:
            with pytest.raises(CertificateUntrusted) as caught:
                await untrusted.list_models()
            assert "ollama.tls.caFile" in caught.value.message and fake.url in caught.value.message
            assert (await trusted.list_models()).ids == ("smollm2:135m",)
            assert text_of(await collect(trusted)) == "def add(a, b):"
        finally:
            await untrusted.aclose()
            await trusted.aclose()


async def test_a_huge_model_list(fake: FakeOpenAI) -> None:
    async def answer(request: web.Request, body: dict[str, Any]) -> web.Response:
        return web.json_response({"data": [{"id": "m" * 4096}] * 64})

    fake.handle("/v1/models", answer)
    client = OpenAIClient(fake.url, max_body_bytes=64 * 1024)
    try:
        with pytest.raises(ResponseTooLarge):
            await client.list_models()
    finally:
        await client.aclose()


def test_a_pool_fails_over_on_these_errors() -> None:
    """The contract with ``hosts.pool``: what moves a request to the next host."""
    from ollama_lsp.hosts.pool import fails_over
    from ollama_lsp.openai import OpenAIHTTPError, PoolExhausted

    host = "http://gpu:8000"
    assert fails_over(OpenAIUnreachable(host))
    assert fails_over(CredentialsRejected(host, 401))
    assert fails_over(OpenAIHTTPError(host, 503, "busy", what="the completion request"))
    assert fails_over(OpenAITimeout(host, 120, "the completion request"))
    assert fails_over(PoolExhausted(host, 100, "the completion request"))
    assert not fails_over(OpenAIHTTPError(host, 400, "bad", what="the completion request"))
    assert not fails_over(ModelNotServed("x", ("y",), host, status=404))
