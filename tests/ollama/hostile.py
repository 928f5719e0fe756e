"""A tiny raw HTTP/1.1 server for answers no real Ollama sends: redirects, endless lines, odd JSON.

The double is faithful to Ollama; this one says whatever a test scripts, byte for byte, so the
client's defences against a wrong host, a proxy or a broken server can be exercised. It runs
in the test's own event loop on 127.0.0.1 and records what it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class HostileServer:
    answer: Answer
    received: list[Received] = field(default_factory=list)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(method, path, headers, body)
                self.received.append(request)
                await self.answer(request, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.disconnected.set()
            self.writers.discard(writer)
            writer.close()


@contextlib.asynccontextmanager
async def hostile_server(answer: Answer) -> AsyncIterator[HostileServer]:
    server = HostileServer(answer)
    listener = await asyncio.start_server(server._serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        for writer in list(server.writers):
            writer.close()
        await listener.wait_closed()


async def send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes | Any = b"",
    headers: dict[str, str] | None = None,
) -> None:
    """One complete response; a non-bytes ``body`` is sent as JSON."""
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()


async def start_chunked(
    writer: asyncio.StreamWriter, content_type: str = "application/x-ndjson"
) -> None:
    writer.write(
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    await writer.drain()


async def chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    await writer.drain()


async def end_chunked(writer: asyncio.StreamWriter) -> None:
    writer.write(b"0\r\n\r\n")
    await writer.drain()
