"""The only code that speaks Ollama's HTTP API.

Design points, each learned from how Ollama behaves (see the wire notes in the repo's docs):

* One shared ``httpx.AsyncClient``: keystroke-rate requests reuse one keep-alive connection.
* Timeouts: a short *connect* timeout (a stopped Ollama must fail fast and quietly), a
  *first-byte* timeout on streams (headers only arrive once the model is loaded, which can
  take tens of seconds, so it is generous), a total timeout on small JSON calls, and **no**
  timeout once a stream is flowing: a long generation or a 7 GB pull must not be cut in the
  middle. Callers that need a bound (the completion engine) impose their own.
* Streams are NDJSON parsed line by line as they arrive; an ``{"error": ...}`` line inside a
  200 stream becomes a typed error, as does a stream that ends before ``done``. Streaming
  methods are async generators: leaving one early (``break``, cancellation, ``aclose()``)
  closes the HTTP response, and closing the connection is how Ollama learns to stop
  generating. Use ``contextlib.aclosing`` where the close must happen immediately.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx

from .. import __version__
from .errors import (
    InsertNotSupported,
    MalformedResponse,
    ModelNotFound,
    ModelNotInLibrary,
    OllamaError,
    OllamaHTTPError,
    OllamaStreamError,
    OllamaTimeout,
    OllamaUnreachable,
)
from .host import parse_host
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


class OllamaClient:
    """Async client for one Ollama server. Cheap to keep for the life of the process."""

    def __init__(
        self,
        host: str | None = None,
        *,
        connect_timeout: float = 1.5,
        request_timeout: float = 15.0,
        first_byte_timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = parse_host(host)
        self.request_timeout = request_timeout
        self.first_byte_timeout = first_byte_timeout
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=httpx.Timeout(None, connect=connect_timeout),
            headers={"User-Agent": f"ollama-lsp/{__version__}", "Accept": "application/json"},
            transport=transport,
        )

    @property
    def host(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:11434``; shown to users in messages."""
        return self._base_url

    @host.setter
    def host(self, value: str) -> None:
        self._base_url = parse_host(value)
        self._http.base_url = self._base_url

    async def aclose(self) -> None:
        await self._http.aclose()

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
    ) -> GenerateChunk:
        """Non-streamed generate: the whole response in one chunk."""
        body = _generate_body(model, prompt, suffix, raw, system, options, keep_alive, False)
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
    ) -> AsyncIterator[GenerateChunk]:
        """Streamed generate; the last chunk has ``done=True`` and the metrics."""
        body = _generate_body(model, prompt, suffix, raw, system, options, keep_alive, True)
        async for data in self._stream("/api/generate", body, what="generate", model=model):
            yield GenerateChunk.from_json(data)

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
        async for data in self._stream("/api/chat", body, what="chat", model=model):
            yield ChatChunk.from_json(data)

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        """Stream a pull's progress, ending with ``status == "success"``."""
        body = {"model": model, "stream": True}
        async for data in self._stream("/api/pull", body, what="pull", model=model):
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
        request = self._http.build_request(method, path, json=body)
        try:
            async with asyncio.timeout(timeout):
                response = await self._send(request, what)
                content = await response.aread()
        except TimeoutError:
            raise OllamaTimeout(self.host, timeout, f"the {what} request") from None
        except httpx.TransportError as exc:
            raise MalformedResponse(_describe(exc), what=what) from exc
        if response.status_code >= 400:
            raise self._status_error(response.status_code, content, what, model)
        if not content.strip():
            return {}  # delete answers 200 with an empty body
        data = _parse(content, what)
        if "error" in data:
            raise self._error_text(str(data["error"]), None, what, model)
        return data

    async def _stream(
        self, path: str, body: dict[str, Any], *, what: str, model: str
    ) -> AsyncIterator[dict[str, Any]]:
        request = self._http.build_request("POST", path, json=body)
        try:
            async with asyncio.timeout(self.first_byte_timeout):
                response = await self._send(request, what, stream=True)
        except TimeoutError:
            raise OllamaTimeout(self.host, self.first_byte_timeout, f"the {what} request") from None
        try:
            if response.status_code >= 400:
                raise self._status_error(response.status_code, await response.aread(), what, model)
            finished = False
            lines = response.aiter_lines()
            async for line in lines:
                if not line.strip():
                    continue
                data = _parse(line, what)
                if "error" in data:
                    raise self._error_text(str(data["error"]), None, what, model)
                if data.get("done") is True or data.get("status") == "success":
                    finished = True
                    await _drain(lines)
                    yield data
                    break
                yield data
            if not finished:
                raise MalformedResponse(
                    "the stream ended before Ollama said it was done", what=what
                )
        except httpx.TransportError as exc:
            raise MalformedResponse(
                f"the connection broke mid-stream ({_describe(exc)})", what=what
            ) from exc
        finally:
            await response.aclose()

    async def _send(
        self, request: httpx.Request, what: str, *, stream: bool = False
    ) -> httpx.Response:
        log.debug("ollama %s %s", request.method, request.url.path)
        try:
            return await self._http.send(request, stream=stream)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise OllamaUnreachable(self.host) from exc
        except httpx.TransportError as exc:
            raise MalformedResponse(
                f"no response ({_describe(exc)})", what=f"the {what} request"
            ) from exc

    def _status_error(
        self, status: int, content: bytes, what: str, model: str | None
    ) -> OllamaError:
        text = content.decode("utf-8", "replace").strip()
        try:
            data = json.loads(text)
            text = str(data["error"]) if isinstance(data, dict) and "error" in data else text
        except ValueError:
            pass
        return self._error_text(text or f"HTTP {status}", status, what, model)

    def _error_text(
        self, text: str, status: int | None, what: str, model: str | None
    ) -> OllamaError:
        """Map Ollama's error strings to typed errors (strings per Ollama's handlers)."""
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
            "stream": stream,
            "options": options.to_json() if options else None,
            "keep_alive": keep_alive,
        }
    )


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


async def _drain(lines: AsyncIterator[str]) -> None:
    """Read what follows the last NDJSON line (the chunked-encoding terminator).

    A response read to its end goes back to the connection pool; one closed early costs the
    next request a new TCP connection. Ollama ends the body right after its last line, so
    this takes microseconds; the bound only guards against a server that keeps it open.
    """
    with contextlib.suppress(TimeoutError, httpx.TransportError):
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for _ in lines:
                pass


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _parse(content: bytes | str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
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
