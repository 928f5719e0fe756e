"""More suggestions on an explicit invoke, for editors that let the user cycle through them.

The first suggestion is the engine's ordinary answer; the others are generations of the same
prompt at higher temperatures (the prompt is in the slot, so each costs only its tokens),
cached under the prompt's key and their number, and given up as soon as a newer request
comes (a real request cancels them like any background generation) or the time is out.

No LSP and no HTTP here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from ..provider import ProviderError
from .cache import CompletionCache
from .dispatch import Dispatcher
from .filters import finalize
from .flights import Flight, Ticket
from .generation import Producer
from .prompt import Assembly
from .records import Stats

#: Temperatures of the alternatives offered on an explicit invoke (after the first).
ALTERNATIVE_TEMPERATURES = (0.7, 1.0, 1.2, 0.9, 1.1, 0.8, 1.3)


class Alternatives:
    """Generates alternatives to a suggestion, in the background of the real requests."""

    def __init__(
        self,
        producer: Producer,
        dispatch: Dispatcher,
        reusable: Callable[[], CompletionCache | None],
        stats: Stats,
        clock: Callable[[], float],
    ) -> None:
        self._producer = producer
        self._dispatch = dispatch
        self._reusable = reusable
        self._stats = stats
        self._clock = clock

    async def extend(
        self, found: list[str], base: Assembly, ticket: Ticket, count: int, deadline: float
    ) -> list[str]:
        """``found`` with up to ``count`` more different suggestions for ``base``'s prompt."""
        for i, temperature in enumerate(ALTERNATIVE_TEMPERATURES[:count], start=1):
            if ticket.superseded or self._clock() >= deadline:
                break
            key = f"{base.key}#{i}"
            cache = self._reusable()
            raw = cache.peek(key) if cache is not None else None
            if raw is None:
                a = replace(base, request=replace(base.request, temperature=temperature), key=key)
                raw = await self._generate(a, deadline)
                if raw is None:
                    break
            text = finalize(raw, base.spot)
            if text and text not in found:
                found.append(text)
        return found

    async def _generate(self, a: Assembly, deadline: float) -> str | None:
        """One more generation for ``a`` (background: a real request cancels it)."""
        flight = Flight(a.request.model, a.windows.prefix, a.windows.suffix, a.request.prompt)
        flight.task = asyncio.ensure_future(self._producer.produce(a, flight))
        self._dispatch.speculative.add(flight)
        try:
            async with asyncio.timeout(max(0.0, deadline - self._clock())):
                raw = await asyncio.shield(flight.task)
        except (TimeoutError, ProviderError):
            flight.cancel()
            return None
        except asyncio.CancelledError:
            flight.cancel()
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the request itself was cancelled
            return None  # a real request took Ollama
        finally:
            self._dispatch.speculative.discard(flight)
        self._stats.model_calls += 1
        if (cache := self._reusable()) is not None:
            cache.put(a.key, raw, uri=a.uri)
        return raw
