"""The client against hosts that are not (only) Ollama: proxies with credentials and redirects,
servers sending endless lines or nonsense numbers. Each ends in a typed error or a sane value,
never a traceback, a hang or gigabytes held in memory."""

from __future__ import annotations

import asyncio
import base64
import time

import psutil
import pytest

from ollama_lsp.ollama import (
    MalformedResponse,
    OllamaClient,
    OllamaHTTPError,
    OllamaRedirect,
    ResponseTooLarge,
)
from ollama_lsp.ollama.provider import OllamaProvider
from ollama_lsp.ollama.types import GenerateOptions, show_info

from .hostile import Received, chunk, end_chunked, hostile_server, send, start_chunked

MODEL = "codellama:7b-code"
MiB = 2**20


async def _drain(client: OllamaClient) -> str:
    return "".join([c.response async for c in client.generate_stream(MODEL, "x")])


# -- credentials -----------------------------------------------------------------------------


async def test_credentials_are_sent_as_basic_auth_and_never_shown() -> None:
    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        if request.path == "/api/version":
            await send(writer, 200, {"version": "0.12.0"})
        else:
            await send(writer, 500, {"error": "boom"})

    async with hostile_server(answer) as server:
        client = OllamaClient(f"http://me:p%40ss@{server.host}")
        try:
            assert await client.version() == "0.12.0"
            with pytest.raises(OllamaHTTPError) as err:
                await client.list_models()
        finally:
            await client.aclose()
    expected = "Basic " + base64.b64encode(b"me:p@ss").decode()
    assert [r.headers.get("authorization") for r in server.received] == [expected, expected]
    assert client.host == f"http://me:***@{server.host}"
    assert "p@ss" not in str(err.value) and "p%40ss" not in str(err.value)


async def test_changing_the_host_changes_the_credentials() -> None:
    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        await send(writer, 200, {"version": "1"})

    async with hostile_server(answer) as server:
        client = OllamaClient(f"http://a:1@{server.host}")
        try:
            await client.version()
            client.host = server.host
            await client.version()
            client.host = f"b:2@{server.host}"
            await client.version()
        finally:
            await client.aclose()
    auth = [r.headers.get("authorization") for r in server.received]
    assert auth == ["Basic " + base64.b64encode(b"a:1").decode(), None,
                    "Basic " + base64.b64encode(b"b:2").decode()]  # fmt: skip


# -- redirects -------------------------------------------------------------------------------


async def test_a_redirect_is_an_error_naming_where_it_points_on_every_call() -> None:
    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        await send(writer, 302, b"", {"Location": "https://sso.example/login?next=/api"})

    async with hostile_server(answer) as server:
        client = OllamaClient(server.host)
        calls = {
            "delete": client.delete(MODEL),
            "version": client.version(),
            "tags": client.list_models(),
            "show": client.show(MODEL),
            "generate": _drain(client),
        }
        try:
            for name, call in calls.items():
                with pytest.raises(OllamaRedirect) as err:
                    await call
                message = str(err.value)
                assert "redirect (302) to https://sso.example/login?next=/api" in message, name
                assert "proxy or the wrong host" in message
        finally:
            await client.aclose()
    assert len(server.received) == len(calls)  # never followed


# -- sizes -----------------------------------------------------------------------------------


async def test_an_enormous_ndjson_line_is_cut_off_without_buffering_it() -> None:
    sent = 0

    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await start_chunked(writer)
        await chunk(writer, b'{"response":"')
        block = b"x" * MiB
        while sent < 1024 * MiB:  # a 1 GiB line, unless the client hangs up first
            await chunk(writer, block)
            sent += len(block)

    rss = psutil.Process().memory_info().rss
    async with hostile_server(answer) as server:
        client = OllamaClient(server.host)
        try:
            start = time.monotonic()
            with pytest.raises(ResponseTooLarge) as err:
                await _drain(client)
            assert time.monotonic() - start < 5.0
            await asyncio.wait_for(server.disconnected.wait(), 5.0)
        finally:
            await client.aclose()
    assert "an NDJSON line longer than 4 MiB" in str(err.value)
    assert sent < 64 * MiB
    assert psutil.Process().memory_info().rss - rss < 64 * MiB


