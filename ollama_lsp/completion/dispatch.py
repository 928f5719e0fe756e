"""Who waits on which generation, and what happens to a generation nobody waits on any more.

Each document has one ticket (its newest request) and at most one flight (its generation;
``flights.py``). A request follows a flight until the suggestion is complete, it is
superseded, or its time is out. When the last waiter leaves, the flight is cancelled (which
closes the HTTP stream, so Ollama stops) — unless it is worth **landing late**:

- out of time, but tokens are flowing: it finishes within ``FINISH_GRACE_S`` into the cache;
- cancelled (editors cancel the pending request on every keystroke and ask again a moment
  later): it waits ``CANCEL_GRACE_S`` for the next request to follow it.

Any other real request cancels late flights and speculations first (Ollama serves one
request per model; a second would queue behind them).

Pure asyncio bookkeeping: no LSP, no HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from .cache import CompletionCache
from .flights import Flight, Ticket, compatible
from .records import Background, Stats

#: A flight whose request ran out of time may finish within this to land in the cache.
FINISH_GRACE_S = 3.0
#: A generation whose request was cancelled waits this long for a request to follow it.
CANCEL_GRACE_S = 0.6


class Dispatcher:
    """The tickets and flights of all documents, and the flights left running for later."""

    def __init__(
        self,
        clock: Callable[[], float],
        stats: Stats,
        background: Background,
        reusable: Callable[[], CompletionCache | None],
    ) -> None:
        self._clock = clock
        self._stats = stats
        self._background = background
        self._reusable = reusable
        self._latest: dict[str, Ticket] = {}
        self._flights: dict[str, Flight] = {}
        #: Flights no request waits on, left to land in the cache.
        self.late: set[Flight] = set()
        #: Background generations (speculations, alternatives): any real request cancels them.
        self.speculative: set[Flight] = set()

    # -- tickets ---------------------------------------------------------------------------

    def new_ticket(self, uri: str) -> Ticket:
        """The ticket of a new request for ``uri``; the previous one is superseded."""
        previous = self._latest.get(uri)
        if previous is not None:
            previous.supersede()
        ticket = self._latest[uri] = Ticket()
        return ticket

    def ticket(self, uri: str) -> Ticket | None:
        return self._latest.get(uri)

    def close(self, uri: str) -> None:
        """The document is gone: its waiting request is superseded (answered empty)."""
        ticket = self._latest.pop(uri, None)
        if ticket is not None:
            ticket.supersede()

    async def wait(self, ticket: Ticket, until: float) -> bool:
        """Sleep until ``until`` or until woken; True if the request was superseded."""
        ticket.wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, until - self._clock())):
                await ticket.wake.wait()
        if ticket.superseded:
            self._stats.superseded += 1
        return ticket.superseded

    # -- flights ---------------------------------------------------------------------------

    def flying(self, uri: str) -> Flight | None:
        """The generation for ``uri`` still streaming, if any."""
        flight = self._flights.get(uri)
        return flight if flight is not None and not flight.done() else None

    def busy(self) -> bool:
        """Whether any document's generation is still streaming."""
        return any(not f.done() for f in self._flights.values())

    def launch(
        self,
        uri: str,
        flight: Flight,
        run: Coroutine[Any, Any, str | None],
        *,
        speculative: bool = False,
    ) -> Flight:
        """Run ``run`` as ``flight``, the generation for ``uri`` that later requests can follow."""
        flight.task = asyncio.create_task(run)
        self._flights[uri] = flight
        if speculative:
            self.speculative.add(flight)
            flight.task.add_done_callback(lambda _: self.speculative.discard(flight))
        return flight

    def landed(self, uri: str, flight: Flight) -> None:
        """``flight`` ended: it is no longer followed, and its waiters wake to read it."""
        if self._flights.get(uri) is flight:
            del self._flights[uri]
        for ticket in flight.waiters:
            ticket.wake.set()

    def stop_leftovers(self) -> None:
        """Cancel the late flights and speculations no request waits on."""
        for flight in (*self.late, *self.speculative):
            if not flight.waiters:
                flight.cancel()

    # -- following -------------------------------------------------------------------------

    def joinable(self, uri: str, model: str, prefix: str, suffix: str) -> tuple[Flight, str] | None:
        """The generation in flight for ``uri`` and the text typed since it started, if the
        new cursor only extends its prefix by text its suggestion may still start with."""
        flight = self.flying(uri)
        if flight is None:
            return None
        typed = flight.extended_by(model, prefix, suffix)
        if typed is None or not compatible(flight.visible(), typed):
            return None
        return flight, typed

    async def join(
        self,
        flight: Flight,
        typed: str,
        ticket: Ticket,
        deadline: float,
        on_tokens: Callable[[int], None] | None,
    ) -> str | None:
        """Follow another request's ``flight`` (``follow``), counting what that saved."""
        speculative = flight in self.speculative
        answer = await self.follow(flight, ticket, typed, deadline, on_tokens)
        if answer is not None:
            self._stats.followed += 1
            self._stats.speculation_hits += speculative
        return answer

    async def follow(
        self,
        flight: Flight,
        ticket: Ticket,
        typed: str,
        deadline: float,
        on_tokens: Callable[[int], None] | None,
    ) -> str | None:
        """Wait on ``flight``; the suggestion minus ``typed``, or None if it cannot serve us.

        Returns ``""`` when superseded or out of time. The flight is cancelled when its last
        waiter leaves, which closes the stream to Ollama — unless it may land late.
        """
        assert flight.task is not None
        flight.waiters.add(ticket)
        if on_tokens is not None:
            on_tokens(flight.tokens)
            flight.on_tokens.add(on_tokens)
        timed_out = cancelled = False
        try:
            while not flight.task.done():
                if typed and not compatible(flight.visible(), typed):
                    return None
                if await self.wait(ticket, deadline):
                    return ""
                if self._clock() >= deadline and not flight.task.done():
                    self._stats.timeouts += 1
                    timed_out = True
                    return ""
            text = None if flight.task.cancelled() else flight.task.result()
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            flight.waiters.discard(ticket)
            if on_tokens is not None:
                flight.on_tokens.discard(on_tokens)
            if not flight.waiters and not flight.task.done():
                self._leave(flight, timed_out=timed_out, cancelled=cancelled)
        if text is None:
            return ""
        if not typed:
            return text
        return text[len(typed) :] if text.startswith(typed) and len(text) > len(typed) else None

    def _leave(self, flight: Flight, *, timed_out: bool, cancelled: bool) -> None:
        """The last waiter left an unfinished ``flight``: land it late or cancel it."""
        if timed_out and self._nearly_done(flight):
            self._let_land(flight, FINISH_GRACE_S)
        elif cancelled and self._reusable() is not None:
            # editors cancel the pending request on every keystroke and ask again
            # a moment later: the next request may follow this generation
            self._let_land(flight, CANCEL_GRACE_S)
        else:
            flight.cancel()

    def _nearly_done(self, flight: Flight) -> bool:
        """Tokens are flowing (the prompt is evaluated): the cutter will end it soon."""
        return flight.evaluated and self._reusable() is not None

    def _let_land(self, flight: Flight, grace_s: float) -> None:
        """Leave ``flight`` running for ``grace_s`` more: a new request may follow it, and
        what it finishes lands in the cache. Any other real request cancels it first."""
        self.late.add(flight)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(grace_s, lambda: None if flight.waiters else flight.cancel())
        assert flight.task is not None

        def finished(task: asyncio.Task[str | None]) -> None:
            timer.cancel()
            self.late.discard(flight)
            if not task.cancelled():
                self._stats.landed_late += 1
                self._background.landed_late.set()

        flight.task.add_done_callback(finished)
