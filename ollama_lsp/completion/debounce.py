"""How long to wait after a keystroke before asking the model: adaptive to the typist.

A fixed debounce is wrong for everyone: 150 ms is longer than a fast typist's gap between
keys only some of the time, so most words still cost several model calls, while a slow
typist waits for nothing. Editors ask on every keystroke, so the gaps between a document's
automatic requests *are* the typing rhythm. We wait for a multiple of the recent mean gap:
a request that outlives it means the typist paused, which is when a suggestion is wanted.

The multiple depends on where the cursor is (the idea comes from Tabby's agent; the weights
and rates here are ours): right after punctuation or a space, at the end of a line, or at the
end of the file a suggestion is likely useful, so we wait less; in the middle of a word in
the middle of a line the typist is rarely done, so we wait longer. The result is clamped
between the ``debounceMs`` floor and a ceiling, so a suggestion never lags far behind a pause;
``debounceMs: 0`` turns debouncing off altogether.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: Gaps longer than this are pauses, not rhythm; they are left out of the mean.
MAX_GAP_S = 1.5
#: Gaps remembered per document (enough for a stable mean, small enough to follow changes).
WINDOW = 24
#: Wait ``rate × mean gap``: from ``SLOWEST_RATE`` (nothing suggests the typist is done)
#: down to ``FASTEST_RATE`` (every sign says they are).
SLOWEST_RATE = 3.0
FASTEST_RATE = 1.2
#: Before a rhythm is known, assume a brisk typist (about 300 characters a minute).
DEFAULT_GAP_S = 0.2


def readiness(prefix: str, suffix: str) -> float:
    """0..1: how likely a suggestion is wanted at this cursor, from the text around it."""
    score = 0.0
    last = prefix[-1:]  # "" at the start of the file: not a word character either
    if not (last.isalnum() or last == "_"):
        score += 0.5  # after punctuation, an operator, a space, or at a line start
    if not suffix.partition("\n")[0].strip():
        score += 0.4  # nothing after the cursor on this line
    if not suffix.strip():
        score += 0.1  # nothing after the cursor in the file
    return min(score, 1.0)


@dataclass(slots=True)
class _Rhythm:
    last: float | None = None
    gaps: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))

    def tick(self, now: float) -> None:
        if self.last is not None and 0 <= now - self.last <= MAX_GAP_S:
            self.gaps.append(now - self.last)
        self.last = now

    def mean(self) -> float:
        return sum(self.gaps) / len(self.gaps) if self.gaps else DEFAULT_GAP_S


class Debouncer:
    """Per-document typing rhythm; tells the engine how long to wait before a model call."""

    def __init__(self) -> None:
        self._rhythms: dict[str, _Rhythm] = {}

    def keystroke(self, uri: str, now: float) -> None:
        """An automatic request arrived for ``uri`` (editors ask on every change)."""
        rhythm = self._rhythms.get(uri)
        if rhythm is None:
            rhythm = self._rhythms[uri] = _Rhythm()
        rhythm.tick(now)

    def delay(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        *,
        floor_s: float,
        ceiling_s: float,
        adaptive: bool = True,
    ) -> float:
        """Seconds to wait before asking; ``floor_s`` alone when not adaptive, 0 if it is 0."""
        if not adaptive or floor_s <= 0:
            return max(0.0, floor_s)
        rhythm = self._rhythms.get(uri)
        gap = rhythm.mean() if rhythm else DEFAULT_GAP_S
        rate = SLOWEST_RATE - (SLOWEST_RATE - FASTEST_RATE) * readiness(prefix, suffix)
        return min(max(gap * rate, floor_s), max(ceiling_s, floor_s))

    def forget(self, uri: str) -> None:
        self._rhythms.pop(uri, None)
