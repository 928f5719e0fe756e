"""The completion engine: from a cursor in a document to a suggestion, asking the model rarely.

Order of work for each request, cheapest first:

1. **Typing-through** — the user typed the start of a suggestion already shown here: serve
   the rest. 2. **Cache** — the exact same windows were answered before. 3. **In-flight** — a
   generation for this document is still streaming and the new cursor only extends its prefix:
   follow it instead of starting another (Ollama serves one request per model at a time, so a
   second one would only queue). 4. **Debounce** automatic triggers, for a time adapted to
   the typist's rhythm and the cursor's place (``debounce.py``); a newer request for the
   same document supersedes this one, which is then answered empty (never dropped).
5. **Generate**, streaming, and close the stream as soon as post-processing knows the
   suggestion is complete.

A generation ("flight") is shared by the requests waiting on it and cancelled when the last
one leaves — superseded, cancelled by ``$/cancelRequest``, or out of time — which closes the
HTTP stream so Ollama stops generating. Every request has a bounded total time.

With ``cache.maxEntries: 0`` nothing is reused (no cache, typing-through or flight sharing):
every request asks the model, which helps when judging a model's raw output.

Runner options (``num_ctx``) are fixed per model, and the prompt window's start is anchored,
so Ollama neither reloads the model nor re-evaluates the whole prompt on each keystroke. The
model is warmed up in the background; that load is never tied to (or cancelled with) a
keystroke's request.

No LSP and no HTTP here: the engine talks to an ``AiProvider`` and reports conditions to a
``Listener``; the server turns those into messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..provider import (
    AiProvider,
    CodeCompletionRequest,
    ModelUnavailable,
    ProviderError,
    ProviderUnreachable,
)
from ..settings import Settings
from .cache import CompletionCache
from .context import ContextBudget, Windows, budget_for, build_windows
from .debounce import Debouncer
from .excerpt import excerpt
from .postprocess import StreamCutter, finalize, wants_multiline
from .templates import FimTemplate, Prompt, select_template

log = logging.getLogger(__name__)

#: How long a completion waits for a model that is still loading before answering empty.
WARMUP_WAIT_S = 1.0


class Listener(Protocol):
    """Receives conditions worth telling the user about (the server decides how often)."""

    def unreachable(self, error: ProviderError) -> None: ...

    def reachable(self) -> None: ...

    def model_missing(self, error: ModelUnavailable) -> None: ...

    def failed(self, error: ProviderError) -> None: ...


class _SilentListener:
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

    ``lines`` is the document split at ``\\n`` (not copied: the engine only reads the few
    lines around the cursor); ``column`` is a code-point index into line ``line``.
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
    """Counters for ``ollama.status`` and the benchmark; latencies are a bounded window."""

    requests: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    typed_through: int = 0
    followed: int = 0
    superseded: int = 0
    timeouts: int = 0
    errors: int = 0
    accepted: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    def p50_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None


@dataclass(frozen=True, slots=True)
class _Profile:
    """What the engine needs to know about a model, computed once per model."""

    model: str
    template: FimTemplate
    num_ctx: int
    budget: ContextBudget


class _Ticket:
    """The newest request for a document; woken when superseded or when its flight moves."""

    __slots__ = ("superseded", "wake")

    def __init__(self) -> None:
        self.superseded = False
        self.wake = asyncio.Event()


class _Flight:
    """One streaming generation, shared by the requests that wait on it."""

    def __init__(self, model: str, windows: Windows) -> None:
        self.model = model
        self.prefix = windows.prefix
        self.suffix = windows.suffix
        self.partial = ""
        self.waiters: set[_Ticket] = set()
        self.on_tokens: set[Callable[[int], None]] = set()
        self.tokens = 0
        self.task: asyncio.Task[str | None] | None = None

    def extended_by(self, model: str, windows: Windows) -> str | None:
        """The text typed since this flight started, if the new request only extends it."""
        if model != self.model or windows.suffix != self.suffix:
            return None
        if not windows.prefix.startswith(self.prefix):
            return None
        return windows.prefix[len(self.prefix) :]

    def chunk(self, piece: str) -> None:
        self.partial += piece
        self.tokens += 1
        for ticket in self.waiters:
            ticket.wake.set()
        for callback in self.on_tokens:
            callback(self.tokens)

    def done(self) -> bool:
        return self.task is not None and self.task.done()


class CompletionEngine:
    def __init__(
        self,
        provider: AiProvider,
        settings: Settings | None = None,
        *,
        listener: Listener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.listener: Listener = listener or _SilentListener()
        self.clock = clock
        self.settings = settings or Settings()
        self.cache = self._new_cache(self.settings)
        self.stats = Stats()
        self._profiles: dict[str, asyncio.Future[_Profile]] = {}
        self._latest: dict[str, _Ticket] = {}
        self._flights: dict[str, _Flight] = {}
        self._warmups: dict[str, asyncio.Task[None]] = {}
        self.debouncer = Debouncer()

    # -- configuration ---------------------------------------------------------------------

    def configure(self, settings: Settings) -> None:
        """Apply new settings; caches and model profiles that depend on them are rebuilt."""
        old, self.settings = self.settings, settings
        if old.cache != settings.cache:
            self.cache = self._new_cache(settings)
        if old.completion != settings.completion or old.model != settings.model:
            self._profiles.clear()

    def forget_model(self, model: str | None = None) -> None:
        """Drop what we know about a model (after a pull, delete, or host change)."""
        if model is None:
            self._profiles.clear()
        else:
            self._profiles.pop(model, None)

    def close_document(self, uri: str) -> None:
        self.debouncer.forget(uri)
        ticket = self._latest.pop(uri, None)
        if ticket is not None:
            self._supersede_ticket(ticket)

    # -- warm-up ---------------------------------------------------------------------------

    def warm_up(self, model: str | None = None) -> asyncio.Task[None]:
        """Load the model in the background with the runner options completions will use."""
        model = model or self.settings.model
        task = self._warmups.get(model)
        if task is None or task.done():
            task = asyncio.create_task(self._warm_up(model))
            self._warmups[model] = task
        return task

    def loading(self, model: str) -> bool:
        task = self._warmups.get(model)
        return task is not None and not task.done()

    async def _warm_up(self, model: str) -> None:
        try:
            profile = await self._profile(model)
            await self.provider.load_model(model, num_ctx=profile.num_ctx)
        except ProviderError as exc:
            self._report(exc)
        else:
            self.listener.reachable()

    # -- the request path ------------------------------------------------------------------

    async def complete(self, query: Query, on_tokens: Callable[[int], None] | None = None) -> str:
        """The suggestion to show at ``query``'s cursor, or ``""``. Never raises ProviderError."""
        started = self.clock()
        self.stats.requests += 1
        try:
            return await self._complete(query, started, on_tokens)
        finally:
            self.stats.latencies_ms.append((self.clock() - started) * 1000)

    async def _complete(
        self, query: Query, started: float, on_tokens: Callable[[int], None] | None
    ) -> str:
        model = self.settings.model
        if not query.invoked:
            self.debouncer.keystroke(query.uri, started)
        try:
            profile = await self._profile(model)
        except ProviderError as exc:
            self._report(exc)
            return ""
        cut = excerpt(query.lines, query.line, query.column, profile.budget)
        windows = build_windows(cut.text, cut.offset, budget=profile.budget)
        multiline = self._multiline(windows)
        prompt = profile.template.build(
            windows.prefix, windows.suffix, path=query.path, language=query.language
        )
        request = self._request(profile, prompt)
        key = self.cache.key(model, profile.template.family, self._key_options(multiline), prompt)

        # Synchronous from here to the first await: supersede, then the cheap answers, so that
        # an older request cannot cancel a flight this one is about to follow.
        ticket = self._new_ticket(query.uri)
        reuse = self.settings.cache.max_entries > 0
        rest = (
            self.cache.typed_through(query.uri, windows.prefix, windows.suffix) if reuse else None
        )
        if rest:
            self.stats.typed_through += 1
            return rest
        cached = self.cache.get(key) if reuse else None
        if cached is not None:
            self.stats.cache_hits += 1
            return cached
        deadline = started + self.settings.completion.timeout_ms / 1000

        flight = self._flights.get(query.uri)
        if flight is not None and not flight.done() and reuse:
            typed = flight.extended_by(model, windows)
            if typed is not None and _compatible(flight.partial, typed):
                answer = await self._follow(flight, ticket, typed, deadline, on_tokens)
                if answer is not None:
                    self.stats.followed += 1
                    return answer
                if ticket.superseded or self.clock() >= deadline:
                    return ""

        if not query.invoked:
            wait = self._debounce(query.uri, windows)
            if wait > 0 and await self._wait(ticket, min(deadline, self.clock() + wait)):
                return ""
        if self.loading(model):
            end = min(deadline, self.clock() + WARMUP_WAIT_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, end - self.clock())):
                    await asyncio.shield(self._warmups[model])
            if self.loading(model) or ticket.superseded:
                return ""

        flight = self._start_flight(query.uri, model, windows, request, key, multiline)
        answer = await self._follow(flight, ticket, "", deadline, on_tokens)
        return answer or ""

    def accepted(self, uri: str) -> None:
        """The user took a suggestion (the item's command ran)."""
        self.stats.accepted += 1
        self.cache.accepted(uri)

    # -- pieces ----------------------------------------------------------------------------

    async def _profile(self, model: str) -> _Profile:
        future = self._profiles.get(model)
        if future is None:
            future = asyncio.ensure_future(self._build_profile(model))
            self._profiles[model] = future
            future.add_done_callback(lambda f: self._drop_failed_profile(model, f))
        return await asyncio.shield(future)

    async def _build_profile(self, model: str) -> _Profile:
        caps = await self.provider.capabilities(model)
        template = select_template(
            model,
            template_text=caps.template,
            capabilities=("insert",) if caps.supports_insert else (),
        )
        completion = self.settings.completion
        num_ctx = min(completion.context_tokens, caps.context_window)
        budget = budget_for(
            num_ctx, completion.max_tokens, completion.prefix_lines, completion.suffix_lines
        )
        return _Profile(model=model, template=template, num_ctx=num_ctx, budget=budget)

    def _drop_failed_profile(self, model: str, future: asyncio.Future[_Profile]) -> None:
        failed = future.cancelled() or future.exception() is not None
        if failed and self._profiles.get(model) is future:
            del self._profiles[model]

    def _multiline(self, windows: Windows) -> bool:
        mode = self.settings.completion.multiline
        if mode == "auto":
            return wants_multiline(windows.line_before_cursor, windows.line_after_cursor)
        return mode == "always"

    def _request(self, profile: _Profile, prompt: Prompt) -> CodeCompletionRequest:
        completion = self.settings.completion
        return CodeCompletionRequest(
            model=profile.model,
            prompt=prompt.prompt,
            suffix=prompt.suffix,
            raw=prompt.raw,
            max_tokens=completion.max_tokens,
            temperature=completion.temperature,
            stop=prompt.stop,
            num_ctx=profile.num_ctx,
        )

    def _key_options(self, multiline: bool) -> dict[str, object]:
        c = self.settings.completion
        return {"t": c.temperature, "n": c.max_tokens, "ctx": c.context_tokens, "ml": multiline}

    def _debounce(self, uri: str, windows: Windows) -> float:
        c = self.settings.completion
        return self.debouncer.delay(
            uri,
            windows.prefix,
            windows.suffix,
            floor_s=c.debounce_ms / 1000,
            ceiling_s=c.max_debounce_ms / 1000,
            adaptive=c.adaptive_debounce,
        )

    def _new_ticket(self, uri: str) -> _Ticket:
        previous = self._latest.get(uri)
        if previous is not None:
            self._supersede_ticket(previous)
        ticket = self._latest[uri] = _Ticket()
        return ticket

    def _supersede_ticket(self, ticket: _Ticket) -> None:
        ticket.superseded = True
        ticket.wake.set()

    async def _wait(self, ticket: _Ticket, until: float) -> bool:
        """Sleep until ``until`` or until woken; True if the request was superseded."""
        ticket.wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, until - self.clock())):
                await ticket.wake.wait()
        if ticket.superseded:
            self.stats.superseded += 1
        return ticket.superseded

    def _start_flight(
        self,
        uri: str,
        model: str,
        windows: Windows,
        request: CodeCompletionRequest,
        key: str,
        multiline: bool,
    ) -> _Flight:
        flight = _Flight(model, windows)
        flight.task = asyncio.create_task(
            self._generate(uri, flight, windows, request, key, multiline)
        )
        self._flights[uri] = flight
        return flight

    async def _generate(
        self,
        uri: str,
        flight: _Flight,
        windows: Windows,
        request: CodeCompletionRequest,
        key: str,
        multiline: bool,
    ) -> str | None:
        """Run one generation; the finalized suggestion, or None when it failed."""
        self.stats.model_calls += 1
        cutter = StreamCutter(
            line_before_cursor=windows.line_before_cursor,
            suffix=windows.suffix,
            multiline=multiline,
            stop_tokens=request.stop,
        )
        try:
            stream = self.provider.complete_code(request)
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    flight.chunk(chunk.text)
                    if cutter.feed(chunk.text) or chunk.done:
                        break
        except ProviderError as exc:
            self._report(exc)
            return None
        finally:
            if self._flights.get(uri) is flight:
                del self._flights[uri]
            for ticket in flight.waiters:
                ticket.wake.set()
        self.listener.reachable()
        text = finalize(
            cutter.text,
            line_before_cursor=windows.line_before_cursor,
            suffix=windows.suffix,
            multiline=multiline,
        )
        if self.settings.cache.max_entries > 0:
            self.cache.put(key, text)
            if text:
                self.cache.remember(uri, windows.prefix, windows.suffix, text)
        return text

    async def _follow(
        self,
        flight: _Flight,
        ticket: _Ticket,
        typed: str,
        deadline: float,
        on_tokens: Callable[[int], None] | None,
    ) -> str | None:
        """Wait on ``flight``; the suggestion minus ``typed``, or None if it cannot serve us.

        Returns ``""`` when superseded or out of time. The flight is cancelled when its last
        waiter leaves, which closes the stream to Ollama.
        """
        assert flight.task is not None
        flight.waiters.add(ticket)
        if on_tokens is not None:
            flight.on_tokens.add(on_tokens)
        try:
            while not flight.task.done():
                if typed and not _compatible(flight.partial, typed):
                    return None
                if await self._wait(ticket, deadline):
                    return ""
                if self.clock() >= deadline and not flight.task.done():
                    self.stats.timeouts += 1
                    return ""
            text = None if flight.task.cancelled() else flight.task.result()
        finally:
            flight.waiters.discard(ticket)
            if on_tokens is not None:
                flight.on_tokens.discard(on_tokens)
            if not flight.waiters and not flight.task.done():
                flight.task.cancel()
        if text is None:
            return ""
        if not typed:
            return text
        return text[len(typed) :] if text.startswith(typed) and len(text) > len(typed) else None

    def _report(self, exc: ProviderError) -> None:
        self.stats.errors += 1
        if isinstance(exc, ProviderUnreachable):
            self.listener.unreachable(exc)
        elif isinstance(exc, ModelUnavailable):
            self.listener.model_missing(exc)
        else:
            self.listener.failed(exc)

    @staticmethod
    def _new_cache(settings: Settings) -> CompletionCache:
        return CompletionCache(
            max_entries=settings.cache.max_entries, ttl_seconds=settings.cache.ttl_seconds
        )


def _compatible(partial: str, typed: str) -> bool:
    """Could a suggestion that starts with ``partial`` still start with ``typed``?"""
    n = min(len(partial), len(typed))
    return partial[:n] == typed[:n]
