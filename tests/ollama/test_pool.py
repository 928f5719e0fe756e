"""Cancelling requests never costs a pool connection, and a dry pool fails fast or is rebuilt.

httpcore 1.0.9 loses a connection when a request is cancelled while it waits for one, between
connecting and sending, or twice while its response closes (encode/httpcore#1093, #830,
encode/httpx#3782). Completions are cancelled at keystroke rate, so these tests cancel a lot of
streams at exactly those moments and then look at the sockets this process holds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import psutil
import pytest

from ollama_lsp.ollama import OllamaClient, PoolExhausted
from tests.ollama_double import OllamaDouble

CODELLAMA = "codellama:7b-code"
#: httpx's default ``max_keepalive_connections``: idle sockets the pool may keep.
KEEPALIVE = 20


def client_sockets(port: int) -> int:
    """Open TCP sockets from this process to ``port`` (the double runs in-process, too)."""
    conns = psutil.Process().net_connections("tcp")
    return sum(1 for c in conns if c.raddr and c.raddr.port == port)


async def until(condition: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
    """Poll ``condition`` until true or ``timeout`` s have passed; the final verdict."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _consume(client: OllamaClient) -> None:
    async for _ in client.generate_stream(CODELLAMA, "x"):
        pass


async def _cancel_early(task: asyncio.Task[None], rnd: random.Random) -> None:
    """Cancel ``task`` within a few milliseconds of opening, sometimes twice."""
    mode = rnd.random()
    if mode < 0.15:
        pass  # run to the end
    elif mode < 0.45:
        await asyncio.sleep(rnd.random() * 0.003)
        task.cancel()
    else:  # a few loop turns in: connecting, sending, headers arriving
        for _ in range(rnd.randrange(1, 30)):
            await asyncio.sleep(0)
        task.cancel()
        if mode > 0.7:  # a second cancel, as a newer keystroke then $/cancelRequest do
            for _ in range(rnd.randrange(0, 5)):
                await asyncio.sleep(0)
            task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_thousands_of_early_cancels_lose_no_connection(ollama_double: OllamaDouble) -> None:
    ollama_double.script(" ".join(["tok"] * 5))
    ollama_double.latency.per_token_s = 0.001
    client = OllamaClient(ollama_double.host)
    rnd = random.Random(10)
    limit = asyncio.Semaphore(64)

    async def one() -> None:
        async with limit:
            await _cancel_early(asyncio.create_task(_consume(client)), rnd)

    try:
        await asyncio.gather(*(one() for _ in range(2000)))
        start = time.monotonic()
        assert await client.version() == "0.12.0"
        assert time.monotonic() - start < 1.0
        # Only idle keep-alive connections may stay open (the pool closes surplus ones on its
        # next request); a lost connection stays open for good.
        settled = await until(lambda: client_sockets(ollama_double.port) <= KEEPALIVE, 5.0)
        assert settled, f"{client_sockets(ollama_double.port)} sockets still open"
        assert client.pool_rebuilds == 0  # no connection was lost, so no pool was replaced
    finally:
        await client.aclose()
    assert await until(lambda: client_sockets(ollama_double.port) == 0, 5.0)


async def test_cancelling_twice_while_the_response_closes(ollama_double: OllamaDouble) -> None:
    """The double-cancel case on its own: every one of these leaked before."""
    ollama_double.script(" ".join(["tok"] * 50))
    ollama_double.latency.per_token_s = 0.001
    client = OllamaClient(ollama_double.host, max_connections=4, pool_timeout=1.0)
    try:
        for _ in range(40):
            task = asyncio.create_task(_consume(client))
            await ollama_double.wait_for_async(lambda r: r.chunks_sent >= 1 and not r.finished)
            task.cancel()
            await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            ollama_double.reset_records()
        assert await client.version() == "0.12.0"
        assert client.pool_rebuilds == 0
        assert await until(lambda: client_sockets(ollama_double.port) <= 4, 5.0)
    finally:
        await client.aclose()


async def test_a_busy_pool_fails_fast_with_a_typed_error(ollama_double: OllamaDouble) -> None:
    ollama_double.inject_fault("hang", after_chunks=0)
    client = OllamaClient(ollama_double.host, max_connections=1, pool_timeout=0.2)
    hung = asyncio.create_task(_consume(client))
    try:
        await ollama_double.wait_for_async(lambda r: r.phase == "hanging")
        start = time.monotonic()
        with pytest.raises(PoolExhausted) as err:
            await client.version()
        assert time.monotonic() - start < 1.0
        assert "all 1 connections" in str(err.value) and ollama_double.url in str(err.value)
        assert client.pool_rebuilds == 0  # the one connection is really in use
    finally:
        hung.cancel()
        await asyncio.gather(hung, return_exceptions=True)
        await client.aclose()
    await ollama_double.wait_for_async(lambda r: r.disconnected, timeout=2.0)


async def test_a_pool_that_lost_its_connections_is_rebuilt(ollama_double: OllamaDouble) -> None:
    """Whatever loses connections inside httpx, the client must reach Ollama again."""
    client = OllamaClient(ollama_double.host, max_connections=2, pool_timeout=0.2)
    http = client._connections.http
    # What httpcore's bug leaves behind: responses nobody will ever close.
    lost = [await http.send(http.build_request("GET", "/api/tags"), stream=True) for _ in range(2)]
    try:
        start = time.monotonic()
        assert await client.version() == "0.12.0"
        assert time.monotonic() - start < 1.0
        assert client.pool_rebuilds == 1
        assert client._connections.http is not http
        assert await client.version() == "0.12.0"  # the new pool keeps working
    finally:
        for response in lost:
            await response.aclose()
        await client.aclose()
