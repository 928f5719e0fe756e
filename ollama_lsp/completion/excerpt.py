"""A bounded excerpt of whole lines around the cursor, starting at a line that rarely moves.

The engine never handles a whole document: it cuts an excerpt just big enough for the
prompt budget (by characters and by lines, on both sides) and gives that to ``context``,
so a completion in a 2 MB file costs what one in a small file does. The excerpt starts at a
multiple of ``STEP`` lines; offsets inside it, and so the anchored prompt start ``context``
computes from them, stay the same while the user types within the same stretch of lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .context import ContextBudget

STEP = 64


@dataclass(frozen=True, slots=True)
class Excerpt:
    text: str
    #: The cursor, as a code-point offset into ``text``.
    offset: int
    #: The document line ``text`` starts at.
    first_line: int


def excerpt(lines: Sequence[str], line: int, column: int, budget: ContextBudget) -> Excerpt:
    """Lines around ``(line, column)`` (a code-point column) covering ``budget``."""
    first, chars = line, column
    while first > 0 and line - first <= budget.prefix_lines and chars < budget.max_prefix_chars:
        first -= 1
        chars += len(lines[first]) + 1
    first -= first % STEP
    last, chars = line, len(lines[line]) - column
    while (
        last + 1 < len(lines)
        and last - line <= budget.suffix_lines
        and chars < budget.max_suffix_chars
    ):
        last += 1
        chars += len(lines[last]) + 1
    before = lines[first:line]
    offset = sum(map(len, before)) + len(before) + column
    return Excerpt("\n".join(lines[first : last + 1]), offset, first)
