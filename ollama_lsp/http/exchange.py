"""One HTTP exchange with Ollama, run in a task of its own that callers abort, never cancel.

Why a task of its own: httpcore 1.0.9 loses a pool connection for good when the task sending
a request is cancelled at the wrong moment — while it waits for a connection the pool has just
assigned to it (encode/httpcore#1093, #830; the fix, encode/httpcore#1099, is unmerged), between
connecting and sending (the connection stays ``NEW`` forever), or a second time while a response
closes (encode/httpx#3782: the pool forgets to release the request). httpcore's shields are anyio
cancel scopes, which do not stop asyncio's ``Task.cancel``. About a hundred such losses and the
pool is dry: every later request hangs although Ollama is fine. Completions are cancelled at
keystroke rate, often twice (a newer keystroke, then the editor's ``$/cancelRequest``), so
cancellation must never reach httpx/httpcore at those moments.

So the caller's task only reads what the exchange's task produces (a queue), and leaving early
calls ``abort()``: that cancels the exchange's task exactly once, and only where httpcore cleans
up after itself — once the request is on the wire (from ``send_request_headers`` on, which the
``trace`` extension reports) and before the response is being closed. An abort that comes
earlier is held until the request reaches the wire, so no connection is abandoned half-made;
the pool timeout bounds that wait. Closing the connection mid-response is also how Ollama
learns to stop generating.

Reading is bounded here too: no NDJSON line longer than ``max_line`` bytes and no body longer
than ``max_body`` bytes is ever buffered (a hostile or broken host must not make us hold
gigabytes): the body is read as bytes and split into lines here, not with httpx's
``aiter_lines``, whose line buffer has no limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

#: httpcore trace events after which one cancellation is cleaned up properly by httpcore.
_ON_WIRE = frozenset({"http11.send_request_headers.started", "http2.send_request_headers.started"})

#: Events after which httpcore is closing the response: a cancellation now would interrupt
#: the close and leave the request in the pool for good, so none is sent any more.
_CLOSING = frozenset(
    {
        "http11.receive_response_body.complete",
        "http11.response_closed.started",
        "http2.receive_response_body.complete",
        "http2.response_closed.started",
    }
)

#: Tasks of exchanges still running, so none is garbage-collected mid-flight.
_RUNNING: set[asyncio.Task[None]] = set()


class TooLarge(Exception):
    """The host sent a line or a body longer than the limit; ``what`` says which."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} longer than {limit / 2**20:g} MiB")
        self.what = what
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Limits:
    max_line: int
    max_body: int


_END = object()


class Exchange:
    """Send ``request`` on ``http`` in a task of its own; read its head, body or lines."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        request: httpx.Request,
        *,
        lines: bool,
        limits: Limits,
        on_done: Callable[[Exchange], None] | None = None,
    ) -> None:
        request.extensions = {**request.extensions, "trace": self._trace}
        self.http = http
        self._request = request
        self._lines = lines
        self._limits = limits
        self._items: asyncio.Queue[Any] = asyncio.Queue()
        self._on_wire = False
        self._closing = False
        self._abort = False
        self._cancelled = False
        self._task = asyncio.get_running_loop().create_task(self._run())
        _RUNNING.add(self._task)
        self._task.add_done_callback(_RUNNING.discard)
        if on_done is not None:
            self._task.add_done_callback(lambda _: on_done(self))

    # -- the caller's side ------------------------------------------------------------------

    async def head(self) -> httpx.Response:
        """The response once its headers arrived (status, headers; the body is not read)."""
        return await self._next()

    async def body(self) -> bytes:
        """The whole body (at most ``max_body`` bytes), for non-streamed answers and errors."""
        return await self._next()

    async def iter_lines(self) -> AsyncIterator[bytes]:
        """The body's non-empty lines, as they arrive."""
        while (item := await self._next()) is not _END:
            yield item

    def abort(self) -> None:
        """Stop the exchange: close its connection as soon as that is safe. Idempotent."""
        self._abort = True
        if self._on_wire:
            self._cancel_once()

    @property
    def done(self) -> bool:
        return self._task.done()

    @property
    def on_wire(self) -> bool:
        """True once the request got a connection and is being sent or answered."""
        return self._on_wire and not self._task.done()

    async def settle(self, within: float) -> None:
        """Let the response end on its own (so its connection is reused), else abort it."""
        if not self._task.done():
            done, _ = await asyncio.wait([self._task], timeout=within)
            if not done:
                self.abort()

    async def wait_closed(self) -> None:
        """Wait until the exchange's task has closed its response (never raises)."""
        await asyncio.wait([self._task])

    # -- the exchange's task ----------------------------------------------------------------

    async def _next(self) -> Any:
        item = await self._items.get()
        if isinstance(item, BaseException):
            self._items.put_nowait(item)  # later reads fail the same way
            raise item
        return item

    async def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event in _CLOSING:
            self._closing = True
        elif event in _ON_WIRE:
            self._on_wire = True
            if self._abort:
                self._cancel_once()

    def _cancel_once(self) -> None:
        if not self._cancelled and not self._closing and not self._task.done():
            self._cancelled = True
            self._task.cancel()

    async def _run(self) -> None:
        response: httpx.Response | None = None
        try:
            response = await self.http.send(self._request, stream=True)
            self._items.put_nowait(response)
            if self._lines and response.is_success:
                async for line in _lines(response, self._limits.max_line):
                    self._items.put_nowait(line)
                self._items.put_nowait(_END)
            else:
                self._items.put_nowait(await _body(response, self._limits.max_body))
        except asyncio.CancelledError:
            self._items.put_nowait(asyncio.CancelledError())
        except Exception as exc:  # handed to the caller, who maps it to a typed error
            self._items.put_nowait(exc)
        finally:
            self._closing = True
            if response is not None:
                await response.aclose()


async def _lines(response: httpx.Response, max_line: int) -> AsyncIterator[bytes]:
    pending = bytearray()
    async for chunk in response.aiter_bytes():
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if len(pending) + end - start > max_line:
                raise TooLarge("an NDJSON line", max_line)
            line = bytes(pending) + chunk[start:end] if pending else chunk[start:end]
            pending.clear()
            start = end + 1
            if line.strip():
                yield line
        if len(pending) + len(chunk) - start > max_line:
            raise TooLarge("an NDJSON line", max_line)
        pending += chunk[start:]
    if pending.strip():
        yield bytes(pending)


async def _body(response: httpx.Response, max_body: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise TooLarge("a response body", max_body)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_body:
            raise TooLarge("a response body", max_body)
    return bytes(body)
