"""The only code that speaks Ollama's HTTP API.

Design points, each learned from how Ollama behaves (see the wire notes in the repo's docs):

* One shared ``httpx.AsyncClient``: keystroke-rate requests reuse one keep-alive connection.
* Timeouts: a short *connect* timeout (a stopped Ollama must fail fast and quietly), a
  *first-byte* timeout on streams (headers only arrive once the model is loaded, which can
  take tens of seconds, so it is generous), a total timeout on small JSON calls, and **no**
  timeout once a stream is flowing: a long generation or a 7 GB pull must not be cut in the
  middle. Callers that need a bound (the completion engine) impose their own.
* A *pool* timeout: a dry connection pool fails fast with ``PoolExhausted``, and a pool that
  lost connections inside httpcore is replaced (``connections``).
* Every request runs in a task of its own (``exchange``): cancelling a caller never cancels
  httpx mid-request, which is what loses pool connections in httpcore 1.0.9.
* Streams are NDJSON parsed line by line as they arrive; an ``{"error": ...}`` line inside a
  200 stream becomes a typed error, as does a stream that ends before ``done``. Streaming
  methods are async generators: leaving one early (``break``, cancellation, ``aclose()``)
  closes the HTTP response, and closing the connection is how Ollama learns to stop
  generating. Use ``contextlib.aclosing`` where the close must happen immediately.
* Nothing Ollama sends is trusted to be small or sane: lines, bodies and a stream's text are
  capped (``ResponseTooLarge``), a 3xx is an error that names where it points (redirects are
  never followed: a redirect to elsewhere is a proxy or a wrong host, not Ollama), and the
  records in ``types`` drop values that make no sense.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from typing import Any

import httpx

from ..http.connections import MAX_CONNECTIONS, Connections
from ..http.endpoint import Endpoint, parse_endpoint
from ..http.exchange import Exchange, Limits, TooLarge
from ..http.tls import certificate_problem
from ..provider.errors import CertificateUntrusted
from .errors import (
    MalformedResponse,
    OllamaTimeout,
    OllamaUnreachable,
    PoolExhausted,
    ResponseTooLarge,
)
from .types import (
    ChatChunk,
    ChatMessage,
    GenerateChunk,
    GenerateOptions,
    ModelInfo,
    PullProgress,
    RunningModel,
    ShowInfo,
    model_info,
    pull_progress,
    running_model,
    show_info,
)
from .wire import (
    KeepAlive,
    TextBudget,
    as_list,
    chat_body,
    check_status,
    describe,
    drop_none,
    error_text,
    generate_body,
    logprobs_fields,
)
from .wire import parse as parse_json

log = logging.getLogger(__name__)

#: How long to wait for the end of a response body after its last NDJSON line.
DRAIN_TIMEOUT_S = 0.5
#: How long a request may wait for a free connection before ``PoolExhausted``.
POOL_TIMEOUT_S = 3.0
#: Ollama's NDJSON lines are a few hundred bytes; a pull status line is the longest kind.
MAX_LINE_BYTES = 4 * 2**20
#: ``/api/show`` with tensors is the biggest JSON answer, well under a megabyte.
MAX_BODY_BYTES = 32 * 2**20
#: A completion or chat answer longer than this is a runaway, not a suggestion.
MAX_TEXT_CHARS = 2**20


class OllamaClient:
    """Async client for one Ollama server. Cheap to keep for the life of the process."""

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
    ) -> None:
        """``host`` as ``OLLAMA_HOST`` takes it; raises ``HostError`` when it cannot be used.

        ``headers`` go on every request (a proxy's ``Authorization``), ``verify`` is the TLS
        trust for an ``https://`` host (``http.tls.client_context``)."""
        self.request_timeout = request_timeout
        self.first_byte_timeout = first_byte_timeout
        self.max_text_chars = max_text_chars
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
        """The base URL, e.g. ``http://127.0.0.1:11434``, as shown to users (no password)."""
        return self._connections.endpoint.display

    @host.setter
    def host(self, value: str | Endpoint) -> None:
        self._connections.retarget(value if isinstance(value, Endpoint) else parse_endpoint(value))

    @property
    def endpoint(self) -> Endpoint:
        """Where requests go, with the credentials (compare endpoints, show ``host``)."""
        return self._connections.endpoint

    @property
    def pool_rebuilds(self) -> int:
        """How often a wedged connection pool was replaced (see ``connections``)."""
        return self._connections.rebuilds

    async def aclose(self) -> None:
        await self._connections.aclose()

    # -- small JSON calls -------------------------------------------------------------------

    async def version(self) -> str:
        data = await self._json("GET", "/api/version", what="the version request")
        return str(data.get("version", ""))

    async def list_models(self) -> list[ModelInfo]:
        data = await self._json("GET", "/api/tags", what="the model list request")
        return [model_info(m) for m in as_list(data.get("models")) if isinstance(m, dict)]

    async def show(self, model: str) -> ShowInfo:
        data = await self._json("POST", "/api/show", {"model": model}, what="show", model=model)
        return show_info(data)

    async def ps(self) -> list[RunningModel]:
        data = await self._json("GET", "/api/ps", what="the loaded-models request")
        models = as_list(data.get("models"))
        return [running_model(m) for m in models if isinstance(m, dict)]

    async def delete(self, model: str) -> None:
        await self._json("DELETE", "/api/delete", {"model": model}, what="delete", model=model)

    async def load(
        self, model: str, *, keep_alive: KeepAlive = None, options: GenerateOptions | None = None
    ) -> None:
        """Load ``model`` into memory (an empty-prompt generate). May take tens of seconds.

        Pass the same runner ``options`` (``num_ctx``) later requests will use: a load with
        other runner options would be followed by a reload on the first real request.
        """
        body = drop_none(
            {
                "model": model,
                "keep_alive": keep_alive,
                "stream": False,
                "options": options.to_json() if options else None,
            }
        )
        timeout = self.first_byte_timeout
        await self._json("POST", "/api/generate", body, what="load", model=model, limit=timeout)

    async def unload(self, model: str) -> None:
        """Ask Ollama to free ``model``'s memory now (``keep_alive: 0``, empty prompt)."""
        body = {"model": model, "keep_alive": 0, "stream": False}
        await self._json("POST", "/api/generate", body, what="unload", model=model)

    # -- streams ----------------------------------------------------------------------------

    async def generate(
        self,
        model: str,
        prompt: str,
        *,
        suffix: str | None = None,
        raw: bool = False,
        system: str | None = None,
        options: GenerateOptions | None = None,
        keep_alive: KeepAlive = None,
        logprobs: bool = False,
        top_logprobs: int = 0,
    ) -> GenerateChunk:
        """Non-streamed generate: the whole response in one chunk (with every token's
        ``logprobs`` when asked for, see ``generate_stream``)."""
        body = generate_body(model, prompt, suffix, raw, system, options, keep_alive, False)
        body |= logprobs_fields(logprobs, top_logprobs)
        data = await self._json(
            "POST", "/api/generate", body, what="generate", model=model,
            limit=self.first_byte_timeout,
        )  # fmt: skip
        return GenerateChunk.from_json(data)

    async def generate_stream(
        self,
        model: str,
        prompt: str,
        *,
        suffix: str | None = None,
        raw: bool = False,
        system: str | None = None,
        options: GenerateOptions | None = None,
        keep_alive: KeepAlive = None,
        logprobs: bool = False,
        top_logprobs: int = 0,
    ) -> AsyncIterator[GenerateChunk]:
        """Streamed generate; the last chunk has ``done=True`` and the metrics.

        ``logprobs`` (implied by ``top_logprobs`` > 0, Ollama's 0..20) asks for each token's
        log-probability and its ``top_logprobs`` most probable alternatives, on the chunk
        that carries the token's text. Ollama before v0.12.11 ignores the fields: the
        chunks then have no ``logprobs``."""
        body = generate_body(model, prompt, suffix, raw, system, options, keep_alive, True)
        body |= logprobs_fields(logprobs, top_logprobs)
        text = TextBudget(self.max_text_chars, "generate")
        stream = self._stream("/api/generate", body, what="generate", model=model)
        async with aclosing(stream):
            async for data in stream:
                chunk = GenerateChunk.from_json(data)
                text.spend(chunk.response)
                yield chunk

    async def chat(
        self,
        model: str,
        messages: Iterable[ChatMessage],
        *,
        options: GenerateOptions | None = None,
        keep_alive: KeepAlive = None,
    ) -> ChatChunk:
        body = chat_body(model, messages, options, keep_alive, False)
        data = await self._json(
            "POST", "/api/chat", body, what="chat", model=model, limit=self.first_byte_timeout
        )
        return ChatChunk.from_json(data)

    async def chat_stream(
        self,
        model: str,
        messages: Iterable[ChatMessage],
        *,
        options: GenerateOptions | None = None,
        keep_alive: KeepAlive = None,
    ) -> AsyncIterator[ChatChunk]:
        body = chat_body(model, messages, options, keep_alive, True)
        text = TextBudget(self.max_text_chars, "chat")
        stream = self._stream("/api/chat", body, what="chat", model=model)
        async with aclosing(stream):
            async for data in stream:
                chunk = ChatChunk.from_json(data)
                text.spend(chunk.message.content)
                yield chunk

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        """Stream a pull's progress, ending with ``status == "success"``."""
        body = {"model": model, "stream": True}
        stream = self._stream("/api/pull", body, what="pull", model=model)
        async with aclosing(stream):
            async for data in stream:
                yield pull_progress(data)

    # -- plumbing ---------------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        what: str,
        model: str | None = None,
        limit: float | None = None,
    ) -> dict[str, Any]:
        timeout = self.request_timeout if limit is None else limit
        exchange: Exchange | None = None
        try:
            async with asyncio.timeout(timeout):
                exchange, response = await self._open(method, path, body, what, lines=False)
                content = await exchange.body()
            await exchange.settle(DRAIN_TIMEOUT_S)
        except TimeoutError:
            raise OllamaTimeout(self.host, timeout, f"the {what} request") from None
        except TooLarge as exc:
            raise ResponseTooLarge(str(exc), what=f"the {what} request") from None
        except httpx.TransportError as exc:
            raise MalformedResponse(describe(exc), what=f"the {what} request") from exc
        finally:
            if exchange is not None:
                exchange.abort()
        check_status(self.host, response, content, what, model)
        if not content.strip():
            return {}  # delete answers 200 with an empty body
        data = parse_json(content, f"the {what} request")
        if "error" in data:
            raise error_text(str(data["error"]), None, what, model)
        return data

    async def _stream(
        self, path: str, body: dict[str, Any], *, what: str, model: str
    ) -> AsyncIterator[dict[str, Any]]:
        exchange: Exchange | None = None
        try:
            try:
                async with asyncio.timeout(self.first_byte_timeout):
                    exchange, response = await self._open("POST", path, body, what, lines=True)
                    if not response.is_success:
                        check_status(self.host, response, await exchange.body(), what, model)
            except TimeoutError:
                raise OllamaTimeout(
                    self.host, self.first_byte_timeout, f"the {what} request"
                ) from None
            finished = False
            async for line in exchange.iter_lines():
                data = parse_json(line, f"the {what} request")
                if "error" in data:
                    raise error_text(str(data["error"]), None, what, model)
                if data.get("done") is True or data.get("status") == "success":
                    finished = True
                    await exchange.settle(DRAIN_TIMEOUT_S)
                    yield data
                    break
                yield data
            if not finished:
                raise MalformedResponse(
                    "the stream ended before Ollama said it was done", what=f"the {what} request"
                )
        except TooLarge as exc:
            raise ResponseTooLarge(str(exc), what=f"the {what} request") from None
        except httpx.TransportError as exc:
            raise MalformedResponse(
                f"the connection broke mid-stream ({describe(exc)})", what=f"the {what} request"
            ) from exc
        finally:
            if exchange is not None:
                exchange.abort()  # a no-op once the stream was read to its end

    async def _open(
        self, method: str, path: str, body: dict[str, Any] | None, what: str, *, lines: bool
    ) -> tuple[Exchange, httpx.Response]:
        """Start an exchange and wait for its headers; one retry for a wedged pool or a
        keep-alive connection that Ollama had closed (after a restart, say) before answering."""
        log.debug("ollama %s %s", method, path)
        for attempt in (1, 2):
            exchange = self._connections.start(method, path, body, lines=lines)
            try:
                return exchange, await exchange.head()
            except httpx.PoolTimeout:
                if not self._pool_lost(exchange) or attempt == 2:
                    raise PoolExhausted(
                        self.host, self._connections.max_connections, f"the {what} request"
                    ) from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                problem = certificate_problem(exc)
                if problem is not None:
                    raise CertificateUntrusted(self.host, problem) from exc
                raise OllamaUnreachable(self.host) from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if attempt == 2:
                    raise MalformedResponse(
                        f"no response ({describe(exc)})", what=f"the {what} request"
                    ) from exc
                log.debug("%s %s: closed before an answer (%s); retrying", method, path, exc)
            except httpx.TransportError as exc:
                raise MalformedResponse(
                    f"no response ({describe(exc)})", what=f"the {what} request"
                ) from exc
            except BaseException:
                exchange.abort()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _pool_lost(self, exchange: Exchange) -> bool:
        """After a pool timeout: rebuild the pool if connections were lost; retry if so."""
        if exchange.http is not self._connections.http:
            return True  # another request already replaced the pool
        if self._connections.wedged(exchange):
            self._connections.rebuild()
            return True
        return False
