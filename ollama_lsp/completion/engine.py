"""The completion engine: from a cursor in a document to a suggestion, asking the model rarely.

The path of a request, cheapest answer first:

1. **Cut** the lines around the cursor at once (the document may change while we wait).
2. **Profile** the model (template, context size), once per model, within the request's time.
3. **Assemble** the prompt (``prompt.py``) with the largest window the model can evaluate within
   ``promptLatencyMs`` given what it already holds (``budget.py``).
4. **Typing-through** — the user typed the start of a suggestion already shown here.
5. **Cache** — the exact same prompt was answered before.
6. **In flight** — a generation for this document is still streaming and the new cursor only
   extends its prefix: follow it (Ollama serves one request per model; a second would queue).
7. **Debounce** automatic triggers (``debounce.py``); a newer request for the same document
   supersedes this one, which is then answered empty (never dropped).
8. **Generate**, streaming, and close the stream as soon as the cutter knows the suggestion is
   complete; finalise it with the filters (``filters.py``) and cache it.

A generation ("flight", ``flights.py``) is shared by the requests waiting on it and cancelled
when the last one leaves — superseded, cancelled, or out of time — which closes the HTTP
stream so Ollama stops. A flight that is about to finish when its request runs out of time is
left to land in the cache instead. When the user pauses, the big window at the cursor is
**prefilled** (evaluated with a one-token generation) so later suggestions there are cheap;
a prefill gives way at once to any real request.

With ``cache.maxEntries: 0`` nothing is reused (no cache, typing-through or flight sharing).

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
from dataclasses import dataclass, field, replace
from typing import Protocol

from ..context.blocks import ContextBlocks, placement
from ..provider import (
    AiProvider,
    CodeCompletionRequest,
    ModelUnavailable,
    ProviderError,
    ProviderUnreachable,
    TextChunk,
)
from ..settings import Settings
from .budget import MIN_PREFIX_CHARS, PromptSpeed, SlotMemory, prefix_ladder
from .cache import CompletionCache
from .counts import SuggestionCounts
from .debounce import Debouncer
from .excerpt import Excerpt, excerpt
from .filters import finalize
from .flights import Flight, Ticket, compatible
from .healing import agreeing_token
from .prompt import Assembly, Profile, assemble, build_profile, full_budget, prefill_request
from .stream import StreamCutter

log = logging.getLogger(__name__)

#: How long a completion waits for a model that is still loading before answering empty.
WARMUP_WAIT_S = 1.0
#: A failed model profile (Ollama down, model missing) is not asked for again before this.
PROFILE_RETRY_S = 2.0
#: A flight whose request ran out of time may finish within this to land in the cache.
FINISH_GRACE_S = 3.0
#: A block (multi-line suggestion) is cut at its last complete line after this many times
#: the latency target (``promptLatencyMs``) since it was asked for.
BLOCK_TIME = 1.5
#: Guided healing: at most this many one-token steps, each with this many alternatives.
STEER_STEPS = 4
STEER_ALTERNATIVES = 20
#: Temperatures of the alternatives offered on an explicit invoke (after the first).
ALTERNATIVE_TEMPERATURES = (0.7, 1.0, 1.2, 0.9, 1.1, 0.8, 1.3)
#: A generation whose request was cancelled waits this long for a request to follow it.
CANCEL_GRACE_S = 0.6
#: Quiet time in a document before its big window is prefilled.
PREFILL_IDLE_S = 0.8


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
    speculations: int = 0
    speculation_hits: int = 0
    errors: int = 0
    accepted: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    def p50_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None


@dataclass(slots=True)
class Background:
    """Events for work no request waits on, so callers (and tests) can await it, not poll."""

    prefill_started: asyncio.Event = field(default_factory=asyncio.Event)
    prefill_done: asyncio.Event = field(default_factory=asyncio.Event)
    landed_late: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class _Place:
    """The last place asked about in a document: what a prefill there needs."""

    uri: str
    profile: Profile
    cut: Excerpt
    path: str | None
    language: str | None


class CompletionEngine:
    """Answers completion requests for all documents, sharing one model slot carefully."""

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
        self.listener: Listener = listener or _SilentListener()
        self.clock = clock
        self.settings = settings or Settings()
        self.cache = self._new_cache(self.settings)
        self.stats = Stats()
        self.counts = SuggestionCounts()
        self.background = Background()
        self.debouncer = Debouncer()
        self._profiles: dict[str, asyncio.Future[Profile]] = {}
        self._failed_profiles: dict[str, tuple[float, ProviderError]] = {}
        self._speeds: dict[str, PromptSpeed] = {}
        self._slots: dict[str, SlotMemory] = {}
        self._latest: dict[str, Ticket] = {}
        self._flights: dict[str, Flight] = {}
        self._late: set[Flight] = set()
        self._speculative: set[Flight] = set()
        #: Cache keys filled by speculation and not used yet (to count what it saves).
        self._speculated: set[str] = set()
        self._warmups: dict[str, asyncio.Task[None]] = {}
        self._places: dict[str, _Place] = {}
        self._last_uri: str | None = None
        #: Models whose backend sent no ``top_logprobs`` alternatives: healed unguided.
        self._unsteerable: set[str] = set()
        self._prefill_timer: asyncio.TimerHandle | None = None
        self._prefill: asyncio.Task[None] | None = None

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
        for table in (self._profiles, self._failed_profiles, self._slots):
            if model is None:
                table.clear()
            else:
                table.pop(model, None)
        self._places.clear()

    def close_document(self, uri: str) -> None:
        self.debouncer.forget(uri)
        self.cache.forget(uri)
        self.counts.forget(uri)
        self._places.pop(uri, None)
        ticket = self._latest.pop(uri, None)
        if ticket is not None:
            ticket.supersede()

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
            profile = await self._profile(model, None)
            await self.provider.load_model(model, num_ctx=profile.num_ctx)
        except ProviderError as exc:
            self._report(exc)
        else:
            self.listener.reachable()

    # -- the request path ------------------------------------------------------------------

    async def complete(self, query: Query, on_tokens: Callable[[int], None] | None = None) -> str:
        """The suggestion at ``query``'s cursor, or ``""``. Never raises ProviderError.

        ``on_tokens(0)`` is called when the model is asked (a generation starts or is
        joined), then ``on_tokens(n)`` as tokens arrive: the server shows progress from then.
        """
        started = self.clock()
        self.stats.requests += 1
        self._hold_prefill()
        answer, typed_through = "", False
        try:
            answer, typed_through = await self._complete(query, started, on_tokens)
            return answer
        finally:
            self.counts.answer(query.uri, answer, typed_through=typed_through)
            self.stats.latencies_ms.append((self.clock() - started) * 1000)
            ticket = self._latest.get(query.uri)
            if ticket is not None and not ticket.superseded:
                if answer:
                    self._speculate(query.uri, answer)
                self._arm_prefill()

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
            profile = await self._profile(model, deadline)
        except ProviderError as exc:
            self._report(exc)
            return "", False
        except TimeoutError:
            self.stats.timeouts += 1
            return "", False
        a = self._assemble(profile, cut, query)
        self._places[query.uri] = _Place(query.uri, profile, cut, query.path, query.language)
        self._last_uri = query.uri

        # Synchronous from here to the first await: supersede, then the cheap answers, so that
        # an older request cannot cancel a flight this one is about to follow.
        ticket = self._new_ticket(query.uri)
        w = a.windows
        if self.reuse:
            rest = self.cache.typed_through(query.uri, w.prefix, w.suffix)
            if rest:
                return rest, True
            cached = self.cache.get(a.key)
            if cached is not None:  # the model's answer to this prompt, shown for this spot
                if a.key in self._speculated:
                    self._speculated.discard(a.key)
                    self.stats.speculation_hits += 1
                return finalize(cached, a.spot), False
            flight = self._flights.get(query.uri)
            if flight is not None and not flight.done():
                typed = flight.extended_by(model, w.prefix, w.suffix)
                if typed is not None and compatible(flight.visible(), typed):
                    speculative = flight in self._speculative
                    answer = await self._follow(flight, ticket, typed, deadline, on_tokens)
                    if answer is not None:
                        self.stats.followed += 1
                        self.stats.speculation_hits += speculative
                        return answer, False
                    if ticket.superseded or self.clock() >= deadline:
                        return "", False

        if not query.invoked:
            wait = self._debounce(query.uri, a)
            if wait > 0 and await self._wait(ticket, min(deadline, self.clock() + wait)):
                return "", False
        if self.loading(model):
            end = min(deadline, self.clock() + WARMUP_WAIT_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, end - self.clock())):
                    await asyncio.shield(self._warmups[model])
            if self.loading(model) or ticket.superseded:
                return "", False

        flight = self._start_flight(query.uri, a)
        return await self._follow(flight, ticket, "", deadline, on_tokens) or "", False

    def accepted(self, uri: str) -> None:
        """The user took a suggestion (the item's command ran)."""
        self.stats.accepted += 1
        self.counts.accept(uri)
        self.cache.accepted(uri)

    # -- profiles and prompts --------------------------------------------------------------

    async def _profile(self, model: str, deadline: float | None) -> Profile:
        """The model's profile, asked once; bounded by ``deadline``; failures kept briefly."""
        failed = self._failed_profiles.get(model)
        if failed is not None:
            if self.clock() < failed[0]:
                raise failed[1]
            del self._failed_profiles[model]
        future = self._profiles.get(model)
        if future is None:
            future = asyncio.ensure_future(self._build_profile(model))
            self._profiles[model] = future
            future.add_done_callback(lambda f: self._profile_done(model, f))
        if future.done() or deadline is None:
            return await asyncio.shield(future)
        async with asyncio.timeout(max(0.0, deadline - self.clock())):
            return await asyncio.shield(future)

    async def _build_profile(self, model: str) -> Profile:
        caps = await self.provider.capabilities(model)
        return build_profile(model, caps, self.settings.completion)

    def _profile_done(self, model: str, future: asyncio.Future[Profile]) -> None:
        if self._profiles.get(model) is not future:
            return
        if future.cancelled():
            del self._profiles[model]
        elif (exc := future.exception()) is not None:
            del self._profiles[model]
            if isinstance(exc, ProviderError):
                self._failed_profiles[model] = (self.clock() + PROFILE_RETRY_S, exc)

    def _speed(self, model: str) -> PromptSpeed:
        return self._speeds.setdefault(model, PromptSpeed())

    def _slot(self, model: str) -> SlotMemory:
        return self._slots.setdefault(model, SlotMemory())

    def _cold_chars(self, model: str) -> int:
        return self._speed(model).affordable_chars(
            self.settings.completion.prompt_latency_ms / 1000
        )

    def _assemble(
        self, profile: Profile, cut: Excerpt, query: Query | _Place, *, refresh: bool = False
    ) -> Assembly:
        """The largest affordable prompt: fits the latency target given what the slot holds.

        With workspace context, the windows with the document's context block come first
        (affordable once a pause has prefilled them), then the same windows without it.
        """
        cold = self._cold_chars(profile.model)
        slot = self._slot(profile.model)
        ladder = prefix_ladder(profile.budget.max_prefix_chars, cold)
        suffix = self._suffix_chars(profile)
        block = self._block(profile, cut, query, refresh=refresh)
        a = None
        for context in (block, "") if block else ("",):
            for size in ladder:
                a = self._assemble_at(profile, cut, query, size - len(context), suffix, context)
                if slot.cost(a.request.prompt) <= cold:
                    return a
        assert a is not None
        return a

    def _suffix_chars(self, profile: Profile) -> int:
        ladder = prefix_ladder(profile.budget.max_prefix_chars, self._cold_chars(profile.model))
        return max(64, ladder[-1] // 3)

    def _block(
        self, profile: Profile, cut: Excerpt, query: Query | _Place, *, refresh: bool
    ) -> str:
        """The document's context block (kept between pauses), within a fair share of the
        prompt: at most a third of the largest window."""
        if self.context is None or not self.settings.context.enabled:
            return ""
        first = cut.first_line
        return self.context.block(
            query.uri,
            family=profile.template.family,
            language=query.language,
            path=query.path,
            prefix_tail=cut.text[max(0, cut.offset - 2400) : cut.offset],
            window=(first, first + cut.text.count("\n")),
            budget_chars=min(self.settings.context.max_chars, profile.budget.max_prefix_chars // 3),
            refresh=refresh,
        )

    def _assemble_at(
        self,
        profile: Profile,
        cut: Excerpt,
        query: Query | _Place,
        prefix: int,
        suffix: int,
        block: str = "",
    ) -> Assembly:
        path = query.path
        if path and self.context is not None:
            path = self.context.workspace.relative(path)
        return assemble(
            profile,
            cut,
            self.settings.completion,
            prefix_chars=max(MIN_PREFIX_CHARS, prefix),
            suffix_chars=suffix,
            path=path,
            language=query.language,
            block=block,
            block_before=bool(block) and placement(profile.template.family) == "before",
        )

    def _debounce(self, uri: str, a: Assembly) -> float:
        c = self.settings.completion
        return self.debouncer.delay(
            uri,
            a.windows.prefix,
            a.windows.suffix,
            floor_s=c.debounce_ms / 1000,
            ceiling_s=c.max_debounce_ms / 1000,
            adaptive=c.adaptive_debounce,
        )

    # -- tickets and flights ---------------------------------------------------------------

    def _new_ticket(self, uri: str) -> Ticket:
        previous = self._latest.get(uri)
        if previous is not None:
            previous.supersede()
        ticket = self._latest[uri] = Ticket()
        return ticket

    async def _wait(self, ticket: Ticket, until: float) -> bool:
        """Sleep until ``until`` or until woken; True if the request was superseded."""
        ticket.wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, until - self.clock())):
                await ticket.wake.wait()
        if ticket.superseded:
            self.stats.superseded += 1
        return ticket.superseded

    def _start_flight(self, uri: str, a: Assembly, *, speculative: bool = False) -> Flight:
        """Start generating for ``a``; leftovers (late flights, a prefill, speculation) give
        way first — unless this is a speculation itself, which only runs when all is idle."""
        if not speculative:
            self._stop_background()
        w = a.windows
        flight = Flight(a.request.model, w.prefix, w.suffix, a.request.prompt)
        flight.task = asyncio.create_task(self._generate(uri, flight, a))
        self._flights[uri] = flight
        if speculative:
            self._speculative.add(flight)
            flight.task.add_done_callback(lambda _: self._speculative.discard(flight))
        return flight

    async def _generate(self, uri: str, flight: Flight, a: Assembly) -> str | None:
        """Run one generation; the finalized suggestion, or None when it failed."""
        self.stats.model_calls += 1
        try:
            raw = await self._produce(a, flight)
        except ProviderError as exc:
            self._report(exc)
            return None
        finally:
            if self._flights.get(uri) is flight:
                del self._flights[uri]
            for ticket in flight.waiters:
                ticket.wake.set()
        self.listener.reachable()
        text = finalize(raw, a.spot)
        log.debug("generated %r -> %r", raw, text)
        if self.reuse:
            # the raw answer: with token healing one prompt serves every cursor in a word
            self.cache.put(a.key, raw)
            if text:
                self.cache.remember(uri, a.windows.prefix, a.windows.suffix, text)
        return text

    async def _produce(self, a: Assembly, flight: Flight) -> str:
        """Generate for ``a`` into ``flight``; the raw answer, cut where it is complete."""
        cutter = StreamCutter(a.spot)
        flight.visible = lambda: cutter.partial
        request = await self._steer(a, flight, cutter)
        if request is not None:
            feed = self._feeder(cutter, a)
            await self._stream(request, flight, lambda chunk: feed(chunk.text))
        return cutter.text

    async def candidates(
        self, query: Query, n: int, on_tokens: Callable[[int], None] | None = None
    ) -> list[str]:
        """Up to ``n`` different suggestions for an explicit invoke (editors cycle them).

        The first is ``complete``'s; the others are generations of the same prompt at higher
        temperatures (the prompt is cached, so each costs only its tokens), cached too, and
        given up as soon as a newer request comes or the request's time is out.
        """
        first = await self.complete(query, on_tokens)
        found = [first] if first else []
        place, ticket = self._places.get(query.uri), self._latest.get(query.uri)
        if n <= 1 or not query.invoked or place is None or ticket is None or not first:
            return found
        deadline = self.clock() + self.settings.completion.timeout_ms / 1000
        base = self._assemble(place.profile, place.cut, place)
        for i, temperature in enumerate(ALTERNATIVE_TEMPERATURES[: n - 1], start=1):
            if ticket.superseded or self.clock() >= deadline:
                break
            key = f"{base.key}#{i}"
            raw = self.cache.peek(key) if self.reuse else None
            if raw is None:
                a = replace(base, request=replace(base.request, temperature=temperature), key=key)
                raw = await self._alternative(query.uri, a, deadline)
                if raw is None:
                    break
            text = finalize(raw, base.spot)
            if text and text not in found:
                found.append(text)
        return found

    async def _alternative(self, uri: str, a: Assembly, deadline: float) -> str | None:
        """One more generation for ``a`` (background: a real request cancels it)."""
        flight = Flight(a.request.model, a.windows.prefix, a.windows.suffix, a.request.prompt)
        flight.task = asyncio.ensure_future(self._produce(a, flight))
        self._speculative.add(flight)
        try:
            async with asyncio.timeout(max(0.0, deadline - self.clock())):
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
            self._speculative.discard(flight)
        self.stats.model_calls += 1
        if self.reuse:
            self.cache.put(a.key, raw)
        return raw

    async def _steer(
        self, a: Assembly, flight: Flight, cutter: StreamCutter
    ) -> CodeCompletionRequest | None:
        """Guided token healing: spell what healing removed with the model's own tokens.

        The model's greedy first token after a healed prompt often does not begin with the
        partial word (the answer would be thrown away). So ask for one token at a time with
        its most probable alternatives (``top_logprobs``), take the most probable one that
        agrees with the rest of the word, append it to the prompt, and repeat until the word
        is spelled (the prompt cache makes each step cost one token). Returns the request
        that generates the rest, or None when no alternative agrees (nothing worth
        generating). Backends that send no alternatives are not steered again.
        """
        healed = a.spot.healed
        model = a.request.model
        if not healed or not a.request.raw or model in self._unsteerable:
            return a.request
        left, steered = healed, ""
        for _ in range(STEER_STEPS):
            step = replace(
                a.request,
                prompt=a.request.prompt + steered,
                max_tokens=1,
                top_logprobs=STEER_ALTERNATIVES,
            )
            first = await self._first_chunk(step, a)
            if first is None:
                return None  # the model ends right here: nothing to show
            if not first.alternatives:
                self._unsteerable.add(model)  # text but no alternatives: generate unguided
                return (
                    replace(a.request, prompt=a.request.prompt + steered) if steered else a.request
                )
            lenient = a.spot.lenient_heal and not steered
            token = agreeing_token(left, first.alternatives, lenient=lenient)
            if token is None:
                return None
            steered += token
            flight.chunk(token)
            cutter.feed(token)
            spelled = len(token.lstrip(" \t")) if lenient else len(token)
            if spelled >= len(left):
                break
            left = left[spelled:]
        return replace(a.request, prompt=a.request.prompt + steered)

    async def _first_chunk(self, step: CodeCompletionRequest, a: Assembly) -> TextChunk | None:
        """The first chunk of a one-token step (its own flight: the slot memory stays right)."""
        seen: list[TextChunk] = []
        probe = Flight(step.model, a.windows.prefix, a.windows.suffix, step.prompt)
        await self._stream(step, probe, lambda chunk: bool(seen.append(chunk)) or True)
        return seen[0] if seen else None

    def _feeder(self, cutter: StreamCutter, a: Assembly) -> Callable[[str], bool]:
        """``cutter.feed``, and for a block: once ``BLOCK_TIME`` × the latency target has
        passed, stop at the last complete line (a slow model shows the lines it has written
        rather than nothing; the rest is asked for when the user accepts them)."""
        if not a.spot.multiline:
            return cutter.feed
        settle_at = self.clock() + BLOCK_TIME * self.settings.completion.prompt_latency_ms / 1000

        def feed(piece: str) -> bool:
            if cutter.feed(piece):
                return True
            if self.clock() < settle_at:
                return False
            head, newline, _ = cutter.text.rpartition("\n")
            if newline and head.strip() and finalize(head, a.spot):
                cutter.text = head
                return True
            return False

        return feed

    async def _stream(
        self,
        request: CodeCompletionRequest,
        flight: Flight,
        feed: Callable[[TextChunk], bool],
    ) -> TextChunk | None:
        """Stream ``request`` into ``flight`` until ``feed`` says stop; the final chunk if seen.

        Keeps the slot memory and the speed estimate up to date from what Ollama reports.
        """
        slot = self._slot(request.model)
        new_chars = slot.cost(request.prompt)
        started = self.clock()
        final: TextChunk | None = None
        try:
            stream = self.provider.complete_code(request)
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    if not flight.evaluated:
                        self._learn_first_token(request.model, new_chars, self.clock() - started)
                    flight.chunk(chunk.text)
                    if chunk.done:
                        final = chunk
                        break
                    if feed(chunk):
                        break
        except BaseException:
            if not flight.evaluated:
                slot.interrupted(request.prompt)
            else:
                slot.evaluated(request.prompt, flight.partial)
            raise
        slot.evaluated(request.prompt, flight.partial)
        if final is not None:
            if final.text:
                feed(final)
            speed = self._speed(request.model)
            speed.learn_chars_per_token(len(request.prompt), final.prompt_tokens)
            evaluated = int(new_chars / speed.chars_per_token)  # the count is the whole prompt
            speed.observe(evaluated, final.prompt_eval_ns, 0)
        return final

    def _learn_first_token(self, model: str, new_chars: int, seconds: float) -> None:
        """Time to first token bounds the evaluation speed when no final metrics come."""
        speed = self._speed(model)
        tokens = int(new_chars / speed.chars_per_token)
        if tokens >= 64 and seconds >= 0.1:  # shorter times measure the request, not the model
            speed.observe(tokens, int(seconds * 1e9), 0)

    async def _follow(
        self,
        flight: Flight,
        ticket: Ticket,
        typed: str,
        deadline: float,
        on_tokens: Callable[[int], None] | None,
    ) -> str | None:
        """Wait on ``flight``; the suggestion minus ``typed``, or None if it cannot serve us.

        Returns ``""`` when superseded or out of time. The flight is cancelled when its last
        waiter leaves, which closes the stream to Ollama — unless it is about to finish.
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
                if await self._wait(ticket, deadline):
                    return ""
                if self.clock() >= deadline and not flight.task.done():
                    self.stats.timeouts += 1
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
                if timed_out and self._nearly_done(flight):
                    self._let_land(flight, FINISH_GRACE_S)
                elif cancelled and self.reuse:
                    # editors cancel the pending request on every keystroke and ask again
                    # a moment later: the next request may follow this generation
                    self._let_land(flight, CANCEL_GRACE_S)
                else:
                    flight.cancel()
        if text is None:
            return ""
        if not typed:
            return text
        return text[len(typed) :] if text.startswith(typed) and len(text) > len(typed) else None

    def _nearly_done(self, flight: Flight) -> bool:
        """Tokens are flowing (the prompt is evaluated): the cutter will end it soon."""
        return flight.evaluated and self.reuse

    def _let_land(self, flight: Flight, grace_s: float) -> None:
        """Leave ``flight`` running for ``grace_s`` more: a new request may follow it, and
        what it finishes lands in the cache. Any other real request cancels it first."""
        self._late.add(flight)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(grace_s, lambda: None if flight.waiters else flight.cancel())
        assert flight.task is not None

        def finished(task: asyncio.Task[str | None]) -> None:
            timer.cancel()
            self._late.discard(flight)
            if not task.cancelled():
                self.stats.landed_late += 1
                self.background.landed_late.set()

        flight.task.add_done_callback(finished)

    # -- prefill ---------------------------------------------------------------------------

    def _hold_prefill(self) -> None:
        """A request came: no prefill now (and a running one gives way to the real request)."""
        if self._prefill_timer is not None:
            self._prefill_timer.cancel()
            self._prefill_timer = None

    def _arm_prefill(self) -> None:
        if not self.settings.completion.prefill:
            return
        self._hold_prefill()
        loop = asyncio.get_running_loop()
        self._prefill_timer = loop.call_later(PREFILL_IDLE_S, self._start_prefill)

    def _start_prefill(self) -> None:
        self._prefill_timer = None
        busy = any(not f.done() for f in self._flights.values()) or self._late
        if busy or (self._prefill is not None and not self._prefill.done()):
            return
        uri = self._last_uri  # the document asked about last
        place = self._places.get(uri) if uri is not None else None
        if place is None or place.profile.model != self.settings.model:
            return
        profile = place.profile
        cold = self._cold_chars(profile.model)
        block = self._block(profile, place.cut, place, refresh=True)  # a pause: refresh it
        full = profile.budget.max_prefix_chars - len(block)
        suffix = self._suffix_chars(profile)
        a = self._assemble_at(profile, place.cut, place, full, suffix, block)
        if self._slot(profile.model).cost(a.request.prompt) <= cold:
            return  # already cheap: nothing to gain
        self._prefill = asyncio.create_task(self._run_prefill(a))

    async def _run_prefill(self, a: Assembly) -> None:
        self.stats.prefills += 1
        self.background.prefill_started.set()
        request = prefill_request(a)
        flight = Flight(request.model, a.windows.prefix, a.windows.suffix, request.prompt)
        with contextlib.suppress(ProviderError):
            await self._stream(request, flight, lambda _chunk: False)
            self.background.prefill_done.set()

    def _stop_background(self) -> None:
        """Cancel what no request waits for: a prefill, speculations, flights left to land."""
        if self._prefill is not None and not self._prefill.done():
            self._prefill.cancel()
        for flight in (*self._late, *self._speculative):
            if not flight.waiters:
                flight.cancel()

    # -- speculation -----------------------------------------------------------------------

    def _speculate(self, uri: str, shown: str) -> None:
        """``shown`` was just shown at the last place in ``uri``: while Ollama is idle,
        generate the suggestion that follows it, as if accepted, into the cache.

        The speculative flight is registered like any other, so the request that comes after
        the user accepts follows it (or finds its answer cached); any other real request
        cancels it before starting its own (Ollama serves one request per model).
        """
        place = self._places.get(uri)
        if not (self.settings.completion.speculate and self.reuse) or place is None:
            return
        busy = any(not f.done() for f in self._flights.values())
        if busy or (self._prefill is not None and not self._prefill.done()):
            return
        cut = place.cut
        at = cut.offset
        after = Excerpt(cut.text[:at] + shown + cut.text[at:], at + len(shown), cut.first_line)
        a = self._assemble(place.profile, after, place)
        if self.cache.peek(a.key) is not None:
            return
        self.stats.speculations += 1
        self._speculated.add(a.key)
        self._start_flight(uri, a, speculative=True)

    # -- reporting -------------------------------------------------------------------------

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
