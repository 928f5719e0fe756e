"""A recording pass-through proxy in front of llama-server: what each request asked and when.

llama-server keeps no per-request log that says when a request arrived, when its first token
left and what it answered; the proxy does, for every client alike (our server's
``/v1/completions`` streams, llama.vim's ``/infill``). Bytes pass through unchanged and as they
come; a client that hangs up has its handler cancelled (``handler_cancellation``), which closes
the upstream connection, so llama-server sees the cancel as it would without the proxy.
Timestamps are ``time.monotonic()`` (CLOCK_MONOTONIC, the clock of Neovim's ``vim.uv.hrtime``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiohttp import web

KEEP_BYTES = 256 * 1024
FORWARDED = ("Content-Type", "Authorization", "Accept")


@dataclass
class Exchange:
    path: str
    body: dict[str, Any]
    arrive: float
    first: float | None = None
    finish: float | None = None
    status: int | None = None
    data: bytearray = field(default_factory=bytearray)
    disconnected: bool = False


class RecordingProxy:
    """``with RecordingProxy(upstream) as proxy: proxy.url``; ``proxy.exchanges``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.url = ""
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="editor-loop-proxy", daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10) or not self.url:
            raise RuntimeError("the recording proxy did not start")
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def snapshot(self) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._startup())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _startup(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        record = Exchange(request.path, body if isinstance(body, dict) else {}, time.monotonic())
        with self._lock:
            self.exchanges.append(record)
        progress = isinstance(body, dict) and body.get("stream") is True
        if progress:  # the engine's numbers even for a stream the client leaves early
            raw = json.dumps({**body, "return_progress": True}).encode()
        pending = b""
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
        assert self._session is not None
        upstream = None
        response = web.StreamResponse()
        try:
            upstream = await self._session.request(
                request.method, self.upstream + request.path_qs, data=raw, headers=headers
            )
            record.status = upstream.status
            response.set_status(upstream.status)
            response.content_type = upstream.content_type
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                if len(record.data) < KEEP_BYTES:
                    record.data += chunk
                if progress:
                    events = (pending + chunk).split(b"\n\n")
                    pending = events.pop()
                    chunk = b"".join(e + b"\n\n" for e in events if b'"prompt_progress"' not in e)
                if not chunk:
                    continue
                if record.first is None:
                    record.first = time.monotonic()
                await response.write(chunk)
            if pending:
                await response.write(pending)
            await response.write_eof()
            return response
        except (asyncio.CancelledError, ConnectionError) as gone:
            record.disconnected = True
            if upstream is not None:
                upstream.close()  # llama-server sees the hang-up and frees the slot
            if isinstance(gone, asyncio.CancelledError):
                raise
            return response  # the client hung up mid-answer: nobody to tell
        finally:
            record.finish = time.monotonic()
            if upstream is not None:
                upstream.release()
