"""``OllamaProvider``: the ``AiProvider`` interface on top of ``OllamaClient``.

It adds what the raw client should not know: per-model capability caching (``/api/show``
is asked once per model, not per keystroke), the ``keep_alive`` sent on every call so the
model stays loaded between keystrokes, and translation between provider-neutral requests
and Ollama's fields (``top_logprobs`` capped at Ollama's 20, which answers more with a 400; a
chunk's ``alternatives`` are its first token's ``top_logprobs``, most probable first).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from ..provider.interface import (
    AiProvider,
    ChatMessage,
    CodeCompletionRequest,
    ProviderCapabilities,
    TextChunk,
)
from ..provider.store import ModelInfo, PullProgress, RunningModel, ShowInfo
from .client import OllamaClient
from .types import MAX_TOP_LOGPROBS, GenerateOptions
from .wire import KeepAlive

#: Used when a model does not report its training context (very old Ollama servers).
FALLBACK_CONTEXT_WINDOW = 2048


class OllamaProvider(AiProvider):
    """The ``AiProvider`` and the ``ModelStore`` over one ``OllamaClient``: completion requests
    become raw or FIM ``/api/generate`` calls with fixed runner options; model profiles come
    from ``/api/show``, asked once per model."""

    def __init__(self, client: OllamaClient, *, keep_alive: KeepAlive = None) -> None:
        self.client = client
        self.keep_alive = keep_alive
        self._shows: dict[str, asyncio.Future[ShowInfo]] = {}

    def name(self) -> str:
        return "ollama"

    @property
    def host(self) -> str:
        return self.client.host

    async def version(self) -> str:
        return await self.client.version()

    async def show(self, model: str) -> ShowInfo:
        """``/api/show`` for ``model``, asked once; concurrent callers share one request."""
        future = self._shows.get(model)
        if future is None:
            future = asyncio.ensure_future(self.client.show(model))
            self._shows[model] = future
            future.add_done_callback(lambda f: self._forget_failed(model, f))
        return await asyncio.shield(future)

    def invalidate(self, model: str | None = None) -> None:
        """Forget cached model facts (after a pull, a delete, or a host change)."""
        if model is None:
            self._shows.clear()
        else:
            self._shows.pop(model, None)

    async def capabilities(self, model: str) -> ProviderCapabilities:
        info = await self.show(model)
        caps = set(info.capabilities)
        generates = not caps or "completion" in caps  # servers before v0.6.4 list none
        return ProviderCapabilities(
            supports_streaming=True,
            supports_code_completion=generates,
            supports_chat=generates,
            supports_insert=info.supports_insert,
            context_window=info.context_length or FALLBACK_CONTEXT_WINDOW,
            template=info.template,
        )

    async def complete_code(self, request: CodeCompletionRequest) -> AsyncIterator[TextChunk]:
        options = GenerateOptions(
            num_predict=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop=request.stop or None,
            num_ctx=request.num_ctx,
        )
        stream = self.client.generate_stream(
            request.model,
            request.prompt,
            suffix=request.suffix,
            raw=request.raw,
            options=options,
            keep_alive=self.keep_alive,
            logprobs=request.logprobs,
            top_logprobs=min(request.top_logprobs, MAX_TOP_LOGPROBS),
        )
        async for chunk in stream:
            metrics = chunk.metrics
            yield TextChunk(
                text=chunk.response,
                done=chunk.done,
                done_reason=chunk.done_reason,
                prompt_tokens=metrics.prompt_eval_count if metrics else None,
                generated_tokens=metrics.eval_count if metrics else None,
                prompt_eval_ns=metrics.prompt_eval_duration if metrics else None,
                alternatives=chunk.logprobs[0].alternatives() if chunk.logprobs else (),
                logprob=sum(e.logprob for e in chunk.logprobs) if chunk.logprobs else None,
            )

    async def chat(self, messages: Sequence[ChatMessage], *, model: str) -> ChatMessage:
        chunk = await self.client.chat(model, messages, keep_alive=self.keep_alive)
        return chunk.message

    async def stream_chat(
        self, messages: Sequence[ChatMessage], *, model: str
    ) -> AsyncIterator[str]:
        async for chunk in self.client.chat_stream(model, messages, keep_alive=self.keep_alive):
            if chunk.message.content:
                yield chunk.message.content

    async def list_models(self) -> list[ModelInfo]:
        return await self.client.list_models()

    async def warm_up(self, model: str, *, num_ctx: int | None = None) -> None:
        await self.load_model(model, num_ctx=num_ctx)

    async def load_model(self, model: str, *, num_ctx: int | None = None) -> None:
        options = GenerateOptions(num_ctx=num_ctx) if num_ctx else None
        await self.client.load(model, keep_alive=self.keep_alive, options=options)

    async def unload_model(self, model: str) -> None:
        await self.client.unload(model)

    async def running(self) -> list[RunningModel]:
        return await self.client.ps()

    async def delete(self, model: str) -> None:
        await self.client.delete(model)
        self.invalidate(model)

    async def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        async for progress in self.client.pull(name):
            yield progress
        self.invalidate(name)

    def _forget_failed(self, model: str, future: asyncio.Future[ShowInfo]) -> None:
        if (future.cancelled() or future.exception() is not None) and self._shows.get(
            model
        ) is future:
            del self._shows[model]
