"""A small OpenAI-compatible server for the unit tests, shaped like llama_cpp.server's answers.

Real HTTP on a real socket (aiohttp, in the test's own event loop), so the client's pool,
cancellation and disconnects are the real thing. By default ``/v1/completions`` streams
``answer`` one piece per event the way llama_cpp.server does (``logprobs`` when asked, a last
event with ``finish_reason``, ``data: [DONE]``); a test replaces any route's behaviour with
``handle(path, fn)`` and builds answers with ``sse``. ``requests`` records what came in;
``disconnected`` is set when a client leaves a stream before its end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]

SERVER_HEADER = "uvicorn"


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def chunk(text: str = "", finish: str | None = None, **more: Any) -> dict[str, Any]:
    """One ``text_completion`` event as llama_cpp.server writes it."""
    choice = {"text": text, "index": 0, "logprobs": more.pop("logprobs", None)}
    choice["finish_reason"] = finish
    return {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
            "choices": [choice], **more}  # fmt: skip


class FakeOpenAI:
    """``async with FakeOpenAI() as fake: fake.url`` — an OpenAI-compatible server."""

    def __init__(
        self,
        *,
        models: Sequence[str] = ("smollm2:135m",),
        answer: Sequence[str] = ("def", " add", "(a", ", b", "):"),
        ssl_context: Any = None,
    ) -> None:
        self.models = list(models)
        self.model_extra: dict[str, Any] = {}
        self.answer = list(answer)
        self.requests: list[Recorded] = []
        self.disconnected = asyncio.Event()
        self.streams_started = 0
        #: Seconds between streamed events (0: as fast as the socket takes them).
        self.pace = 0.0
        self._ssl = ssl_context
        self._handlers: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # Handlers are cancelled when their client leaves (as uvicorn tells llama_cpp.server),
        # and a stream still open at the end does not hold the test up.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"{'https' if self._ssl else 'http'}://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def handle(self, path: str, handler: Handler) -> None:
        """Answer ``path`` (``/v1/completions``) with ``handler(request, body)`` from now on."""
        self._handlers[path] = handler

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        self.requests.append(Recorded(request.method, request.path, body, dict(request.headers)))
        handler = self._handlers.get(request.path)
        if handler is not None:
            return await handler(request, body)
        route = _ROUTES.get(request.path)
        if route is None:
            return web.json_response({"detail": "Not Found"}, status=404)
        return await route(self, request, body)

    # -- llama_cpp.server's answers ---------------------------------------------------------

    async def models_route(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        data = [
            {"id": m, "object": "model", "owned_by": "me", "permissions": [], **self.model_extra}
            for m in self.models
        ]
        return web.json_response(
            {"object": "list", "data": data}, headers={"Server": SERVER_HEADER}
        )

    async def completions_route(
        self, request: web.Request, body: dict[str, Any]
    ) -> web.StreamResponse:
        logprobs = body.get("logprobs")
        events: list[dict[str, Any] | str] = []
        for piece in self.answer[: body.get("max_tokens", 16)]:
            extra: dict[str, Any] = {}
            if logprobs:
                top = {piece: -0.5, piece.upper() + "?": -0.1, "x": -3.0}
                extra["logprobs"] = {
                    "tokens": [piece], "token_logprobs": [-0.5], "top_logprobs": [top]
                }  # fmt: skip
            events.append(chunk(piece, **extra))
        events += [chunk("", "stop"), "[DONE]"]
        return await self.sse(request, events)

    async def chat_route(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(self.answer)}
            return web.json_response(
                {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
            )
        events: list[dict[str, Any] | str] = [
            {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            for piece in self.answer
        ]
        events += [{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, "[DONE]"]
        return await self.sse(request, events)

    async def sse(
        self,
        request: web.Request,
        events: Sequence[dict[str, Any] | str | bytes],
        *,
        hold: asyncio.Event | None = None,
        forever: dict[str, Any] | None = None,
    ) -> web.StreamResponse:
        """Stream ``events`` (dicts as ``data: json``, ``"[DONE]"`` as is, bytes verbatim),
        then wait for ``hold`` or repeat ``forever`` until the client leaves."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "Server": SERVER_HEADER}
        )
        await response.prepare(request)
        self.streams_started += 1
        try:
            for event in events:
                await response.write(_encode(event))
                if self.pace:
                    await asyncio.sleep(self.pace)  # the fake's generation speed
            if hold is not None:
                await hold.wait()
            while forever is not None:
                await response.write(_encode(forever))
                await asyncio.sleep(self.pace or 0.001)  # tokens keep coming, as a model's do
        except (ConnectionError, asyncio.CancelledError):
            self.disconnected.set()
            raise
        return response


def _encode(event: dict[str, Any] | str | bytes) -> bytes:
    if isinstance(event, bytes):
        return event
    payload = event if isinstance(event, str) else json.dumps(event)
    return f"data: {payload}\n\n".encode()


_ROUTES: dict[str, Any] = {
    "/v1/models": FakeOpenAI.models_route,
    "/v1/completions": FakeOpenAI.completions_route,
    "/v1/chat/completions": FakeOpenAI.chat_route,
}
