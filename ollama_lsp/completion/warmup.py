"""Loading a model before the first completion needs it, with the options completions use.

The first request after the server starts (or after the model changes) would otherwise pay
for loading the model. A warm-up loads it in the background with the completion ``num_ctx``
(a different one would make Ollama reload it); a request that comes meanwhile waits for it
at most ``WARMUP_WAIT_S`` and then answers empty rather than queueing behind the load.

No LSP and no HTTP here: the provider is an ``AiProvider``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ..provider import AiProvider, ProviderError
from .flights import Ticket
from .profiles import Profiles
from .records import Listener, Stats, report

#: How long a completion waits for a model that is still loading before answering empty.
WARMUP_WAIT_S = 1.0


class Warmups:
    """One background load per model at a time."""

    def __init__(
        self,
        provider: AiProvider,
        profiles: Profiles,
        listener: Listener,
        stats: Stats,
        clock: Callable[[], float],
    ) -> None:
        self._provider = provider
        self._profiles = profiles
        self._listener = listener
        self._stats = stats
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, model: str) -> asyncio.Task[None]:
        """Load ``model`` in the background, unless a load of it is already running."""
        task = self._tasks.get(model)
        if task is None or task.done():
            task = asyncio.create_task(self._load(model))
            self._tasks[model] = task
        return task

    def loading(self, model: str) -> bool:
        task = self._tasks.get(model)
        return task is not None and not task.done()

    async def ready(self, model: str, ticket: Ticket, deadline: float) -> bool:
        """Wait briefly for ``model`` if it is loading; False when the request should give up
        (still loading, or superseded meanwhile)."""
        if not self.loading(model):
            return True
        end = min(deadline, self._clock() + WARMUP_WAIT_S)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, end - self._clock())):
                await asyncio.shield(self._tasks[model])
        return not (self.loading(model) or ticket.superseded)

    async def _load(self, model: str) -> None:
        try:
            profile = await self._profiles.get(model, None)
            await self._provider.warm_up(model, num_ctx=profile.num_ctx)
        except ProviderError as exc:
            report(self._listener, self._stats, exc)
        else:
            self._listener.reachable()
