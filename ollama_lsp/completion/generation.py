"""Generations: steer the healed word, stream until the suggestion is complete, cache it.

The stream cutter (``stream.py``) closes the stream as soon as the suggestion is complete. A
block (multi-line suggestion) is also cut at its last complete line once ``BLOCK_TIME`` times
the latency target has passed since it was asked for: a slow model shows the lines it has
written rather than nothing; the rest is asked for when the user accepts them.

A generation runs as a flight (``dispatch.py``) that later requests may follow; its raw
answer is cached under the prompt's key (with token healing one prompt serves every cursor
in a word) and its finalised suggestion remembered for typing-through.

No LSP and no HTTP here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..provider import ProviderError
from ..settings import Settings
from .cache import CompletionCache
from .dispatch import Dispatcher
from .filters import finalize
from .flights import Flight
from .prompt import Assembly
from .records import Listener, Stats, report
from .steering import Steering
from .stream import StreamCutter
from .streaming import Streamer

#: A block (multi-line suggestion) is cut at its last complete line after this many times
#: the latency target (``promptLatencyMs``) since it was asked for.
BLOCK_TIME = 1.5

log = logging.getLogger(__name__)


class Producer:
    """Generates the raw answer for an assembly into a flight."""

    def __init__(
        self,
        streamer: Streamer,
        steering: Steering,
        settings: Callable[[], Settings],
        clock: Callable[[], float],
    ) -> None:
        self._streamer = streamer
        self._steering = steering
        self._settings = settings
        self._clock = clock

    async def produce(self, a: Assembly, flight: Flight) -> str:
        """Generate for ``a`` into ``flight``; the raw answer, cut where it is complete."""
        cutter = StreamCutter(a.spot)
        flight.visible = lambda: cutter.partial
        request = await self._steering.steer(a, flight, cutter)
        if request is not None:
            feed = self._feeder(cutter, a)
            await self._streamer.stream(request, flight, lambda chunk: feed(chunk.text))
        return cutter.text

    def _feeder(self, cutter: StreamCutter, a: Assembly) -> Callable[[str], bool]:
        """``cutter.feed``, and for a block: once ``BLOCK_TIME`` × the latency target has
        passed, stop at the last complete line."""
        if not a.spot.multiline:
            return cutter.feed
        latency_ms = self._settings().completion.prompt_latency_ms
        settle_at = self._clock() + BLOCK_TIME * latency_ms / 1000

        def feed(piece: str) -> bool:
            if cutter.feed(piece):
                return True
            if self._clock() < settle_at:
                return False
            head, newline, _ = cutter.text.rpartition("\n")
            if newline and head.strip() and finalize(head, a.spot):
                cutter.text = head
                return True
            return False

        return feed


class Generations:
    """Starts generations as flights and keeps what they produce."""

    def __init__(
        self,
        producer: Producer,
        dispatch: Dispatcher,
        reusable: Callable[[], CompletionCache | None],
        listener: Listener,
        stats: Stats,
    ) -> None:
        self._producer = producer
        self._dispatch = dispatch
        self._reusable = reusable
        self._listener = listener
        self._stats = stats

    def start(self, uri: str, a: Assembly, *, speculative: bool = False) -> Flight:
        """Start generating for ``a`` as the flight of ``uri``."""
        w = a.windows
        flight = Flight(a.request.model, w.prefix, w.suffix, a.request.prompt)
        run = self._generate(uri, flight, a)
        return self._dispatch.launch(uri, flight, run, speculative=speculative)

    async def _generate(self, uri: str, flight: Flight, a: Assembly) -> str | None:
        """Run one generation; the finalized suggestion, or None when it failed."""
        self._stats.model_calls += 1
        try:
            raw = await self._producer.produce(a, flight)
        except ProviderError as exc:
            report(self._listener, self._stats, exc)
            return None
        finally:
            self._dispatch.landed(uri, flight)
        self._listener.reachable()
        text = finalize(raw, a.spot)
        log.debug("generated %r -> %r", raw, text)
        cache = self._reusable()
        if cache is not None:
            # the raw answer: with token healing one prompt serves every cursor in a word
            cache.put(a.key, raw, uri=uri)
            if text:
                w = a.windows
                cache.remember(uri, w.prefix, w.suffix, text, flight.logprob)
        return text
