"""Identifiers of a line of code, without the words every file shares.

Both the similarity source and the definitions lookup compare identifiers. Keywords and a
few names found in nearly every window (``self``, ``return``, ``const``...) would make any
two windows look alike and would cost time in every lookup, so they are dropped here once.
Results are cached per line text: a keystroke re-indexes a file, but almost all of its lines
are unchanged strings already seen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Identifiers of two characters or more: single letters are loop counters, not clues.
MEANINGFUL = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]+")

#: Keywords of the languages we index, and names too common to say anything.
COMMON: frozenset[str] = frozenset(
    """
    and as assert async await break case catch class const continue def default del do elif
    else enum except export extends false finally for from func function go if impl import in
    interface is lambda let loop match mod module mut new nil none not null or package pass
    pub raise return self static struct super switch this throw true try type typeof var void
    while with yield fn use where int str bool float string err len range print None True
    False Self
    """.split()  # noqa: SIM905 - a word list reads better than 80 quoted strings
)

_AT_END = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\Z")
_CACHE_LIMIT = 200_000
_line_cache: dict[str, frozenset[str]] = {}


def line_identifiers(line: str) -> frozenset[str]:
    """The distinct, meaningful identifiers of ``line`` (cached by the line's text)."""
    found = _line_cache.get(line)
    if found is None:
        found = frozenset(MEANINGFUL.findall(line)).difference(COMMON)
        if len(_line_cache) >= _CACHE_LIMIT:
            _line_cache.clear()  # a crude bound; the next index rebuild refills it
        _line_cache[line] = found
    return found


def window_identifiers(lines: Sequence[str], start: int, stop: int) -> frozenset[str]:
    """The union of the identifiers of ``lines[start:stop]``."""
    return frozenset().union(*(line_identifiers(line) for line in lines[start:stop]))


def nearest_first(text: str) -> list[str]:
    """Distinct meaningful identifiers of ``text``, the one nearest its end first."""
    seen: dict[str, None] = {}
    for word in reversed(MEANINGFUL.findall(text)):
        if word not in COMMON:
            seen.setdefault(word, None)
    return list(seen)


def partial_at_end(text: str) -> str | None:
    """The identifier the cursor is in the middle of typing, if ``text`` ends inside one."""
    match = _AT_END.search(text)
    return match.group(0) if match else None
