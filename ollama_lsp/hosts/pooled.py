"""The pool as one ``AiProvider`` (for the engine) and one ``ModelStore`` (for the manager).

Each call is sent by ``HostPool.call``/``stream``, so failover and health apply to all of them
alike; completions carry their document (``affinity``), so a document stays on its host.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import TypeVar

from ..provider import (
    AiProvider,
    ChatMessage,
    CodeCompletionRequest,
    ModelInfo,
    ModelStore,
    NeedsOllama,
    ProviderCapabilities,
    ProviderError,
    PullProgress,
    RunningModel,
    ShowInfo,
    TextChunk,
)
from .pool import HostPool, Member, fails_over

T = TypeVar("T")


class PooledProvider(AiProvider):
    """The pool as one ``AiProvider``: each call goes to the pool's best host for it."""

    def __init__(self, pool: HostPool) -> None:
        self.pool = pool

    def name(self) -> str:
        names = {m.provider.name() for m in self.pool.members}
        return names.pop() if len(names) == 1 else "pool"

    async def capabilities(self, model: str) -> ProviderCapabilities:
        return await self.pool.call(lambda m: m.provider.capabilities(model))

    async def complete_code(self, request: CodeCompletionRequest) -> AsyncIterator[TextChunk]:
        stream = self.pool.stream(lambda m: m.provider.complete_code(request), request.affinity)
        async with aclosing(stream):
            async for chunk in stream:
                yield chunk

    async def chat(self, messages: Sequence[ChatMessage], *, model: str) -> ChatMessage:
        return await self.pool.call(lambda m: m.provider.chat(messages, model=model))

    async def stream_chat(
        self, messages: Sequence[ChatMessage], *, model: str
    ) -> AsyncIterator[str]:
        stream = self.pool.stream(lambda m: m.provider.stream_chat(messages, model=model))
        async with aclosing(stream):
            async for piece in stream:
                yield piece

    async def list_models(self) -> list[ModelInfo]:
        return await self.pool.call(lambda m: m.provider.list_models())

    async def warm_up(self, model: str, *, num_ctx: int | None = None) -> None:
        """Every host that is not down loads the model: documents spread over all of them."""
        members = [m for m in self.pool.members if m.state != "down"] or self.pool.members[:1]
        results = await asyncio.gather(
            *(m.provider.warm_up(model, num_ctx=num_ctx) for m in members), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        for member, result in zip(members, results, strict=True):
            if isinstance(result, ProviderError) and fails_over(result):
                self.pool.failed(member, result)
            elif not isinstance(result, BaseException):
                self.pool.succeeded(member)
        if len(errors) == len(members) and errors:
            raise errors[0]

    def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        return _pull(self.pool, name)


async def _pull(pool: HostPool, name: str) -> AsyncIterator[PullProgress]:
    stream = pool.stream(lambda m: _store(m, "Pulling models").pull_model(name))
    async with aclosing(stream):
        async for progress in stream:
            yield progress


def _store(member: Member, what: str) -> ModelStore:
    if member.store is None:
        raise NeedsOllama(what, member.host)
    return member.store


class PooledStore:
    """The pool as one ``ModelStore``: management goes to the first host that is up (a team
    pool shares its models; pull on each host separately by listing it alone)."""

    def __init__(self, pool: HostPool) -> None:
        self.pool = pool

    @property
    def host(self) -> str:
        return self.pool.host

    @property
    def available(self) -> bool:
        """Whether the hosts are Ollamas (an OpenAI-compatible server has no model store)."""
        return all(m.store is not None for m in self.pool.members)

    def _call(self, what: str, fn: Callable[[ModelStore], Awaitable[T]]) -> Awaitable[T]:
        return self.pool.call(lambda m: fn(_store(m, what)))

    async def version(self) -> str:
        return await self.pool.call(lambda m: m.probe())

    async def list_models(self) -> list[ModelInfo]:
        return await self._call("Listing installed models", lambda s: s.list_models())

    async def show(self, model: str) -> ShowInfo:
        return await self._call("Showing a model", lambda s: s.show(model))

    async def running(self) -> list[RunningModel]:
        return await self._call("Listing loaded models", lambda s: s.running())

    def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        return _pull(self.pool, name)

    async def delete(self, model: str) -> None:
        await self._call("Deleting models", lambda s: s.delete(model))

    async def load_model(self, model: str, *, num_ctx: int | None = None) -> None:
        await self._call("Loading models", lambda s: s.load_model(model, num_ctx=num_ctx))

    async def unload_model(self, model: str) -> None:
        await self._call("Unloading models", lambda s: s.unload_model(model))