async def test_a_runaway_answer_is_cut_off() -> None:
    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        await start_chunked(writer)
        line = b'{"response":"' + b"y" * 4096 + b'","done":false}\n'
        with_end = 0
        while with_end < 10_000:
            await chunk(writer, line)
            with_end += 1
        await end_chunked(writer)

    async with hostile_server(answer) as server:
        client = OllamaClient(server.host, max_text_chars=100_000)
        try:
            with pytest.raises(ResponseTooLarge, match="longer than 100,000 characters"):
                await _drain(client)
            await asyncio.wait_for(server.disconnected.wait(), 5.0)
        finally:
            await client.aclose()


@pytest.mark.parametrize("declared", [True, False])
async def test_an_enormous_json_body_is_refused(declared: bool) -> None:
    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        if declared:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\n{")
            await writer.drain()
            await asyncio.get_running_loop().create_future()  # never sends the rest
        await start_chunked(writer, "application/json")
        while True:
            await chunk(writer, b" " * MiB)

    async with hostile_server(answer) as server:
        client = OllamaClient(server.host, max_body_bytes=8 * MiB)
        try:
            with pytest.raises(ResponseTooLarge, match="a response body longer than 8 MiB"):
                await client.show(MODEL)
        finally:
            await client.aclose()


# -- odd values ------------------------------------------------------------------------------


async def test_deeply_nested_json_is_a_malformed_response() -> None:
    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        nested = b'{"models":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        if request.path == "/api/tags":
            await send(writer, 200, nested)
        else:
            await start_chunked(writer)
            await chunk(writer, b'{"response":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
            await end_chunked(writer)

    async with hostile_server(answer) as server:
        client = OllamaClient(server.host)
        try:
            with pytest.raises(MalformedResponse, match="nested too deeply"):
                await client.list_models()
            with pytest.raises(MalformedResponse, match="nested too deeply"):
                await _drain(client)
        finally:
            await client.aclose()


async def test_nonsense_numbers_become_unknown_not_negative() -> None:
    tags = (
        b'{"models":[{"name":"a:1","size":-5},{"name":"b:1","size":1e400},'
        b'{"name":"c:1","size":' + b"9" * 30 + b"}]}"
    )
    show = {"model_info": {"general.architecture": "llama", "llama.context_length": -5}}
    ps = {"models": [{"name": "a:1", "size": -1, "size_vram": -2, "context_length": 0}]}

    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        if request.path == "/api/tags":
            await send(writer, 200, tags)
        elif request.path == "/api/show":
            await send(writer, 200, show)
        elif request.path == "/api/ps":
            await send(writer, 200, ps)
        else:
            await start_chunked(writer)
            await chunk(writer, b'{"status":"pulling x","total":-10,"completed":1e400}\n')
            await chunk(writer, b'{"status":"success"}\n')
            await end_chunked(writer)

    async with hostile_server(answer) as server:
        client = OllamaClient(server.host)
        try:
            assert [m.size for m in await client.list_models()] == [0, 0, 0]
            info = await client.show(MODEL)
            assert info.context_length is None
            caps = await OllamaProvider(client).capabilities(MODEL)
            assert caps.context_window > 0
            (running,) = await client.ps()
            assert (running.size, running.size_vram, running.context_length) == (0, 0, None)
            pulled = [p async for p in client.pull(MODEL)]
            assert (pulled[0].total, pulled[0].completed) == (None, None)
        finally:
            await client.aclose()


def test_num_ctx_is_never_sent_as_zero_or_less() -> None:
    assert GenerateOptions(num_ctx=-5, num_predict=8).to_json() == {"num_predict": 8}
    assert GenerateOptions(num_ctx=0).to_json() == {}
    assert GenerateOptions(num_ctx=2048).to_json() == {"num_ctx": 2048}
    info = show_info({"model_info": {"general.architecture": "qwen2", "qwen2.context_length": 0}})
    assert info.context_length is None


# -- restarts --------------------------------------------------------------------------------


async def test_a_keep_alive_connection_closed_before_answering_is_retried_once() -> None:
    """After an Ollama restart the pool's idle connection is dead; the user must not notice."""
    served: dict[asyncio.StreamWriter, int] = {}

    async def answer(request: Received, writer: asyncio.StreamWriter) -> None:
        served[writer] = served.get(writer, 0) + 1
        if served[writer] > 1:  # the second request on a connection: hang up unanswered
            writer.close()
            raise ConnectionResetError
        await send(writer, 200, {"version": "0.12.0"})

    async with hostile_server(answer) as server:
        client = OllamaClient(server.host)
        try:
            for _ in range(3):
                assert await client.version() == "0.12.0"
        finally:
            await client.aclose()
    assert len(server.received) == 5  # 3 answered, 2 hung up on and retried
