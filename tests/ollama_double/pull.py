"""``POST /api/pull``: Ollama's status sequence (``server/images.go`` ``PullModel``).

``pulling manifest``; per layer, then the config, ``pulling <12 hex>`` lines with ``digest``,
``total`` and a growing ``completed`` (left out while 0), one per tick; a blob already on disk
is reported once, complete. Then ``verifying sha256 digest``, ``writing manifest`` (the model is
installed here), ``success``. A name the registry does not have fails after the manifest line:
in-stream with status 200, or 500 with ``stream:false`` (which otherwise returns only the last
object). A client that leaves before ``writing manifest`` gets nothing installed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .catalogue import library_spec
from .exchange import JSON_PLAIN, Exchange, Respond
from .names import DEFAULT_HOST, DEFAULT_NAMESPACE, parse_name
from .schemas import PULL

BIG_LAYER = 100_000_000
BIG_LAYER_STEPS = 8
NOT_FOUND = "pull model manifest: file does not exist"


async def pull(request: web.Request, ex: Exchange) -> web.StreamResponse:
    req = ex.decode(PULL)
    sent = req["model"] or req["name"]
    ex.update(model=sent)
    name = parse_name(sent)
    if name is None:
        raise Respond(ex.error(400, "invalid model name"))
    ex.streaming = req["stream"] is not False
    await ex.begin()
    state = ex.state
    last: dict[str, Any] = {}

    async def emit(obj: dict[str, Any], *, final: bool = False, tick: bool = False) -> None:
        nonlocal last
        if tick and state.latency.pull_tick_s > 0:  # a download's pace, set by the test
            await asyncio.sleep(state.latency.pull_tick_s)
        last = obj
        if ex.streaming:
            await ex.send_line(obj, final=final)

    await emit({"status": "pulling manifest"})
    default_registry = (name.host.lower(), name.namespace.lower()) == (
        DEFAULT_HOST,
        DEFAULT_NAMESPACE,
    )
    spec = library_spec(name.short) if default_registry else None
    if spec is None:
        ex.update(error=NOT_FOUND)
        if not ex.streaming:
            raise Respond(ex.error(500, NOT_FOUND, JSON_PLAIN))
        return await ex.stream_error(NOT_FOUND)

    present = state.blobs_present()
    for layer in spec.layers:
        status = {"status": f"pulling {layer.digest[7:19]}", "digest": layer.digest}
        if layer.digest in present:
            await emit(status | {"total": layer.size, "completed": layer.size}, tick=True)
            continue
        await emit(status | {"total": layer.size}, tick=True)
        steps = BIG_LAYER_STEPS if layer.size >= BIG_LAYER else 1
        for i in range(1, steps + 1):
            await emit(
                status | {"total": layer.size, "completed": layer.size * i // steps}, tick=True
            )
    await emit({"status": "verifying sha256 digest"})
    await emit({"status": "writing manifest"})
    state.install(sent)
    await emit({"status": "success"}, final=True)
    if not ex.streaming:
        return await ex.send_single(last, content_type=JSON_PLAIN)
    return ex.response
