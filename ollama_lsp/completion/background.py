"""Work no request waits on, done while the model is idle: prefill.

- **Prefill**: when the user pauses (``PREFILL_IDLE_S``), the prompt one rung wider than
  what is affordable at the last place (``PromptSizer.wider``; the one the last pause
  started, while it is still wider) is evaluated, **in steps**:
  each step is a one-token request whose prompt is a longer start of that prompt, cut at a
  line end or a space, sized to take about ``BACKGROUND_STEP_S`` (``next_step``; one-token
  because Ollama treats ``num_predict`` 0 like "no limit" in some versions). Why
  steps: an engine evaluates a prompt in batches it cannot stop (llama-server finishes the
  batch of a cancelled request; a 1,000-token prefill is ~10 s on a laptop's small model),
  so one big prefill made the next keystroke's request wait seconds. Between steps a real
  request goes first: no step is started while one is in flight, and a real request waits
  for the running step (``Streamer``) rather than cancel it, so the step's work stays in the
  slot and the request lands where it is (llama-server picks the idle slot with the longest
  common start; a busy one is skipped). The prompt is exactly what the next request at this
  place sends first — same context block, same window start — so that request reuses it.
  Where the model has a spare slot (``Profile.lanes``, llama-server's ``spareSlot``) the
  wider window grows there, and completions move to it once it is whole: a wider window
  starts earlier, so growing it in the one slot replaced the window held there, and a
  prefill cut off by typing cost both; in the spare it costs nothing, and the next pause
  goes on from where it stopped.
- **Speculation** (after a shown suggestion, the next one): ``speculation.py``.

No LSP and no HTTP here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..provider import ProviderError
from ..settings import Settings
from .budget import BACKGROUND_STEP_S, MIN_STEP_CHARS, common_prefix_len
from .dispatch import Dispatcher
from .flights import Flight
from .meters import ModelMeters
from .prompt import Assembly
from .records import Background, Place, Places, Stats
from .sizing import PromptSizer
from .streaming import Streamer

#: Quiet time in a document before its wider window is prefilled.
PREFILL_IDLE_S = 0.8
#: A wider window is prefilled only when its new part is at most this many times what the
#: latency target affords: one that outlasts a pause is cut off by the next keystroke, and
#: on an engine with one slot for us the window it held is gone then too.
GROWTH = 3.0
#: Pauses (at least ``PREFILL_IDLE_S`` long) remembered to judge how long this one will last.
PAUSES_KEPT = 24
#: Fewer recent pauses than this that lasted as long as the one now: no evidence against.
PAUSE_EVIDENCE = 3
#: A pause this long, longer than the user's recent ones, is taken for reading: it lasts.
READING_S = 3.0


def likely_to_last(pauses: Sequence[float], idle: float, more: float) -> bool:
    """Whether a pause that has lasted ``idle`` seconds will last ``more`` seconds more, by the
    user's recent pauses: at least half of those that lasted ``idle`` lasted ``idle + more``
    too. With fewer than ``PAUSE_EVIDENCE`` that lasted ``idle`` (early in a session, or a
    pause longer than most), only one of ``READING_S`` is taken to last: the user is reading,
    or away. In the editor loop, prefills started on less — early on, or at the end of the
    user's longer typing pauses — were cut off by the next key and took the window held in
    the one slot along."""
    reached = [p for p in pauses if p >= idle]
    if len(reached) < PAUSE_EVIDENCE:
        return idle >= READING_S
    return 2 * sum(1 for p in reached if p >= idle + more) >= len(reached)


def step_end(prompt: str, held: int, step: int) -> int:
    """Where the next prefill step's prompt ends: about ``step`` characters past ``held``, at
    the last line end (else space) in the second half of the step — a cut inside a word
    splits a token the full prompt has whole, and that token is evaluated again — or the
    whole prompt when less than a step is left."""
    limit = held + step
    if limit >= len(prompt):
        return len(prompt)
    for mark in ("\n", " "):
        found = prompt.rfind(mark, held + step // 2, limit)
        if found >= 0:
            return found + 1
    return limit


class Prefill:
    """Evaluates, in steps, the next wider prompt at the last place after a pause."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        places: Places,
        sizer: PromptSizer,
        streamer: Streamer,
        meters: ModelMeters,
        dispatch: Dispatcher,
        stats: Stats,
        background: Background,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._places = places
        self._sizer = sizer
        self._streamer = streamer
        self._meters = meters
        self._dispatch = dispatch
        self._stats = stats
        self._background = background
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None
        #: Characters per step, per model, learned from how long steps really take.
        self._step: dict[str, int] = {}
        self._stop = False
        #: When the last answer came, while no key has been typed since.
        self._quiet_since: float | None = None
        #: The user's recent pauses of at least ``PREFILL_IDLE_S``, in seconds.
        self.pauses: deque[float] = deque(maxlen=PAUSES_KEPT)
        #: The running (or last) prefill.
        self.task: asyncio.Task[None] | None = None

    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def hold(self) -> None:
        """A request or an edit came: no new prefill, no next step (a running step ends on
        its own); the pause it ends is remembered."""
        if self._quiet_since is not None:
            pause = self._clock() - self._quiet_since
            if pause >= PREFILL_IDLE_S:
                self.pauses.append(pause)
            self._quiet_since = None
        self._stop = True
        self._disarm()

    def arm(self) -> None:
        """A request was answered: prefill once the user has paused for ``PREFILL_IDLE_S``."""
        if not self._settings().completion.prefill:
            return
        self._stop = True
        self._disarm()
        self._quiet_since = self._clock()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(PREFILL_IDLE_S, self._start)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def cancel(self) -> None:
        """Stop now, mid-step (the document closed, the server stops)."""
        self.hold()
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def _start(self) -> None:
        self._timer = None
        if self.running() or self._dispatch.busy() or self._dispatch.late:
            # the last step of a stopped prefill, a speculation or a late answer is still
            # streaming: look again once it is done
            self._look_again()
            return
        place = self._places.last()
        if place is None or place.profile.model != self._settings().model:
            return
        a = self._sizer.wider(place.profile, place.cut, place)
        if a is None or self._sizer.cheap(a):
            return  # the widest is affordable already: nothing to gain
        model = a.request.model
        lane = self._lane(place)
        # its new part: what the slot it grows in does not hold yet. A spare slot evaluates
        # the window held in the main one again (its text sits at other positions there):
        # counting only what the main slot lacks, steps that could not finish in a pause ran
        # at every pause of the editor loop, 4-8 s a session that no request used.
        new = self._meters.memory(model, lane).cost(a.request.prompt)
        if new > GROWTH * self._sizer.cold_chars(model):
            self._sizer.drop_wider(model)
            return  # would outlast a pause; interrupted, it would cost the window held now
        one_slot = lane == self._meters.lane(model)
        if (one_slot or len(self.pauses) >= PAUSE_EVIDENCE) and not self._lasts(model, new):
            # in the one slot, cut off by typing it would cost the window held there too; in
            # a spare one its steps wait for a pause long enough to finish them, while the
            # typing grows what is left (early on, with the user's pauses unknown, it goes:
            # cut off, it costs the window held nothing). Look again while the pause goes
            # on: a longer one is likelier to last.
            self._look_again()
            return
        self._stop = False
        self.task = asyncio.create_task(self._run(a, place, lane))

    def _look_again(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(PREFILL_IDLE_S / 2, self._start)

    def _lasts(self, model: str, chars: int) -> bool:
        """Whether the pause now will likely last while ``chars`` of prompt are prefilled, at
        the pace steps have been taking."""
        if self._quiet_since is None:
            return False
        step = self._step.get(model) or self._sizer.step_chars(model)
        seconds = chars / step * BACKGROUND_STEP_S
        return likely_to_last(self.pauses, self._clock() - self._quiet_since, seconds)

    def _lane(self, place: Place) -> int:
        """Where the wider window grows: the spare lane when the model has one (cut off by
        typing, it leaves the main lane's window alone and the next pause goes on with it);
        else the main lane, whose window it then replaces."""
        model = place.profile.model
        main = self._meters.lane(model)
        return 1 - main if place.profile.lanes > 1 and self._meters.spare_kept(model) else main

    async def _run(self, a: Assembly, place: Place, lane: int) -> None:
        self._stats.prefills += 1
        self._background.prefill_started.set()
        prompt, model = a.request.prompt, a.request.model
        slot = self._meters.memory(model, lane)
        with contextlib.suppress(ProviderError):
            while not self._stop and self._places.last() is place:
                held = common_prefix_len(prompt, slot.text)
                if held >= len(prompt):
                    self._done(model, lane)
                    return
                step = self._step.get(model) or self._sizer.step_chars(model)
                end = step_end(prompt, held, step)
                request = replace(
                    a.request, prompt=prompt[:end], max_tokens=1, lane=lane, logprobs=False
                )
                flight = Flight(model, a.windows.prefix, a.windows.suffix, request.prompt)
                self._stats.prefill_steps += 1
                started = self._clock()
                await self._streamer.stream(request, flight, lambda _chunk: False, background=True)
                self._learn(model, end - held, self._clock() - started)
                if end == len(prompt):
                    self._done(model, lane)
                    return

    def _done(self, model: str, lane: int) -> None:
        """The wider window is in ``lane``: completions go there now."""
        self._meters.promote(model, lane)
        self._background.prefill_done.set()

    def _learn(self, model: str, chars: int, seconds: float) -> None:
        size = next_step(chars, seconds)
        if size is not None:
            self._step[model] = size


def next_step(chars: int, seconds: float) -> int | None:
    """The size of the next prefill step after one of ``chars`` took ``seconds``: scaled to
    take ``BACKGROUND_STEP_S``, at most 4 times larger. A step of a few dozen tokens runs far
    below the prompt speed learned from big prompts (a request's own overhead, small
    batches), so sizing steps by that speed made steps that held a request up longer."""
    if seconds <= 0 or chars <= 0:
        return None
    return max(MIN_STEP_CHARS, min(4 * chars, int(chars * BACKGROUND_STEP_S / seconds)))
