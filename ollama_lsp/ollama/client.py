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
import json
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any

import httpx

from .connections import MAX_CONNECTIONS, Connections
from .errors import (
    InsertNotSupported,
    MalformedResponse,
    ModelNotFound,
    ModelNotInLibrary,
    OllamaError,
    OllamaHTTPError,
    OllamaRedirect,
    OllamaStreamError,
    OllamaTimeout,
    OllamaUnreachable,
    PoolExhausted,
    ResponseTooLarge,
)
from .exchange import Exchange, Limits, TooLarge
from .host import Endpoint, parse_endpoint, redact_userinfo
from .types import (
    ChatChunk,
    ChatMessage,
    GenerateChunk,
    GenerateOptions,
    ModelInfo,
    PullProgress,
    RunningModel,
    ShowInfo,
)

log = logging.getLogger(__name__)

KeepAlive = str | int | float | None

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
    ) -> None:
        """``host`` as ``OLLAMA_HOST`` takes it; raises ``HostError`` when it cannot be used."""
        self.request_timeout = request_timeout
        self.first_byte_timeout = first_byte_timeout
        self.max_text_chars = max_text_chars
        self._connections = Connections(
            _endpoint(host),
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            max_connections=max_connections,
            limits=Limits(max_line=max_line_bytes, max_body=max_body_bytes),
            transport=transport,
        )

    @property
    def host(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:11434``, as shown to users (no password)."""
        return self._connections.endpoint.display

    @host.setter
    def host(self, value: str | Endpoint) -> None:
        self._connections.retarget(_endpoint(value))

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
        return [ModelInfo.from_json(m) for m in _list(data.get("models")) if isinstance(m, dict)]

    async def show(self, model: str) -> ShowInfo:
        data = await self._json("POST", "/api/show", {"model": model}, what="show", model=model)
        return ShowInfo.from_json(data)

    async def ps(self) -> list[RunningModel]:
        data = await self._json("GET", "/api/ps", what="the loaded-models request")
        models = _list(data.get("models"))
        return [RunningModel.from_json(m) for m in models if isinstance(m, dict)]

    async def delete(self, model: str) -> None:
        await self._json("DELETE", "/api/delete", {"model": model}, what="delete", model=model)

    async def load(
        self, model: str, *, keep_alive: KeepAlive = None, options: GenerateOptions | None = None
    ) -> None:
        """Load ``model`` into memory (an empty-prompt generate). May take tens of seconds.

        Pass the same runner ``options`` (``num_ctx``) later requests will use: a load with
        other runner options would be followed by a reload on the first real request.
        """
        body = _drop_none(
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
        body = _generate_body(model, prompt, suffix, raw, system, options, keep_alive, False)
        body |= _logprobs_fields(logprobs, top_logprobs)
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
        body = _generate_body(model, prompt, suffix, raw, system, options, keep_alive, True)
        body |= _logprobs_fields(logprobs, top_logprobs)
        text = _TextBudget(self.max_text_chars, "generate")
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
        body = _chat_body(model, messages, options, keep_alive, False)
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
        body = _chat_body(model, messages, options, keep_alive, True)
        text = _TextBudget(self.max_text_chars, "chat")
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
                yield PullProgress.from_json(data)

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
            raise MalformedResponse(_describe(exc), what=f"the {what} request") from exc
        finally:
            if exchange is not None:
                exchange.abort()
        self._check_status(response, content, what, model)
        if not content.strip():
            return {}  # delete answers 200 with an empty body
        data = _parse(content, f"the {what} request")
        if "error" in data:
            raise self._error_text(str(data["error"]), None, what, model)
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
                        self._check_status(response, await exchange.body(), what, model)
            except TimeoutError:
                raise OllamaTimeout(
                    self.host, self.first_byte_timeout, f"the {what} request"
                ) from None
            finished = False
            async for line in exchange.iter_lines():
                data = _parse(line, f"the {what} request")
                if "error" in data:
                    raise self._error_text(str(data["error"]), None, what, model)
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
                f"the connection broke mid-stream ({_describe(exc)})", what=f"the {what} request"
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
                raise OllamaUnreachable(self.host) from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if attempt == 2:
                    raise MalformedResponse(
                        f"no response ({_describe(exc)})", what=f"the {what} request"
                    ) from exc
                log.debug("%s %s: closed before an answer (%s); retrying", method, path, exc)
            except httpx.TransportError as exc:
                raise MalformedResponse(
                    f"no response ({_describe(exc)})", what=f"the {what} request"
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

    def _check_status(
        self, response: httpx.Response, content: bytes, what: str, model: str | None
    ) -> None:
        status = response.status_code
        if response.is_redirect or 300 <= status < 400:
            location = redact_userinfo(response.headers.get("location", "")) or "nowhere"
            raise OllamaRedirect(self.host, status, location, what=f"the {what} request")
        if status >= 400:
            raise self._status_error(status, content, what, model)

    def _status_error(
        self, status: int, content: bytes, what: str, model: str | None
    ) -> OllamaError:
        text = content[:2000].decode("utf-8", "replace").strip()
        try:
            data = json.loads(content)
            text = str(data["error"]) if isinstance(data, dict) and "error" in data else text
        except (ValueError, RecursionError):
            pass
        return self._error_text(text or f"HTTP {status}", status, what, model)

    def _error_text(
        self, text: str, status: int | None, what: str, model: str | None
    ) -> OllamaError:
        """Map Ollama's error strings to typed errors (strings per Ollama's handlers)."""
        text = text[:2000]
        if model is not None:
            if "model" in text and "not found" in text:
                return ModelNotFound(model, status=status)
            if "does not support insert" in text:
                return InsertNotSupported(model, text)
            if what == "pull" and "pull model manifest" in text:
                return ModelNotInLibrary(model, text)
        if status is None:
            return OllamaStreamError(text, what=what)
        return OllamaHTTPError(status, text, what=what)


def _endpoint(host: str | Endpoint | None) -> Endpoint:
    return host if isinstance(host, Endpoint) else parse_endpoint(host)


def _generate_body(
    model: str,
    prompt: str,
    suffix: str | None,
    raw: bool,
    system: str | None,
    options: GenerateOptions | None,
    keep_alive: KeepAlive,
    stream: bool,
) -> dict[str, Any]:
    return _drop_none(
        {
            "model": model,
            "prompt": prompt,
            "suffix": suffix,
            "system": system,
            "raw": raw or None,
            # Ollama thinks by default on thinking-capable models unless told not to; a
            # completion wants the answer only (raw prompts bypass the template, and thinking).
            "think": None if raw else False,
            "stream": stream,
            "options": options.to_json() if options else None,
            "keep_alive": keep_alive,
        }
    )


def _logprobs_fields(logprobs: bool, top_logprobs: int) -> dict[str, Any]:
    """Top-level request fields (not ``options``): ``top_logprobs`` alone returns nothing,
    Ollama only looks at it when ``logprobs`` is true (``api/types.go``)."""
    if top_logprobs > 0:
        return {"logprobs": True, "top_logprobs": top_logprobs}
    return {"logprobs": True} if logprobs else {}


def _chat_body(
    model: str,
    messages: Iterable[ChatMessage],
    options: GenerateOptions | None,
    keep_alive: KeepAlive,
    stream: bool,
) -> dict[str, Any]:
    return _drop_none(
        {
            "model": model,
            "messages": [m.to_json() for m in messages],
            "stream": stream,
            "options": options.to_json() if options else None,
            "keep_alive": keep_alive,
        }
    )


class _TextBudget:
    """Counts a stream's text so that a runaway answer fails instead of filling memory."""

    def __init__(self, limit: int, what: str) -> None:
        self.left = limit
        self.limit = limit
        self.what = what

    def spend(self, text: str) -> None:
        self.left -= len(text)
        if self.left < 0:
            raise ResponseTooLarge(
                f"an answer longer than {self.limit:,} characters", what=f"the {self.what} request"
            )


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _parse(content: bytes | str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except RecursionError:
        raise MalformedResponse("JSON nested too deeply", what=what) from None
    except ValueError:
        snippet = (
            content[:80] if isinstance(content, str) else content[:80].decode("utf-8", "replace")
        )
        raise MalformedResponse(f"not JSON: {snippet!r}", what=what) from None
    if not isinstance(data, dict):
        raise MalformedResponse(f"expected a JSON object, got {type(data).__name__}", what=what)
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
