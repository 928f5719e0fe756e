"""Speculation: right after a suggestion is shown, the suggestion that would follow it (as
if accepted) is generated into the cache, only when its new prompt costs no more than one
background step (``PromptSizer.step_chars``) and nothing else is running (no request, no
prefill); the request that comes after the user accepts finds it cached (same prompt, so
same key) or follows it. Any real request cancels it (a generation stops at the next token).

It is only reused if the user takes the shown suggestion whole, so it runs only when the
model was sure of that suggestion: the probability it gave the suggestion's tokens is at
least ``SURE`` (``logprobs``, remembered with the suggestion: ``CompletionCache.sureness``).
Without them (a backend that sends none) nothing tells, and it runs as before. In the editor
loop (Qwen2.5-Coder 0.5B) it had run after nearly every suggestion: 54 times in a session, 6
of them on the right text.

No LSP and no HTTP here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..settings import Settings
from .background import Prefill
from .cache import CompletionCache
from .dispatch import Dispatcher
from .excerpt import Excerpt
from .meters import ModelMeters
from .prompt import Assembly
from .records import Places, Stats
from .sizing import PromptSizer

#: Speculate past a suggestion only when the model gave it at least this probability: the
#: speculation is reused only if the user takes the suggestion whole, and a model's own
#: probability of a whole suggestion tracks whether it is right.
SURE = 0.5


class Speculation:
    """Chooses what to generate after a shown suggestion, and counts the answers it saves."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        reusable: Callable[[], CompletionCache | None],
        places: Places,
        sizer: PromptSizer,
        meters: ModelMeters,
        dispatch: Dispatcher,
        prefill: Prefill,
        stats: Stats,
    ) -> None:
        self._settings = settings
        self._reusable = reusable
        self._places = places
        self._sizer = sizer
        self._meters = meters
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
        sure = cache.sureness(uri, shown)
        if sure is not None and sure < math.log(SURE):
            self._stats.speculations_unsure += 1
            return None  # likely not taken whole: nothing would reuse it
        cut = place.cut
        at = cut.offset
        after = Excerpt(cut.text[:at] + shown + cut.text[at:], at + len(shown), cut.first_line)
        a = self._sizer.assemble(place.profile, after, place)
        if cache.peek(a.key) is not None:
            return None
        model = a.request.model
        if self._meters.slot(model).cost(a.request.prompt) > self._sizer.step_chars(model):
            return None  # its prompt alone would hold a real request up longer than a step
        self._stats.speculations += 1
        self._keys.add(a.key)
        return a

    def used(self, key: str) -> None:
        """A cached answer under ``key`` was served: count it if speculation put it there."""
        if key in self._keys:
            self._keys.discard(key)
            self._stats.speculation_hits += 1
