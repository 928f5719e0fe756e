"""The only code that speaks the OpenAI-compatible HTTP API (``/v1/completions``, ``/v1/models``,
``/v1/chat/completions``): llama.cpp's servers, vLLM, TGI, LM Studio.

The same guarantees as ``ollama.client``, on the same plumbing (``ollama_lsp.http``):

* one keep-alive pool (``Connections``), rebuilt if httpcore ever loses its connections;
* every request in a task of its own (``Exchange``): cancelling a caller never cancels httpx
  mid-request; leaving a stream early aborts the exchange, which closes the connection — how
  the server learns to stop generating (llama_cpp.server checks between tokens);
* a short connect timeout, a generous first-byte timeout (headers), none once a stream flows,
  a total timeout on small JSON calls; redirects never followed; lines, bodies and a stream's
  text capped; ``headers=`` (a Bearer token) and ``verify=`` (TLS trust) on every request.

Streams are server-sent events: one ``data: {json}`` line per event and ``data: [DONE]`` last.
An ``{"error": ...}`` event is a typed error; ``[DONE]`` before any ``finish_reason`` is a cut
answer (``StreamInterrupted``); a stream that ends with neither is malformed.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import httpx

from ..http.connections import MAX_CONNECTIONS, Connections
from ..http.endpoint import Endpoint, parse_endpoint
from ..http.exchange import Exchange, Limits, TooLarge
from ..http.tls import certificate_problem
from ..provider.errors import CertificateUntrusted
from ..provider.interface import ChatMessage
from . import wire
from .errors import (
    MalformedResponse,
    ModelNotServed,
    OpenAIStreamError,
    OpenAITimeout,
    OpenAIUnreachable,
    PoolExhausted,
    ResponseTooLarge,
    StreamInterrupted,
)
from .types import CompletionChunk, ModelListing, chat_delta, completion_chunk, model_listing

log = logging.getLogger(__name__)

#: How long to wait for ``usage`` and ``[DONE]`` once an answer's ``finish_reason`` came.
DRAIN_TIMEOUT_S = 0.5
POOL_TIMEOUT_S = 3.0
#: An event with 20 alternatives is a few kilobytes.
MAX_LINE_BYTES = 4 * 2**20
MAX_BODY_BYTES = 32 * 2**20
#: A completion or chat answer longer than this is a runaway, not a suggestion.
MAX_TEXT_CHARS = 2**20

_END = object()
#: llama_cpp.server answers a streamed prompt longer than its context with a 200 and no event.
_EMPTY_STREAM = (
    "the stream ended without a single event; the prompt may be longer than the server's "
    "context (lower `ollama.completion.contextTokens`, or start the server with a larger "
    "one: llama_cpp.server --n_ctx)"
)


class OpenAIClient:
    """Async client for one OpenAI-compatible server. Cheap to keep for the life of the process.

    ``host``'s URL is the server's base: ``http://h:8000`` or ``http://h:8000/v1`` (``/v1`` is
    added unless the URL ends in it). ``include_usage`` asks streams for token counts
    (``stream_options``; servers that do not know it ignore it)."""

    def __init__(
        self,
        host: str | Endpoint | None = None,
        *,
        connect_timeout: float = 1.5,
        request_timeout: float = 15.0,
        first_byte_timeout: float = 120.0,
        pool_timeout: float = POOL_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_text_chars: int = MAX_TEXT_CHARS,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
        include_usage: bool = True,
    ) -> None:
        self.request_timeout = request_timeout
        self.first_byte_timeout = first_byte_timeout
        self.max_text_chars = max_text_chars
        self.include_usage = include_usage
        self._connections = Connections(
            host if isinstance(host, Endpoint) else parse_endpoint(host),
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            max_connections=max_connections,
            limits=Limits(max_line=max_line_bytes, max_body=max_body_bytes),
            transport=transport,
            headers=headers,
            verify=verify,
        )

    @property
    def host(self) -> str:
        """The base URL as shown to users (no password)."""
        return self._connections.endpoint.display

    @host.setter
    def host(self, value: str | Endpoint) -> None:
        self._connections.retarget(value if isinstance(value, Endpoint) else parse_endpoint(value))

    @property
    def endpoint(self) -> Endpoint:
        return self._connections.endpoint

    @property
    def pool_rebuilds(self) -> int:
        return self._connections.rebuilds

    async def aclose(self) -> None:
        await self._connections.aclose()

    # -- the API ----------------------------------------------------------------------------

    async def list_models(self) -> ModelListing:
        """``GET /v1/models``: the models the server serves (what it was started with)."""
        data, response = await self._json("GET", "/models", None, what="the model list request")
        return model_listing(data, response.headers.get("server", ""))

    async def complete_stream(
        self,
        model: str,
        prompt: str,
        *,
        suffix: str | None = None,
        max_tokens: int = 128,
        temperature: float = 0.2,
        top_p: float | None = None,
        stop: Sequence[str] = (),
        logprobs: int = 0,
    ) -> AsyncIterator[CompletionChunk]:
        """Stream ``/v1/completions``: chunks with text, then one with ``finish_reason`` (and
        ``usage`` when the server sends it) and no text."""
        body = wire.completion_body(
            model, prompt, suffix=suffix, max_tokens=max_tokens, temperature=temperature,
            top_p=top_p, stop=stop, logprobs=logprobs, include_usage=self.include_usage,
        )  # fmt: skip
        what = "the completion request"
        budget = wire.TextBudget(self.max_text_chars, what)
        finish, usage, events_seen = "", None, 0
        events = self._events("/completions", body, what=what, model=model)
        drained = _until_drained(events, lambda: bool(finish))
        async with aclosing(events), aclosing(drained):
            async for data in drained:
                if data is _END:
                    if not finish:
                        raise StreamInterrupted(self.host, what=what)
                    break
                events_seen += 1
                chunk = completion_chunk(data)
                usage = chunk.usage or usage
                if chunk.text:
                    budget.spend(chunk.text)
                    yield CompletionChunk(chunk.text, alternatives=chunk.alternatives)
                finish = finish or chunk.finish_reason
        if not events_seen:
            raise MalformedResponse(_EMPTY_STREAM, what=what)
        if not finish:
            raise MalformedResponse("the stream ended before the answer was finished", what=what)
        yield CompletionChunk(finish_reason=finish, usage=usage)

    async def chat(self, model: str, messages: Sequence[ChatMessage]) -> str:
        """Non-streamed ``/v1/chat/completions``: the answer's text."""
        body = wire.chat_body(model, messages, stream=False, include_usage=False)
        timeout = self.first_byte_timeout
        data, _ = await self._json(
            "POST", "/chat/completions", body, what="the chat request", model=model, limit=timeout
        )
        return chat_delta(data).content

    async def chat_stream(self, model: str, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Streamed ``/v1/chat/completions``: the answer's text pieces."""
        body = wire.chat_body(model, messages, stream=True, include_usage=self.include_usage)
        what = "the chat request"
        budget = wire.TextBudget(self.max_text_chars, what)
        finish = ""
        events = self._events("/chat/completions", body, what=what, model=model)
        drained = _until_drained(events, lambda: bool(finish))
        async with aclosing(events), aclosing(drained):
            async for data in drained:
                if data is _END:
                    if not finish:
                        raise StreamInterrupted(self.host, what=what)
                    break
                delta = chat_delta(data)
                if delta.content:
                    budget.spend(delta.content)
                    yield delta.content
                finish = finish or delta.finish_reason
        if not finish:
            raise MalformedResponse("the stream ended before the answer was finished", what=what)

    # -- plumbing ---------------------------------------------------------------------------

    async def _json(
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
        exchange: Exchange | None = None
        try:
            async with asyncio.timeout(timeout):
                exchange, response = await self._open(method, path, body, what, lines=False)
                content = await exchange.body()
            await exchange.settle(DRAIN_TIMEOUT_S)
        except TimeoutError:
            raise OpenAITimeout(self.host, timeout, what) from None
        except TooLarge as exc:
            raise ResponseTooLarge(str(exc), what=what) from None
        except httpx.TransportError as exc:
            raise MalformedResponse(wire.describe(exc), what=what) from exc
        finally:
            if exchange is not None:
                exchange.abort()
        await self._check(response, content, what=what, path=path, model=model)
        data = wire.parse(content, what)
        if (error := wire.stream_error(data)) is not None:
            raise OpenAIStreamError(self.host, error[0], what=what)
        return data, response

    async def _events(
        self, route: str, body: dict[str, Any], *, what: str, model: str
    ) -> AsyncIterator[Any]:
        """The stream's events as JSON objects, then ``_END`` at ``[DONE]``; errors typed."""
        path = wire.api_path(self.endpoint.url, route)
        exchange: Exchange | None = None
        try:
            try:
                async with asyncio.timeout(self.first_byte_timeout):
                    exchange, response = await self._open("POST", path, body, what, lines=True)
                    if not response.is_success:
                        content = await exchange.body()
                        await self._check(response, content, what=what, path=path, model=model)
            except TimeoutError:
                raise OpenAITimeout(self.host, self.first_byte_timeout, what) from None
            async for line in exchange.iter_lines():
                payload = wire.sse_data(line)
                if payload is None:
                    continue
                if payload.strip() == wire.DONE:
                    await exchange.settle(DRAIN_TIMEOUT_S)
                    yield _END
                    return
                data = wire.parse(payload, what)
                if (error := wire.stream_error(data)) is not None:
                    raise OpenAIStreamError(self.host, error[0], what=what)
                yield data
        except TooLarge as exc:
            raise ResponseTooLarge(str(exc), what=what) from None
        except httpx.TransportError as exc:
            raise MalformedResponse(
                f"the connection broke mid-stream ({wire.describe(exc)})", what=what
            ) from exc
        finally:
            if exchange is not None:
                exchange.abort()  # a no-op once the stream was read to its end

    async def _check(
        self, response: httpx.Response, content: bytes, *, what: str, path: str, model: str | None
    ) -> None:
        """``wire.check_status``, with the served models filled into a missing-model error."""
        try:
            wire.check_status(self.host, response, content, what=what, path=path, model=model)
        except ModelNotServed as exc:
            served = await self._served_quietly()
            raise ModelNotServed(exc.model, served, self.host, status=exc.status) from None

    async def _served_quietly(self) -> tuple[str, ...]:
        """The served model ids for an error message; none if the listing fails too."""
        try:
            return (await self.list_models()).ids
        except Exception:  # the message goes out without the list
            return ()

    async def _open(
        self, method: str, path: str, body: dict[str, Any] | None, what: str, *, lines: bool
    ) -> tuple[Exchange, httpx.Response]:
        """Start an exchange and wait for its headers; one retry for a wedged pool or a
        keep-alive connection the server had closed before answering."""
        log.debug("openai %s %s", method, path)
        for attempt in (1, 2):
            exchange = self._connections.start(method, path, body, lines=lines)
            try:
                return exchange, await exchange.head()
            except httpx.PoolTimeout:
                if not self._pool_lost(exchange) or attempt == 2:
                    raise PoolExhausted(
                        self.host, self._connections.max_connections, what
                    ) from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                problem = certificate_problem(exc)
                if problem is not None:
                    raise CertificateUntrusted(self.host, problem) from exc
                raise OpenAIUnreachable(self.host) from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if attempt == 2:
                    raise MalformedResponse(
                        f"no response ({wire.describe(exc)})", what=what
                    ) from exc
                log.debug("%s %s: closed before an answer (%s); retrying", method, path, exc)
            except httpx.TransportError as exc:
                raise MalformedResponse(f"no response ({wire.describe(exc)})", what=what) from exc
            except BaseException:
                exchange.abort()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _pool_lost(self, exchange: Exchange) -> bool:
        if exchange.http is not self._connections.http:
            return True
        if self._connections.wedged(exchange):
            self._connections.rebuild()
            return True
        return False


async def _until_drained(
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
