"""What the engine and its parts share: the request, its counters, background events, places.

Kept apart from ``engine.py`` so that the engine's helpers (profiles, sizing, dispatch,
background work) can name these records without importing the engine: the imports form a
tree, with the engine at its root.

No LSP and no HTTP here.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..provider import ModelUnavailable, ProviderError, ProviderUnreachable
from .excerpt import Excerpt
from .prompt import Profile

log = logging.getLogger(__name__)


class Listener(Protocol):
    """Receives conditions worth telling the user about (the server decides how often)."""

    def unreachable(self, error: ProviderError) -> None: ...

    def reachable(self) -> None: ...

    def model_missing(self, error: ModelUnavailable) -> None: ...

    def failed(self, error: ProviderError) -> None: ...


class SilentListener:
    """The listener when none is given (tests, benchmarks): conditions go to the log only."""

    def unreachable(self, error: ProviderError) -> None:
        log.warning("%s", error.message)

    def reachable(self) -> None:
        pass

    def model_missing(self, error: ModelUnavailable) -> None:
        log.warning("%s", error.message)

    def failed(self, error: ProviderError) -> None:
        log.warning("%s", error.message)


@dataclass(frozen=True, slots=True)
class Query:
    """One completion request, already converted from LSP positions.

    ``lines`` is the document split into lines (not copied: the engine cuts the few lines
    around the cursor before its first await); ``column`` is a code-point index into ``line``.
    """

    uri: str
    lines: Sequence[str]
    line: int
    column: int
    invoked: bool = False
    path: str | None = None
    language: str | None = None


@dataclass(slots=True)
class Stats:
    """Counters for ``ollama.status`` and the benchmark (the cache keeps its own hit counts)."""

    requests: int = 0
    model_calls: int = 0
    followed: int = 0
    superseded: int = 0
    timeouts: int = 0
    landed_late: int = 0
    prefills: int = 0
    prefill_steps: int = 0
    speculations: int = 0
    speculation_hits: int = 0
    #: Speculations not started because the model was unsure of the shown suggestion.
    speculations_unsure: int = 0
    errors: int = 0
    accepted: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    def p50_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None


def report(listener: Listener, stats: Stats, exc: ProviderError) -> None:
    """Count a provider error and tell ``listener`` which kind of condition it is."""
    stats.errors += 1
    if isinstance(exc, ProviderUnreachable):
        listener.unreachable(exc)
    elif isinstance(exc, ModelUnavailable):
        listener.model_missing(exc)
    else:
        listener.failed(exc)


@dataclass(slots=True)
class Background:
    """Events for work no request waits on, so callers (and tests) can await it, not poll."""

    prefill_started: asyncio.Event = field(default_factory=asyncio.Event)
    prefill_done: asyncio.Event = field(default_factory=asyncio.Event)
    landed_late: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class Place:
    """The last place asked about in a document: what a prefill or a speculation there needs."""

    uri: str
    profile: Profile
    cut: Excerpt
    path: str | None
    language: str | None


class Places:
    """The last place per document, and which document was asked about last."""

    def __init__(self) -> None:
        self._by_uri: dict[str, Place] = {}
        self._last_uri: str | None = None

    def remember(self, query: Query, profile: Profile, cut: Excerpt) -> None:
        self._by_uri[query.uri] = Place(query.uri, profile, cut, query.path, query.language)
        self._last_uri = query.uri

    def get(self, uri: str) -> Place | None:
        return self._by_uri.get(uri)

    def last(self) -> Place | None:
        """The place in the document asked about last (where a pause is worth a prefill)."""
        return self._by_uri.get(self._last_uri) if self._last_uri is not None else None

    def forget(self, uri: str) -> None:
        self._by_uri.pop(uri, None)

    def clear(self) -> None:
        self._by_uri.clear()
