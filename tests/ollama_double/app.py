"""The aiohttp application: Ollama's route table and Gin's defaults around it.

Gin answers an unknown path with ``404 page not found`` and a known path with the wrong method
with ``405 method not allowed`` (``HandleMethodNotAllowed``), both ``text/plain``; aiohttp's own
answers differ, so a middleware translates them. The same middleware records every request
and notices clients that hang up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import inference, models, pull
from .exchange import STATE, ClientGone, Exchange, Respond, StreamEnded
from .records import describe
from .state import DoubleState

log = logging.getLogger("ollama_double")

Handler = Callable[[web.Request, Exchange], Awaitable[web.StreamResponse]]
EXCHANGE = web.RequestKey("exchange", Exchange)
TASKS = web.AppKey("tasks", set)
PATHS = web.AppKey("paths", set)


def _gin_text(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=text.encode(), status=status, headers={"Content-Type": "text/plain", **(headers or {})}
    )


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return None


def _not_found(request: web.Request) -> web.Response:
    """Gin's ``RedirectTrailingSlash``: ``/api/tags/`` redirects to ``/api/tags`` (301 for GET,
    307 otherwise, with Go's ``http.Redirect`` body); anything else is Gin's 404."""
    path = request.path
    if path.endswith("/") and path.rstrip("/") in request.app[PATHS]:
        target = path.rstrip("/")
        if request.method in ("GET", "HEAD"):
            body = f'<a href="{target}">Moved Permanently</a>.\n\n'.encode()
            headers = {"Location": target, "Content-Type": "text/html; charset=utf-8"}
            return web.Response(status=301, body=body, headers=headers)
        return web.Response(status=307, headers={"Location": target})
    return _gin_text(404, "404 page not found")


@web.middleware
async def ollama_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    state = request.app[STATE]
    raw = await request.read()
    peername = request.transport.get_extra_info("peername") if request.transport else None
    peer = f"{peername[0]}:{peername[1]}" if peername else ""
    record = state.book.start(request.method, request.path, _parse(raw), peer)
    ex = Exchange(request, record, raw)
    request[EXCHANGE] = ex
    task = asyncio.current_task()
    request.app[TASKS].add(task)
    try:
        try:
            response = await handler(request)
        except Respond as answer:
            response = answer.response
        except StreamEnded:
            response = ex.response or web.Response(status=200)
        except ClientGone:
            ex.update(disconnected=True, status=record.status or 499)
            response = ex.response or web.Response(status=499)
        except web.HTTPNotFound:
            response = _not_found(request)
        except web.HTTPMethodNotAllowed as err:
            allow = ", ".join(sorted(err.allowed_methods))
            response = _gin_text(405, "405 method not allowed", {"Allow": allow})
        ex.update(
            status=ex.record.status or response.status, phase="finished", finished=time.monotonic()
        )
        return response
    except asyncio.CancelledError:
        if not state.stopping and not ex.closed_by_us:
            ex.update(disconnected=True, status=record.status or 499)
        ex.update(phase="finished", finished=time.monotonic())
        raise
    finally:
        request.app[TASKS].discard(task)
        if state.log_requests:
            log.info("%s", describe(record))


def _route(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def aiohttp_handler(request: web.Request) -> web.StreamResponse:
        return await handler(request, request[EXCHANGE])

    return aiohttp_handler


def build_app(state: DoubleState) -> web.Application:
    app = web.Application(middlewares=[ollama_middleware], client_max_size=256 * 1024**2)
    app[STATE] = state
    app[TASKS] = set()
    r = app.router
    r.add_route("GET", "/", _route(models.root))
    r.add_route("HEAD", "/", _route(models.root))
    r.add_route("GET", "/api/version", _route(models.version))
    r.add_route("HEAD", "/api/version", _route(models.version))
    r.add_route("GET", "/api/tags", _route(models.tags))
    r.add_route("HEAD", "/api/tags", _route(models.tags))
    r.add_route("GET", "/api/ps", _route(models.ps))
    r.add_route("POST", "/api/show", _route(models.show))
    r.add_route("DELETE", "/api/delete", _route(models.delete))
    r.add_route("POST", "/api/copy", _route(models.copy))
    r.add_route("POST", "/api/pull", _route(pull.pull))
    r.add_route("POST", "/api/generate", _route(inference.generate))
    r.add_route("POST", "/api/chat", _route(inference.chat))
    for path in ("/api/push", "/api/create", "/api/embed", "/api/embeddings"):
        r.add_route("POST", path, _route(models.not_implemented))
    r.add_route("POST", "/api/blobs/{digest}", _route(models.not_implemented))
    r.add_route("HEAD", "/api/blobs/{digest}", _route(models.not_implemented))
    app[PATHS] = {resource.canonical for resource in r.resources()}
    return app
