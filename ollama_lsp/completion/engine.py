"""The completion engine: from a cursor in a document to a suggestion, asking the model rarely.

The path of a request, cheapest answer first (the order lives here; each step's work in its
own module):

1. **Cut** the lines around the cursor at once (the document may change while we wait).
2. **Profile** the model (template, context size), once per model (``profiles.py``).
3. **Assemble** the prompt (``prompt.py``) with the largest window the model can evaluate within
   ``promptLatencyMs`` given what it already holds (``sizing.py``, ``budget.py``).
4. **Typing-through** — the user typed the start of a suggestion already shown here.
5. **Cache** — the exact same prompt was answered before.
6. **In flight** — a generation for this document is still streaming and the new cursor only
   extends its prefix: follow it (``dispatch.py``; Ollama serves one request per model).
7. **Debounce** automatic triggers (``debounce.py``); a newer request for the same document
   supersedes this one, which is then answered empty (never dropped).
8. **Warm-up** — a model still loading is waited for briefly (``warmup.py``).
9. **Generate**, streaming, and close the stream as soon as the cutter knows the suggestion is
   complete (``generation.py``, guided token healing in ``steering.py``); finalise it with the
   filters (``filters.py``) and cache it.

A generation ("flight", ``flights.py``) is shared by the requests waiting on it and cancelled
when the last one leaves, unless it may still land in the cache (``dispatch.py``). While Ollama
is idle, a wider window at the cursor is **prefilled** in short steps after a pause and the
suggestion after a shown one is **speculated** (``background.py``, ``speculation.py``); an explicit invoke may get
**alternatives** (``candidates.py``). A real request or an edit stops background work first (a
request waits at most for a prefill's running step). ``cache.maxEntries: 0``: nothing reused.

No LSP and no HTTP here: the engine talks to an ``AiProvider`` and reports conditions to a
``Listener``; the server turns those into messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ..context.blocks import ContextBlocks
from ..provider import AiProvider, ProviderError
from ..settings import Settings
from .background import Prefill
from .cache import CompletionCache
from .candidates import Alternatives
from .counts import SuggestionCounts
from .debounce import Debouncer
from .dispatch import Dispatcher
from .excerpt import excerpt
from .filters import finalize
from .flights import Flight
from .generation import Generations, Producer
from .meters import ModelMeters
from .profiles import Profiles
from .prompt import Assembly, full_budget
from .records import Background, Listener, Places, Query, SilentListener, Stats, report
from .sizing import PromptSizer
from .speculation import Speculation
from .steering import Steering
from .streaming import Streamer
from .warmup import Warmups

__all__ = ["CompletionEngine", "Listener", "Query"]


class CompletionEngine:
    """Answers completion requests for all documents, sharing one model slot carefully.

    The engine keeps the ordered path of cheap answers (this module's docstring) and owns the
    parts that do the rest, each given only what it needs (settings and the cache through
    getters, as ``configure`` replaces them): ``Profiles``, ``Warmups``, ``PromptSizer``
    (reading the ``ModelMeters`` that ``Streamer`` keeps), ``Dispatcher`` (tickets, flights,
    late landing), ``Generations`` (``Producer``, ``Steering``), ``Prefill``, ``Speculation``
    and ``Alternatives``.
    """

    def __init__(
        self,
        provider: AiProvider,
        settings: Settings | None = None,
        *,
        listener: Listener | None = None,
        clock: Callable[[], float] = time.monotonic,
        context: ContextBlocks | None = None,
    ) -> None:
        self.provider = provider
        #: Workspace context (``ollama_lsp.context``), fed by the server; None: none.
        self.context = context
        self.listener: Listener = listener or SilentListener()
        self.clock = clock
        self.settings = settings or Settings()
        self.cache = self._new_cache(self.settings)
        self.stats = Stats()
        self.counts = SuggestionCounts()
        self.background = Background()
        self.debouncer = Debouncer()
        self._places = Places()
        self._profiles = Profiles(provider, self._get_settings, clock)
        self._warmups = Warmups(provider, self._profiles, self.listener, self.stats, clock)
        self._meters = ModelMeters()
        self._sizer = PromptSizer(self._meters, self._get_settings, context)
        self._dispatch = Dispatcher(clock, self.stats, self.background, self._reusable)
        streamer = Streamer(provider, self._meters, clock)
        producer = Producer(streamer, Steering(streamer), self._get_settings, clock)
        self._generations = Generations(
            producer, self._dispatch, self._reusable, self.listener, self.stats
        )
        self._prefiller = Prefill(
            self._get_settings,
            self._places,
            self._sizer,
            streamer,
            self._meters,
            self._dispatch,
            self.stats,
            self.background,
            clock,
        )
        self._speculation = Speculation(
            self._get_settings,
            self._reusable,
            self._places,
            self._sizer,
            self._meters,
            self._dispatch,
            self._prefiller,
            self.stats,
        )
        self._alternatives = Alternatives(
            producer, self._dispatch, self._reusable, self.stats, clock
        )
        #: What the engine's tests look into: learned speeds, background generations.
        self._speed, self._speculative = self._meters.speed, self._dispatch.speculative

    # -- configuration ---------------------------------------------------------------------

    @property
    def reuse(self) -> bool:
        """Whether answers are reused at all (``cache.maxEntries: 0`` turns every reuse off)."""
        return self.settings.cache.max_entries > 0

    def configure(self, settings: Settings) -> None:
        """Apply new settings; caches and model profiles that depend on them are rebuilt."""
        old, self.settings = self.settings, settings
        if old.cache != settings.cache:
            self.cache = self._new_cache(settings)
        if old.completion != settings.completion or old.model != settings.model:
            self.forget_model()
        if self.context is not None and old.context != settings.context:
            self.context.configure(settings.context)

    def forget_model(self, model: str | None = None) -> None:
        """Drop what we know about a model (after a pull, delete, or host change)."""
        self._profiles.forget(model)
        self._meters.forget_slots(model)
        self._places.clear()

    def edited(self, uri: str) -> None:
        """The user changed a document: a prefill stops after its running step."""
        self._prefiller.hold()

    def stop_background(self) -> None:
        """The editor is going away: stop prefill and speculation now."""
        self._prefiller.cancel()
        self._dispatch.stop_leftovers()

    def close_document(self, uri: str) -> None:
        """The document closed: forget its debounce, cache entries, counts and place."""
        self.debouncer.forget(uri)
        self.cache.forget(uri)
        self.counts.forget(uri)
        self._places.forget(uri)
        self._dispatch.close(uri)

    @staticmethod
    def _new_cache(settings: Settings) -> CompletionCache:
        return CompletionCache(
            max_entries=settings.cache.max_entries, ttl_seconds=settings.cache.ttl_seconds
        )

    def _get_settings(self) -> Settings:
        return self.settings

    def _reusable(self) -> CompletionCache | None:
        """The cache when answers are reused at all (``cache.maxEntries: 0`` turns every
        reuse off: no cache, typing-through or flight sharing); the one place that decides."""
        return self.cache if self.reuse else None

    # -- warm-up ---------------------------------------------------------------------------

    def warm_up(self, model: str | None = None) -> asyncio.Task[None]:
        """Load the model in the background with the runner options completions will use."""
        return self._warmups.start(model or self.settings.model)

    def loading(self, model: str) -> bool:
        return self._warmups.loading(model)

    # -- the request path ------------------------------------------------------------------

    async def complete(self, query: Query, on_tokens: Callable[[int], None] | None = None) -> str:
        """The suggestion at ``query``'s cursor, or ``""``. Never raises ProviderError.

        ``on_tokens(0)`` is called when the model is asked (a generation starts or is
        joined), then ``on_tokens(n)`` as tokens arrive: the server shows progress from then.
        """
        started = self.clock()
        self.stats.requests += 1
        self._prefiller.hold()
        answer, typed_through = "", False
        try:
            answer, typed_through = await self._complete(query, started, on_tokens)
            return answer
        finally:
            self.counts.answer(query.uri, answer, typed_through=typed_through)
            self.stats.latencies_ms.append((self.clock() - started) * 1000)
            ticket = self._dispatch.ticket(query.uri)
            if ticket is not None and not ticket.superseded:
                if answer:
                    self._speculate(query.uri, answer)
                self._prefiller.arm()

    async def _complete(
        self, query: Query, started: float, on_tokens: Callable[[int], None] | None
    ) -> tuple[str, bool]:
        """The answer, and whether it is the rest of a suggestion the user is typing through."""
        deadline = started + self.settings.completion.timeout_ms / 1000
        model = self.settings.model
        if not query.invoked:
            self.debouncer.keystroke(query.uri, started)
        cut = excerpt(query.lines, query.line, query.column, full_budget(self.settings.completion))
        try:
            profile = await self._profiles.get(model, deadline)
        except ProviderError as exc:
            report(self.listener, self.stats, exc)
            return "", False
        except TimeoutError:
            self.stats.timeouts += 1
            return "", False
        a = self._sizer.assemble(profile, cut, query)
        self._places.remember(query, profile, cut)

        # Synchronous from here to the first await: supersede, then the cheap answers, so that
        # an older request cannot cancel a flight this one is about to follow.
        ticket = self._dispatch.new_ticket(query.uri)
        if self.reuse:
            reused = self._reused(query.uri, a)
            if reused is not None:
                return reused
            w = a.windows
            joinable = self._dispatch.joinable(query.uri, model, w.prefix, w.suffix)
            if joinable is not None:
                answer = await self._dispatch.join(*joinable, ticket, deadline, on_tokens)
                if answer is not None:
                    return answer, False
                if ticket.superseded or self.clock() >= deadline:
                    return "", False
        if not query.invoked:
            wait = self._debounce(query.uri, a)
            if wait > 0 and await self._dispatch.wait(ticket, min(deadline, self.clock() + wait)):
                return "", False
        if not await self._warmups.ready(model, ticket, deadline):
            return "", False
        flight = self._start_flight(query.uri, a)
        return await self._dispatch.follow(flight, ticket, "", deadline, on_tokens) or "", False

    def _reused(self, uri: str, a: Assembly) -> tuple[str, bool] | None:
        """Typing-through, then the cache: an answer without asking the model."""
        w = a.windows
        rest = self.cache.typed_through(uri, w.prefix, w.suffix)
        if rest:
            return rest, True
        cached = self.cache.get(a.key)
        if cached is None:
            return None
        self._speculation.used(a.key)
        return finalize(cached, a.spot), False  # the model's answer to this prompt, shown here

    def accepted(self, uri: str) -> None:
        """The user took a suggestion (the item's command ran)."""
        self.stats.accepted += 1
        self.counts.accept(uri)
        self.cache.accepted(uri)

    def _debounce(self, uri: str, a: Assembly) -> float:
        c, w = self.settings.completion, a.windows
        floor_s, ceiling_s = c.debounce_ms / 1000, c.max_debounce_ms / 1000
        return self.debouncer.delay(
            uri, w.prefix, w.suffix, floor_s=floor_s, ceiling_s=ceiling_s,
            adaptive=c.adaptive_debounce,
        )  # fmt: skip

    # -- generation ------------------------------------------------------------------------

    def _start_flight(self, uri: str, a: Assembly, *, speculative: bool = False) -> Flight:
        """Start generating for ``a``; leftovers (late flights, a prefill, speculation) give
        way first — unless this is a speculation itself, which only runs when all is idle."""
        if not speculative:
            self._prefiller.hold()  # its running step ends first (``Streamer``)
            self._dispatch.stop_leftovers()
        return self._generations.start(uri, a, speculative=speculative)

    def _speculate(self, uri: str, shown: str) -> None:
        """While Ollama is idle, generate what follows ``shown`` as if it were accepted."""
        a = self._speculation.after(uri, shown)
        if a is not None:
            self._start_flight(uri, a, speculative=True)

    async def candidates(
        self, query: Query, n: int, on_tokens: Callable[[int], None] | None = None
    ) -> list[str]:
        """Up to ``n`` different suggestions for an explicit invoke (editors cycle them).

        The first is ``complete``'s; the others come from ``Alternatives``.
        """
        first = await self.complete(query, on_tokens)
        found = [first] if first else []
        place, ticket = self._places.get(query.uri), self._dispatch.ticket(query.uri)
        if n <= 1 or not query.invoked or place is None or ticket is None or not first:
            return found
        deadline = self.clock() + self.settings.completion.timeout_ms / 1000
        base = self._sizer.assemble(place.profile, place.cut, place)
        return await self._alternatives.extend(found, base, ticket, n - 1, deadline)
