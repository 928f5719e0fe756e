"""Tickets and flights: who is waiting for which generation.

A **ticket** is the newest request for a document; a newer request supersedes it (it is then
answered empty, never dropped). A **flight** is one streaming generation, shared by every
request that can use it — the one that started it, and later ones whose cursor only extends
its prefix by text the suggestion starts with. The engine cancels a flight when its last
waiter leaves (which closes the HTTP stream, so Ollama stops), unless the flight is about to
finish: then it is left to land in the cache.

Pure asyncio bookkeeping: no LSP, no HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Ticket:
    """The newest request for a document; woken when superseded or when its flight moves."""

    __slots__ = ("superseded", "wake")

    def __init__(self) -> None:
        self.superseded = False
        self.wake = asyncio.Event()

    def supersede(self) -> None:
        self.superseded = True
        self.wake.set()


class Flight:
    """One streaming generation for ``prefix``/``suffix``, shared by the requests waiting on it."""

    def __init__(self, model: str, prefix: str, suffix: str, prompt: str) -> None:
        self.model = model
        self.prefix = prefix
        self.suffix = suffix
        self.prompt = prompt
        self.partial = ""
        #: The suggestion so far as the user would see it (healed text stripped); set by the
        #: engine from its stream cutter. Typing through a flight compares with this.
        self.visible: Callable[[], str] = lambda: self.partial
        self.waiters: set[Ticket] = set()
        self.on_tokens: set[Callable[[int], None]] = set()
        self.tokens = 0
        #: The log-probability of ``partial`` as the model generated it (the sum over its
        #: pieces); None once a piece came without one (a backend that does not send them).
        self.logprob: float | None = 0.0
        #: Set once the model has evaluated the prompt (first piece or end arrived).
        self.evaluated = False
        self.task: asyncio.Task[str | None] | None = None

    def extended_by(self, model: str, prefix: str, suffix: str) -> str | None:
        """The text typed since this flight started, if the new request only extends it."""
        if model != self.model or suffix != self.suffix or not prefix.startswith(self.prefix):
            return None
        return prefix[len(self.prefix) :]

    def chunk(self, piece: str, logprob: float | None = None) -> None:
        """A generated ``piece`` and its log-probability (None: not sent)."""
        self.evaluated = True
        if piece and (logprob is None or self.logprob is None):
            self.logprob = None
        elif self.logprob is not None and logprob is not None:
            self.logprob += logprob
        self.partial += piece
        self.tokens += 1
        for ticket in self.waiters:
            ticket.wake.set()
        for callback in tuple(self.on_tokens):
            callback(self.tokens)

    def done(self) -> bool:
        return self.task is not None and self.task.done()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


def compatible(partial: str, typed: str) -> bool:
    """Could a suggestion that starts with ``partial`` still start with ``typed``?"""
    n = min(len(partial), len(typed))
    return partial[:n] == typed[:n]
