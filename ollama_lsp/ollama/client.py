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

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import aclosing
from typing import Any

from ..http.client import HttpClient, TextBudget
from ..http.endpoint import Endpoint
from .calls import Calls
from .errors import ResponseTooLarge
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
    as_list,
    chat_body,
    drop_none,
    generate_body,
    logprobs_fields,
)

log = logging.getLogger(__name__)


class OllamaClient(HttpClient):
    """Async client for one Ollama server. Cheap to keep for the life of the process."""

    def __init__(self, host: str | Endpoint | None = None, **options: Any) -> None:
        """``host`` as ``OLLAMA_HOST`` takes it; ``options`` are ``HttpClient``'s."""
        super().__init__(host, **options)
        self._calls = Calls(
            self._connections,
            request_timeout=self.request_timeout,
            first_byte_timeout=self.first_byte_timeout,
        )

    # -- small JSON calls -------------------------------------------------------------------

    async def version(self) -> str:
        data = await self._calls.json("GET", "/api/version", what="the version request")
        return str(data.get("version", ""))

    async def list_models(self) -> list[ModelInfo]:
        data = await self._calls.json("GET", "/api/tags", what="the model list request")
        return [model_info(m) for m in as_list(data.get("models")) if isinstance(m, dict)]

    async def show(self, model: str) -> ShowInfo:
        data = await self._calls.json(
            "POST", "/api/show", {"model": model}, what="show", model=model
        )
        return show_info(data)

    async def ps(self) -> list[RunningModel]:
        data = await self._calls.json("GET", "/api/ps", what="the loaded-models request")
        models = as_list(data.get("models"))
        return [running_model(m) for m in models if isinstance(m, dict)]

    async def delete(self, model: str) -> None:
        await self._calls.json(
            "DELETE", "/api/delete", {"model": model}, what="delete", model=model
        )

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
        await self._calls.json(
            "POST", "/api/generate", body, what="load", model=model, limit=timeout
        )

    async def unload(self, model: str) -> None:
        """Ask Ollama to free ``model``'s memory now (``keep_alive: 0``, empty prompt)."""
        body = {"model": model, "keep_alive": 0, "stream": False}
        await self._calls.json("POST", "/api/generate", body, what="unload", model=model)

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
        data = await self._calls.json(
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
        text = TextBudget(self.max_text_chars, _too_large("generate"))
        stream = self._calls.stream("/api/generate", body, what="generate", model=model)
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
        data = await self._calls.json(
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
        text = TextBudget(self.max_text_chars, _too_large("chat"))
        stream = self._calls.stream("/api/chat", body, what="chat", model=model)
        async with aclosing(stream):
            async for data in stream:
                chunk = ChatChunk.from_json(data)
                text.spend(chunk.message.content)
                yield chunk

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        """Stream a pull's progress, ending with ``status == "success"``."""
        body = {"model": model, "stream": True}
        stream = self._calls.stream("/api/pull", body, what="pull", model=model)
        async with aclosing(stream):
            async for data in stream:
                yield pull_progress(data)


def _too_large(what: str) -> Callable[[str], Exception]:
    return lambda detail: ResponseTooLarge(detail, what=f"the {what} request")
