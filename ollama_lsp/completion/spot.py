"""Where a suggestion will be inserted: the one record every post-processing filter reads.

A filter needs the text around the cursor (to see what the line already closes, what the
suffix repeats), the mode (one line or a block), what token healing took off the prompt, and
the stop strings of the template in use. Gathering them in one frozen record keeps filters
``(text, spot) -> text`` functions that are tested with plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from .healing import after_indentation

_OPENER = re.compile(r"(?::|\{|\(|\[|=>|->|\bdo|\bthen|\belse)\s*$")


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a suggestion will be inserted: everything a filter may look at."""

    line_before_cursor: str
    line_after_cursor: str
    #: The document text after the cursor (the suffix window), starting with the line's rest.
    suffix: str
    multiline: bool
    #: Text token healing removed from the prompt's end; answers must start with it.
    healed: str = ""
    #: The active template's stop strings: only these cut a suggestion.
    stop: tuple[str, ...] = ()
    #: The document after the cursor as far as the excerpt goes: the suffix window can be a
    #: line or two when the model is slow, but what a suggestion repeats is judged on the
    #: code really there (the model never sees this). ``""``: the suffix window.
    document_suffix: str = ""

    @property
    def lenient_heal(self) -> bool:
        """The prompt ends in indentation: the model may write extra spaces before ``healed``."""
        return bool(self.healed) and after_indentation(self.line_before_cursor, self.healed)

    @property
    def after_opener(self) -> bool:
        """The cursor line ends in a block opener (``def f():``, ``{``, ``=>``...)."""
        return bool(self.line_before_cursor.strip()) and bool(
            _OPENER.search(self.line_before_cursor)
        )

    def lines_below(self, count: int) -> list[str]:
        """The first ``count`` non-blank lines after the cursor line in the document, without
        trailing space."""
        text = self.document_suffix or self.suffix
        lines = (line.rstrip() for line in text.split("\n")[1:] if line.strip())
        return list(islice(lines, count))

    @property
    def next_line(self) -> str | None:
        """The first non-blank line after the cursor line, without trailing space (None at
        the end). Compared with indentation: an inner ``}`` is not the block's ``}``."""
        after = (line for line in self.suffix.split("\n")[1:] if line.strip())
        line = next(after, None)
        return None if line is None else line.rstrip()


def wants_multiline(line_before_cursor: str, line_after_cursor: str) -> bool:
    """Multi-line on an empty line or right after a block opener; single-line otherwise."""
    if line_after_cursor.strip():
        return False
    if not line_before_cursor.strip():
        return True
    return bool(_OPENER.search(line_before_cursor))


def indent_width(line: str) -> int:
    """Columns of leading whitespace, a tab counting as four (enough to compare lines)."""
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))
