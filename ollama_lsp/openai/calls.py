"""One OpenAI-compatible server's HTTP calls — a JSON answer or a stream of server-sent
events — with every failure typed (``errors``) and every read bounded.

The request/response discipline of ``ollama.calls``, on the same plumbing: each call runs in an
``Exchange`` (cancelling a caller never cancels httpx mid-request; leaving a stream aborts the
exchange, which closes the connection), opened by ``http.opening`` (one retry for a wedged pool
or a stale keep-alive connection), a short connect timeout, a generous first-byte timeout, none
once a stream flows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from ..http.connections import Connections
from ..http.endpoint import Endpoint
from ..http.opening import DRAIN_TIMEOUT_S, LineStream, read_whole
from ..provider.errors import ProviderError
from . import wire
from .errors import (
    MalformedResponse,
    ModelNotServed,
    OpenAIStreamError,
    OpenAITimeout,
    OpenAIUnreachable,
    PoolExhausted,
    ResponseTooLarge,
    StreamBroken,
)

log = logging.getLogger(__name__)

#: Where a stream's ``[DONE]`` was.
END = object()


class _Failures:
    """Our errors for what fails before a response starts (``http.opening``)."""

    def pool_exhausted(self, host: str, connections: int, what: str) -> ProviderError:
        return PoolExhausted(host, connections, what)

    def unreachable(self, host: str) -> ProviderError:
        return OpenAIUnreachable(host)

    def no_response(self, detail: str, what: str) -> ProviderError:
        return MalformedResponse(detail, what=what)

    def timeout(self, host: str, seconds: float, what: str) -> ProviderError:
        return OpenAITimeout(host, seconds, what)

    def too_large(self, detail: str, what: str) -> ProviderError:
        return ResponseTooLarge(detail, what=what)

    def broken(self, host: str, detail: str, what: str) -> ProviderError:
        return StreamBroken(host, detail, what=what)


_FAILURES = _Failures()


class Calls:
    """JSON calls and SSE streams on ``connections``; ``served()`` lists the served model ids
    for a missing-model error (it may fail: the message then goes out without them)."""

    def __init__(
        self,
        connections: Connections,
        *,
        request_timeout: float,
        first_byte_timeout: float,
        served: Callable[[], Awaitable[tuple[str, ...]]],
    ) -> None:
        self._connections = connections
        self.request_timeout = request_timeout
        self.first_byte_timeout = first_byte_timeout
        self._served = served

    @property
    def host(self) -> str:
        return self._connections.endpoint.display

    @property
    def endpoint(self) -> Endpoint:
        return self._connections.endpoint

    async def json(
        self,
        method: str,
        route: str,
        body: dict[str, Any] | None,
        *,
        what: str,
        model: str | None = None,
        limit: float | None = None,
    ) -> tuple[dict[str, Any], httpx.Response]:
        timeout = self.request_timeout if limit is None else limit
        path = wire.api_path(self.endpoint.url, route)
        log.debug("openai %s %s", method, path)
        response, content = await read_whole(
            self._connections, method, path, body, what, within=timeout, failures=_FAILURES
        )
        await self._check(response, content, what=what, path=path, model=model)
        data = wire.parse(content, what)
        if (error := wire.stream_error(data)) is not None:
            raise OpenAIStreamError(self.host, error[0], what=what)
        return data, response

    async def events(
        self, route: str, body: dict[str, Any], *, what: str, model: str
    ) -> AsyncIterator[Any]:
        """The stream's events as JSON objects, then ``END`` at ``[DONE]``; errors typed."""
        path = wire.api_path(self.endpoint.url, route)
        log.debug("openai POST %s", path)

        async def check(response: httpx.Response, content: bytes) -> None:
            await self._check(response, content, what=what, path=path, model=model)

        opened = LineStream(
            self._connections, path, body, what,
            first_byte_timeout=self.first_byte_timeout, failures=_FAILURES, check=check,
        )  # fmt: skip
        async with opened as stream:
            async for line in stream.lines():
                payload = wire.sse_data(line)
                if payload is None:
                    continue
                if payload.strip() == wire.DONE:
                    await stream.finish()
                    yield END
                    return
                data = wire.parse(payload, what)
                if (error := wire.stream_error(data)) is not None:
                    raise OpenAIStreamError(self.host, error[0], what=what)
                yield data

    async def _check(
        self, response: httpx.Response, content: bytes, *, what: str, path: str, model: str | None
    ) -> None:
        """``wire.check_status``, with the served models filled into a missing-model error."""
        try:
            wire.check_status(self.host, response, content, what=what, path=path, model=model)
        except ModelNotServed as exc:
            served = await self._served()
            raise ModelNotServed(exc.model, served, self.host, status=exc.status) from None


async def until_drained(
    events: AsyncIterator[Any], finished: Callable[[], bool]
) -> AsyncIterator[Any]:
    """``events``, but once ``finished()`` only as long as the rest comes promptly: after
    ``finish_reason`` only ``usage`` and ``[DONE]`` are due, and a server that then stalls
    must not hold the answer back."""
    while True:
        try:
            if finished():
                async with asyncio.timeout(DRAIN_TIMEOUT_S):
                    item = await anext(events)
            else:
                item = await anext(events)
        except (StopAsyncIteration, TimeoutError):
            return
        yield item
