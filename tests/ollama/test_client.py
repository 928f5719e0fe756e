"""OllamaClient against the Ollama double: every endpoint, every error."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from ollama_lsp.ollama import (
    InsertNotSupported,
    MalformedResponse,
    ModelNotFound,
    ModelNotInLibrary,
    OllamaClient,
    OllamaHTTPError,
    OllamaStreamError,
    OllamaTimeout,
    OllamaUnreachable,
)
from ollama_lsp.ollama.types import ChatMessage, GenerateOptions

CODELLAMA = "codellama:7b-code"
TINYLLAMA = "tinyllama:1.1b-chat-v1-q4_0"


@pytest.fixture
async def client(ollama_double) -> AsyncIterator[OllamaClient]:
    c = OllamaClient(ollama_double.host)
    yield c
    await c.aclose()


async def test_version(client: OllamaClient) -> None:
    assert await client.version() == "0.12.0"


async def test_list_models_parses_details(client: OllamaClient) -> None:
    models = {m.name: m for m in await client.list_models()}
    assert {CODELLAMA, TINYLLAMA} <= set(models)
    tiny = models[TINYLLAMA]
    assert tiny.size == 637700138
    assert tiny.details.quantization_level == "Q4_0"
    assert tiny.details.family == "llama"
    assert models[CODELLAMA].details.parameter_size == "7B"


async def test_show_gives_context_length_and_insert(client: OllamaClient) -> None:
    code = await client.show(CODELLAMA)
    assert code.context_length == 16384
    assert code.architecture == "llama"
    assert code.supports_insert
    assert "<PRE>" in code.template
    chat = await client.show(TINYLLAMA)
    assert chat.context_length == 2048
    assert not chat.supports_insert


async def test_show_unknown_model_names_it(client: OllamaClient) -> None:
    with pytest.raises(ModelNotFound) as err:
        await client.show("nope:1b")
    assert "'nope:1b'" in str(err.value)
    assert "ollama pull nope:1b" in str(err.value)


async def test_load_ps_and_unload(client: OllamaClient) -> None:
    assert await client.ps() == []
    await client.load(CODELLAMA, keep_alive="10m")
    loaded = await client.ps()
    assert [m.name for m in loaded] == [CODELLAMA]
    assert loaded[0].expires_at and loaded[0].size > 0
    await client.unload(CODELLAMA)
    assert await client.ps() == []


async def test_generate_stream_fim_sends_exact_fields(client: OllamaClient, ollama_double) -> None:
    ollama_double.script("  return a + b\n")
    options = GenerateOptions(num_predict=64, temperature=0.2, stop=("<EOT>",), num_ctx=4096)
    chunks = [
        c
        async for c in client.generate_stream(
            CODELLAMA, "def add(a, b):\n", suffix="\n\nprint(add(1, 2))\n", options=options,
            keep_alive="30m",
        )
    ]  # fmt: skip
    assert "".join(c.response for c in chunks) == "  return a + b\n"
    assert chunks[-1].done and chunks[-1].done_reason == "stop"
    assert chunks[-1].metrics is not None and chunks[-1].metrics.eval_count
    (req,) = ollama_double.requests_to("/api/generate")
    assert req.body == {
        "model": CODELLAMA,
        "prompt": "def add(a, b):\n",
        "suffix": "\n\nprint(add(1, 2))\n",
        "think": False,  # Ollama would think first on a thinking-capable model
        "stream": True,
        "options": {"num_predict": 64, "temperature": 0.2, "stop": ["<EOT>"], "num_ctx": 4096},
        "keep_alive": "30m",
    }
    assert req.rendered_prompt == "<PRE> def add(a, b):\n <SUF>\n\nprint(add(1, 2))\n <MID>"


async def test_generate_raw_and_go_escaped_tokens(client: OllamaClient, ollama_double) -> None:
    """Ollama escapes <, > and & in JSON; the client must hand back the real characters."""
    ollama_double.script("x <EOT> & more")
    result = await client.generate(CODELLAMA, "<PRE> a <SUF>b <MID>", raw=True)
    assert result.response == "x <EOT> & more"
    assert result.done
    (req,) = ollama_double.requests_to("/api/generate")
    assert req.body["raw"] is True and "suffix" not in req.body and "think" not in req.body


async def test_generate_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(ModelNotFound, match="'missing:7b'"):
        async for _ in client.generate_stream("missing:7b", "x"):
            pass


async def test_generate_suffix_on_chat_model_is_insert_error(client: OllamaClient) -> None:
    with pytest.raises(InsertNotSupported) as err:
        async for _ in client.generate_stream(TINYLLAMA, "x", suffix="y"):
            pass
    assert TINYLLAMA in str(err.value)
    assert "does not support insert" in str(err.value)


async def test_chat_and_chat_stream(client: OllamaClient, ollama_double) -> None:
    ollama_double.script("Hi there, friend.")
    messages = [ChatMessage("user", "hello")]
    answer = await client.chat(TINYLLAMA, messages)
    assert answer.message == ChatMessage("assistant", "Hi there, friend.")
    ollama_double.script("Streamed answer.")
    parts = [c async for c in client.chat_stream(TINYLLAMA, messages)]
    assert "".join(p.message.content for p in parts) == "Streamed answer."
    assert parts[-1].done
    assert ollama_double.requests_to("/api/chat")[-1].body["messages"] == [
        {"role": "user", "content": "hello"}
    ]


async def test_pull_streams_ollamas_sequence(client: OllamaClient, ollama_double) -> None:
    ollama_double.latency.pull_tick_s = 0.001
    name = "codellama:7b-code-q4_K_M"
    statuses = [p async for p in client.pull(name)]
    assert statuses[0].status == "pulling manifest"
    assert statuses[-3:] == [
        type(statuses[0])("verifying sha256 digest"),
        type(statuses[0])("writing manifest"),
        type(statuses[0])("success"),
    ]
    layer = [p for p in statuses if p.status.startswith("pulling ") and p.digest]
    assert layer and all(p.total for p in layer)
    for digest in {p.digest for p in layer}:
        done = [p.completed or 0 for p in layer if p.digest == digest]
        assert (
            done == sorted(done)
            and done[-1] == layer[[p.digest for p in layer].index(digest)].total
        )
    big = max(layer, key=lambda p: p.total or 0)
    assert len([p for p in layer if p.digest == big.digest]) >= 5
    assert name in {m.name for m in await client.list_models()}


async def test_pull_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(ModelNotInLibrary) as err:
        async for _ in client.pull("no-such-model:1b"):
            pass
    assert "'no-such-model:1b'" in str(err.value)
    assert "file does not exist" in str(err.value)


async def test_delete(client: OllamaClient) -> None:
    await client.delete(TINYLLAMA)
    assert TINYLLAMA not in {m.name for m in await client.list_models()}
    with pytest.raises(ModelNotFound, match=TINYLLAMA):
        await client.delete(TINYLLAMA)


async def test_http_500_carries_ollamas_text(client: OllamaClient, ollama_double) -> None:
    ollama_double.inject_fault("http_error", status=500, message="model runner has stopped")
    with pytest.raises(OllamaHTTPError) as err:
        async for _ in client.generate_stream(CODELLAMA, "x"):
            pass
    assert err.value.status == 500
    assert "model runner has stopped" in str(err.value)


async def test_error_line_mid_stream(client: OllamaClient, ollama_double) -> None:
    ollama_double.script("one two three four")
    ollama_double.inject_fault("error_line", after_chunks=2, message="an error was encountered")
    got = []
    with pytest.raises(OllamaStreamError, match="an error was encountered"):
        async for chunk in client.generate_stream(CODELLAMA, "x"):
            got.append(chunk.response)
    assert len(got) == 2


@pytest.mark.parametrize("kind", ["malformed_line", "truncate", "abort"])
async def test_broken_streams_are_malformed(client: OllamaClient, ollama_double, kind) -> None:
    ollama_double.script("one two three four")
    ollama_double.inject_fault(kind, after_chunks=1)
    with pytest.raises(MalformedResponse):
        async for _ in client.generate_stream(CODELLAMA, "x"):
            pass
    # and the client keeps working
    ollama_double.script("fine")
    assert (await client.generate(CODELLAMA, "x")).response == "fine"


async def test_hang_before_headers_hits_first_byte_timeout(ollama_double) -> None:
    ollama_double.inject_fault("hang", after_chunks=0)
    client = OllamaClient(ollama_double.host, first_byte_timeout=0.3)
    try:
        with pytest.raises(OllamaTimeout, match=ollama_double.url):
            async for _ in client.generate_stream(CODELLAMA, "x"):
                pass
    finally:
        await client.aclose()
    await ollama_double.wait_for_async(lambda r: r.disconnected, timeout=2.0)


async def test_slow_stream_is_not_cut(ollama_double) -> None:
    """After the first byte no timeout applies: a stream slower than every bound still ends."""
    ollama_double.script("a b c d")
    ollama_double.latency.per_token_s = 0.15
    client = OllamaClient(ollama_double.host, first_byte_timeout=0.5, request_timeout=0.5)
    try:
        text = "".join([c.response async for c in client.generate_stream(CODELLAMA, "x")])
    finally:
        await client.aclose()
    assert text == "a b c d"


async def test_closing_stream_early_disconnects(client: OllamaClient, ollama_double) -> None:
    ollama_double.script(" ".join(["token"] * 200))
    ollama_double.latency.per_token_s = 0.01
    async with aclosing(client.generate_stream(CODELLAMA, "x")) as stream:
        async for _ in stream:
            break
    record = await ollama_double.wait_for_async(lambda r: r.disconnected, timeout=1.0)
    assert record.path == "/api/generate"
    assert record.chunks_sent < 200


async def test_a_stream_read_to_its_end_keeps_the_connection(
    client: OllamaClient, ollama_double
) -> None:
    """Completions run at keystroke rate: each must not pay for a new TCP connection."""
    for _ in range(3):
        async with aclosing(client.generate_stream(CODELLAMA, "x")) as stream:
            async for chunk in stream:
                if chunk.done:
                    break
    peers = {r.peer for r in ollama_double.requests_to("/api/generate")}
    assert len(peers) == 1 and "" not in peers
    assert not any(r.disconnected for r in ollama_double.requests)


async def test_cancelling_a_consumer_disconnects(client: OllamaClient, ollama_double) -> None:
    ollama_double.script(" ".join(["token"] * 200))
    ollama_double.latency.per_token_s = 0.02

    async def consume() -> None:
        async for _ in client.generate_stream(CODELLAMA, "x"):
            pass

    task = asyncio.create_task(consume())
    await ollama_double.wait_for_async(lambda r: r.chunks_sent >= 2, timeout=2.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await ollama_double.wait_for_async(lambda r: r.disconnected, timeout=1.0)


async def _drain(it: AsyncIterator[object]) -> None:
    async for _ in it:
        pass


async def test_unreachable_fails_fast_naming_host(closed_port_host: str) -> None:
    client = OllamaClient(closed_port_host)
    calls = [
        client.version(),
        client.list_models(),
        client.show(CODELLAMA),
        client.ps(),
        client.delete(CODELLAMA),
        client.load(CODELLAMA),
        client.generate(CODELLAMA, "x"),
        client.chat(CODELLAMA, [ChatMessage("user", "x")]),
        _drain(client.generate_stream(CODELLAMA, "x")),
        _drain(client.chat_stream(CODELLAMA, [ChatMessage("user", "x")])),
        _drain(client.pull(CODELLAMA)),
    ]
    try:
        for call in calls:
            start = time.monotonic()
            with pytest.raises(OllamaUnreachable) as err:
                await call
            assert time.monotonic() - start < 2.0
            assert f"http://{closed_port_host}" in str(err.value)
            assert "ollama serve" in str(err.value)
    finally:
        await client.aclose()


async def test_host_can_change(client: OllamaClient, ollama_double, closed_port_host) -> None:
    client.host = closed_port_host
    with pytest.raises(OllamaUnreachable):
        await client.version()
    client.host = ollama_double.host
    assert await client.version()


async def test_a_connection_cut_mid_stream_says_so_and_does_not_doubt_the_host(
    client: OllamaClient, ollama_double
) -> None:
    ollama_double.script("one two three four")
    ollama_double.inject_fault("abort", after_chunks=1)
    with pytest.raises(MalformedResponse) as caught:
        async for _ in client.generate_stream(CODELLAMA, "x"):
            pass
    assert "broke during the generate request" in caught.value.message
    assert "stopped or restarted" in caught.value.message
    assert "really an Ollama server" not in caught.value.message
