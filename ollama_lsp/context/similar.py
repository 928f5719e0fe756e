"""Windows of other open files that look like the code at the cursor.

Each file is cut into fixed windows of ``size`` lines, one every ``size // 2`` lines (as
Copilot and llama.vim do), and each window is reduced to its set of identifiers. A query is
the identifier set of the last ``size`` lines before the cursor; a window's score is the
Jaccard similarity of the two sets. An inverted index (identifier -> windows holding it)
makes a query cost the number of windows that share an identifier with it, not the number
of windows: 50 files of 2,000 lines are about 8,000 windows, too many to compare one by one
within a pause.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from .identifiers import window_identifiers

#: Below this a window shares little more than the language's vocabulary with the query.
THRESHOLD = 0.12


@dataclass(frozen=True, slots=True)
class Match:
    score: float
    #: window lines ``[start, stop)`` of its file
    start: int
    stop: int


class WindowIndex:
    """The windows of one file and which identifiers each holds."""

    __slots__ = ("postings", "sizes", "spans")

    def __init__(self, lines: Sequence[str], size: int) -> None:
        # A window is two neighbouring half-windows (an odd ``size`` rounds down): each
        # line's identifiers are merged once per half, not once per window.
        step = max(1, size // 2)
        halves = [window_identifiers(lines, at, at + step) for at in range(0, len(lines), step)]
        self.spans: list[tuple[int, int]] = []
        self.sizes: list[int] = []
        self.postings: dict[str, list[int]] = {}
        postings = self.postings
        for number in range(max(1, len(halves) - 1)):
            start = number * step
            words = halves[number].union(*halves[number + 1 : number + 2])
            self.spans.append((start, min(len(lines), start + 2 * step)))
            self.sizes.append(len(words))
            for word in words:
                entry = postings.get(word)
                if entry is None:
                    postings[word] = [number]
                else:
                    entry.append(number)

    def matches(self, query: frozenset[str], threshold: float = THRESHOLD) -> list[Match]:
        """Windows whose Jaccard similarity with ``query`` is at least ``threshold``."""
        if not query:
            return []
        postings = self.postings
        shared = Counter(chain.from_iterable(postings[w] for w in query if w in postings))
        # score >= threshold  <=>  common * (1 + threshold) >= threshold * (size + |query|),
        # and size >= common, so windows sharing fewer than threshold * |query| words drop
        # out before any arithmetic on their size.
        q = len(query)
        least = threshold * q
        grow = 1 + threshold
        sizes, spans = self.sizes, self.spans
        found = []
        for number, common in shared.items():
            if common >= least and common * grow >= threshold * (sizes[number] + q):
                start, stop = spans[number]
                found.append(Match(common / (sizes[number] + q - common), start, stop))
        return found


def best_windows(matches: Iterable[Match], limit: int) -> list[Match]:
    """The ``limit`` best windows of one file that do not overlap each other; ties go to
    the earlier window, so the answer never depends on dict order."""
    chosen: list[Match] = []
    for match in sorted(matches, key=lambda m: (-m.score, m.start)):
        if all(match.stop <= c.start or c.stop <= match.start for c in chosen):
            chosen.append(match)
            if len(chosen) >= limit:
                break
    return chosen
