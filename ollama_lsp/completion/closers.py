"""Which closing bracket or quote of a suggestion the rest of the cursor line already has.

At ``text.expandtabs(▮self.tabsize)`` a model (above all one that never sees the suffix)
answers ``self.expand_tabs)``: accepting it gives ``…(self.expand_tabs)self.tabsize)``. The
rule: a suggestion is cut at its first closer that closes a bracket opened before the cursor
when the rest of the line closes that bracket too, and at a closing quote of a string opened
before the cursor when the rest of the line closes that string too.

A closer closes the innermost open bracket of its own kind (``)`` closes ``(`` even across an
unclosed ``[``), the way a reader pairs them in a half-written line. Brackets opened on
earlier lines are not visible here; a closer of the rest of the line that closes one of them
still counts, by kind. Strings do not span lines (a triple quote reads as a quote that opens,
closes and opens again, which pairs correctly).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_PAIRS = {")": "(", "]": "[", "}": "{"}
_QUOTES = "\"'`"


@dataclass(slots=True)
class _Line:
    """Brackets and string open at the cursor, and which of them the rest of the line closes."""

    opened: list[str] = field(default_factory=list)  # kinds, innermost last
    quote: str = ""  # the quote of a string open at the cursor
    closed_by_rest: set[int] = field(default_factory=set)  # indexes into ``opened``
    quote_closed_by_rest: bool = False
    outer_closed_by_rest: Counter[str] = field(default_factory=Counter)  # earlier-line brackets


def _innermost(opened: list[str], done: set[int], kind: str) -> int | None:
    """Index of the innermost still-open bracket of ``kind``, if any."""
    for i in range(len(opened) - 1, -1, -1):
        if i not in done and opened[i] == kind:
            return i
    return None


def _string_end(text: str, start: int, quote: str) -> int:
    """Index of the unescaped ``quote`` closing a string at ``start`` (-1: not on this line)."""
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "\n":
            return -1
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == quote:
            return i
    return -1


def _open_at_cursor(line_before: str) -> _Line:
    state = _Line()
    i = 0
    while i < len(line_before):
        ch = line_before[i]
        if ch in _QUOTES:
            end = _string_end(line_before, i + 1, ch)
            if end < 0:
                state.quote = ch
                break
            i = end
        elif ch in _PAIRS.values():
            state.opened.append(ch)
        elif ch in _PAIRS:
            found = _innermost(state.opened, set(), _PAIRS[ch])
            if found is not None:
                del state.opened[found:]
        i += 1
    return state


def _read_rest(state: _Line, line_after: str) -> None:
    """Mark what the rest of the line closes of what is open at the cursor."""
    i = 0
    if state.quote:
        end = _string_end(line_after, 0, state.quote)
        if end < 0:
            return
        state.quote_closed_by_rest = True
        i = end + 1
    depth: list[str] = []
    while i < len(line_after):
        ch = line_after[i]
        if ch in _QUOTES:
            end = _string_end(line_after, i + 1, ch)
            if end < 0:
                return
            i = end
        elif ch in _PAIRS.values():
            depth.append(ch)
        elif ch in _PAIRS:
            kind = _PAIRS[ch]
            if kind in depth:
                del depth[len(depth) - 1 - depth[::-1].index(kind) :]
            else:
                found = _innermost(state.opened, state.closed_by_rest, kind)
                if found is None:
                    state.outer_closed_by_rest[kind] += 1
                else:
                    state.closed_by_rest.add(found)
        i += 1


def first_duplicate_closer(text: str, line_before: str, line_after: str) -> int | None:
    """Index in ``text`` of its first closer that the rest of the line already provides."""
    state = _open_at_cursor(line_before)
    _read_rest(state, line_after)
    if not (state.closed_by_rest or state.quote_closed_by_rest or state.outer_closed_by_rest):
        return None
    closed_here: set[int] = set()
    own: list[str] = []
    i = 0
    if state.quote:
        end = _string_end(text, 0, state.quote)
        if end >= 0 and state.quote_closed_by_rest:
            return end
        if end < 0:
            return None
        i = end + 1
    while i < len(text):
        ch = text[i]
        if ch in _QUOTES:
            end = _string_end(text, i + 1, ch)
            if end < 0:  # unclosed on this line: go on at the next one
                newline = text.find("\n", i + 1)
                i = len(text) if newline < 0 else newline
                continue
            i = end
        elif ch in _PAIRS.values():
            own.append(ch)
        elif ch in _PAIRS:
            kind = _PAIRS[ch]
            if kind in own:
                del own[len(own) - 1 - own[::-1].index(kind) :]
            else:
                found = _innermost(state.opened, closed_here, kind)
                if found is None:
                    if state.outer_closed_by_rest[kind]:
                        return i
                elif found in state.closed_by_rest:
                    return i
                else:
                    closed_here.add(found)
        elif ch == "\n":
            own.clear()
        i += 1
    return None
