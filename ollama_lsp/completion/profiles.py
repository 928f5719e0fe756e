"""Model profiles (template, context size), asked of the provider once per model.

Every request needs its model's profile before it can assemble a prompt, and many requests
arrive while the first ask is still out: they share one future. A failure (Ollama down, model
missing) is remembered for ``PROFILE_RETRY_S`` so a burst of keystrokes does not become a
burst of failing ``/api/show`` calls, each request still bounded by its own deadline.

No LSP and no HTTP here: the provider is an ``AiProvider``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..provider import AiProvider, ProviderError
from ..settings import Settings
from .prompt import Profile, build_profile

#: A failed model profile (Ollama down, model missing) is not asked for again before this.
PROFILE_RETRY_S = 2.0


class Profiles:
    """The profile of each model, built once from its capabilities under the current settings."""

    def __init__(
        self,
        provider: AiProvider,
        settings: Callable[[], Settings],
        clock: Callable[[], float],
    ) -> None:
        self._provider = provider
        self._settings = settings
        self._clock = clock
        self._futures: dict[str, asyncio.Future[Profile]] = {}
        self._failed: dict[str, tuple[float, ProviderError]] = {}

    async def get(self, model: str, deadline: float | None) -> Profile:
        """The model's profile, asked once; bounded by ``deadline``; failures kept briefly.

        Raises the remembered ``ProviderError``, or ``TimeoutError`` past ``deadline`` (the
        ask itself goes on for the next request).
        """
        failed = self._failed.get(model)
        if failed is not None:
            if self._clock() < failed[0]:
                raise failed[1]
            del self._failed[model]
        future = self._futures.get(model)
        if future is None:
            future = asyncio.ensure_future(self._build(model))
            self._futures[model] = future
            future.add_done_callback(lambda f: self._done(model, f))
        if future.done() or deadline is None:
            return await asyncio.shield(future)
        async with asyncio.timeout(max(0.0, deadline - self._clock())):
            return await asyncio.shield(future)

    def forget(self, model: str | None = None) -> None:
        """Ask again next time: for ``model``, or for every model when None."""
        for table in (self._futures, self._failed):
            if model is None:
                table.clear()
            else:
                table.pop(model, None)

    async def _build(self, model: str) -> Profile:
        caps = await self._provider.capabilities(model)
        return build_profile(model, caps, self._settings().completion)

    def _done(self, model: str, future: asyncio.Future[Profile]) -> None:
        if self._futures.get(model) is not future:
            return
        if future.cancelled():
            del self._futures[model]
        elif (exc := future.exception()) is not None:
            del self._futures[model]
            if isinstance(exc, ProviderError):
                self._failed[model] = (self._clock() + PROFILE_RETRY_S, exc)
