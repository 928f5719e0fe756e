"""Where a suggestion ends: the rules shared by the filters and the stream cutter.

Each rule looks at the text so far and says where the suggestion ends and whether more
streamed text could still change that (``final``). ``finalize`` applies them to the whole
answer; ``StreamCutter`` closes the stream as soon as they are final, so stopping early never
changes what is shown.

* **One line** (single-line mode): the rest of the cursor line's line. At the end of a
  complete line the model often answers a newline first, then the next line; that is
  allowed (at most one blank line in between) when nothing follows the cursor.
* **A block** (multi-line mode): ends at a blank line after content, at a line indented less
  than the block being written (after a block opener, at a line back at the opener's level;
  a closing bracket line is kept and ends it), when the model starts repeating the text
  after the cursor, or after ``max_lines``.
* **Length and repetition** (each line, in both modes): see ``limit_line``; a line over a
  limit is cut and ends the suggestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .spot import Spot, indent_width

MAX_LINES = 16
#: Longest single-line suggestion: code lines beyond 160 columns are rare; longer answers
#: are nearly always run-ons of a degenerate generation.
MAX_LINE_CHARS = 160
#: A unit of ``REPEAT_UNITS`` characters repeated back to back for more than
#: ``REPEAT_CHARS`` characters after its first copy is a loop (a timestamp repeated up to
#: ``num_predict``). Short units (``0, `` in ``[0, 0, 0, 0]``, ``=`` in a ``# ====`` rule)
#: and units of fewer than four different characters are how real code repeats, and pass.
REPEAT_UNITS = range(4, 41)
REPEAT_CHARS = 48
_CLOSERS = ")]}"
_REPEATS = {u: re.compile(rf"(.{{{u}}})\1{{{-(-REPEAT_CHARS // u)},}}", re.S) for u in REPEAT_UNITS}


@dataclass(frozen=True, slots=True)
class Cut:
    """The suggestion a rule keeps, and whether more text could still change it."""

    keep: str
    final: bool


def one_line(text: str, spot: Spot) -> Cut:
    """The single-line suggestion in ``text``: its first content line, maybe after newlines."""
    lines = text.split("\n")
    rest_of_line = bool(spot.line_after_cursor.strip())
    k = next((i for i, line in enumerate(lines) if line.strip()), None)
    if k is None:
        newlines = len(lines) - 1
        return Cut("", newlines > 0 and (rest_of_line or newlines > 2))
    if k and (rest_of_line or k > 2):
        return Cut("", True)  # a newline would split the line, or too many blank lines
    complete = k < len(lines) - 1
    return Cut("\n" * k + lines[k] if k else lines[0], complete)


def limit_line(line: str) -> Cut:
    """``line`` within the length and repetition limits.

    A repetition is cut after its first copy (which may well be right); an over-long line is
    cut back to its last space before the limit (the part shown is still what the model
    meant, and can be accepted word by word), or dropped when it has none.
    """
    start = _first_repetition(line[: MAX_LINE_CHARS + 1])
    if start is not None:
        return Cut(line[:start].rstrip(), True)
    if len(line) <= MAX_LINE_CHARS:
        return Cut(line, False)
    space = line.rfind(" ", 0, MAX_LINE_CHARS + 1)
    kept = line[:space].rstrip() if space > 0 else ""
    return Cut(kept if kept.strip() else "", True)


def limit_lines(text: str, *, start: int = 0) -> Cut:
    """``text`` cut at its first line (from line ``start`` on) over a limit of ``limit_line``."""
    lines = text.split("\n")
    for i in range(start, len(lines)):
        cut = limit_line(lines[i])
        if cut.final:
            return Cut(
                "\n".join([*lines[:i], cut.keep]) if cut.keep else "\n".join(lines[:i]), True
            )
    return Cut(text, False)


def _first_repetition(line: str) -> int | None:
    """Where the second copy of the earliest looping unit starts, if any."""
    best: int | None = None
    for size, pattern in _REPEATS.items():
        for found in pattern.finditer(line):
            unit = found[1]
            primitive = (unit + unit).find(unit, 1) == size
            if primitive and len(set(unit)) >= 4:
                end = found.start() + size
                best = end if best is None else min(best, end)
                break
    return best


def block_end(text: str, spot: Spot, *, final: bool, max_lines: int = MAX_LINES) -> int | None:
    """How many lines of ``text`` the block keeps, or None while that is still open.

    ``final``: the text is the whole answer, so its last line is complete too.
    """
    lines = text.split("\n")
    finished = len(lines) if final else len(lines) - 1  # lines[i] is complete if i < this
    base = indent_width(spot.line_before_cursor)
    opener = spot.after_opener
    floor = base + 1 if opener else base  # indentation a line needs to belong to the block
    next_line = spot.next_line
    has_content = bool(lines[0].strip())
    for i in range(1, len(lines)):
        stripped = lines[i].strip()
        complete = i < finished
        if not stripped:
            if complete and has_content:
                return i
            continue
        if lines[i].rstrip() == next_line:
            return i if complete else None  # may still become something else: wait
        width = indent_width(lines[i])
        if opener and width <= base:
            if stripped[0] in _CLOSERS:  # the block's closing bracket ends it
                return i + 1 if complete else None
            return i
        if width < floor:
            return i
        has_content = True
        if i >= max_lines:
            return i
    return len(lines) if final else None
