"""Work no request waits on, done while Ollama is idle: prefill and speculation.

- **Prefill**: when the user pauses (``PREFILL_IDLE_S``), the big window at the last place
  asked about is evaluated with a one-token generation, so later suggestions there are cheap
  (Ollama keeps the evaluated prompt in the slot). It gives way at once to any real request.
- **Speculation**: right after a suggestion is shown, the suggestion that would follow it
  (as if accepted) is generated into the cache; the request that comes after the user
  accepts follows it or finds it cached. The engine starts it as an ordinary flight.

No LSP and no HTTP here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ..provider import ProviderError
from ..settings import Settings
from .cache import CompletionCache
from .dispatch import Dispatcher
from .excerpt import Excerpt
from .flights import Flight
from .prompt import Assembly, prefill_request
from .records import Background, Places, Stats
from .sizing import PromptSizer
from .streaming import Streamer

#: Quiet time in a document before its big window is prefilled.
PREFILL_IDLE_S = 0.8


class Prefill:
    """Prefills the widest prompt at the last place after a pause, when it is not cheap yet."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        places: Places,
        sizer: PromptSizer,
        streamer: Streamer,
        dispatch: Dispatcher,
        stats: Stats,
        background: Background,
    ) -> None:
        self._settings = settings
        self._places = places
        self._sizer = sizer
        self._streamer = streamer
        self._dispatch = dispatch
        self._stats = stats
        self._background = background
        self._timer: asyncio.TimerHandle | None = None
        #: The running (or last) prefill.
        self.task: asyncio.Task[None] | None = None

    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def hold(self) -> None:
        """A request came: no prefill now (a running one gives way when the request starts)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def arm(self) -> None:
        """A request was answered: prefill once the user has paused for ``PREFILL_IDLE_S``."""
        if not self._settings().completion.prefill:
            return
        self.hold()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(PREFILL_IDLE_S, self._start)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def _start(self) -> None:
        self._timer = None
        busy = self._dispatch.busy() or self._dispatch.late
        if busy or self.running():
            return
        place = self._places.last()
        if place is None or place.profile.model != self._settings().model:
            return
        a = self._sizer.widest(place.profile, place.cut, place)  # a pause: refresh its block
        if self._sizer.cheap(a):
            return  # already cheap: nothing to gain
        self.task = asyncio.create_task(self._run(a))

    async def _run(self, a: Assembly) -> None:
        self._stats.prefills += 1
        self._background.prefill_started.set()
        request = prefill_request(a)
        flight = Flight(request.model, a.windows.prefix, a.windows.suffix, request.prompt)
        with contextlib.suppress(ProviderError):
            await self._streamer.stream(request, flight, lambda _chunk: False)
            self._background.prefill_done.set()


class Speculation:
    """Chooses what to generate after a shown suggestion, and counts the answers it saves."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        reusable: Callable[[], CompletionCache | None],
        places: Places,
        sizer: PromptSizer,
        dispatch: Dispatcher,
        prefill: Prefill,
        stats: Stats,
    ) -> None:
        self._settings = settings
        self._reusable = reusable
        self._places = places
        self._sizer = sizer
        self._dispatch = dispatch
        self._prefill = prefill
        self._stats = stats
        #: Cache keys filled by speculation and not used yet (to count what it saves).
        self._keys: set[str] = set()

    def after(self, uri: str, shown: str) -> Assembly | None:
        """The prompt to generate while idle, ``shown`` having just been shown at the last
        place in ``uri`` — as if accepted; None when nothing should run."""
        place = self._places.get(uri)
        cache = self._reusable()
        if cache is None or not self._settings().completion.speculate or place is None:
            return None
        if self._dispatch.busy() or self._prefill.running():
            return None
        cut = place.cut
        at = cut.offset
        after = Excerpt(cut.text[:at] + shown + cut.text[at:], at + len(shown), cut.first_line)
        a = self._sizer.assemble(place.profile, after, place)
        if cache.peek(a.key) is not None:
            return None
        self._stats.speculations += 1
        self._keys.add(a.key)
        return a

    def used(self, key: str) -> None:
        """A cached answer under ``key`` was served: count it if speculation put it there."""
        if key in self._keys:
            self._keys.discard(key)
            self._stats.speculation_hits += 1
