"""Cursor → prefix/suffix windows within a budget, cut at line boundaries.

Two costs shape this module:

* **Our cost.** Work is O(window), never O(document): only bounded slices are scanned with
  C-speed ``str.rfind``/``find``/``count``, so a 2 MB file costs what a small one does.
* **Ollama's cost.** Ollama reuses the longest start of the previous prompt it evaluated and
  only evaluates the rest. A window whose start slid with every keystroke would make it
  re-evaluate the whole prompt each time. So the start is *anchored*: the earliest allowed start
  (by character budget and by ``prefix_lines``) is rounded up to a multiple of ``anchor_chars``
  and then to the next line start. It only moves when the cursor has travelled a whole
  anchor (a quarter of the budget by default), and the window stays between ¾ and all of the
  budget (less what moving to an outer line drops, below).
* **The model's view.** A window that begins inside the block above (the last lines of the
  previous function) shows a small model a fragment of other code as the start of the file.
  The start moves down to the window's first line at its least indentation (the enclosing
  definition, say) when that drops at most ``OUTER_SHARE`` of the window.
"""

from __future__ import annotations

from dataclasses import dataclass

#: At most this share of a prefix window is dropped to start it at an outer line.
#: In the editor loop (Qwen2.5-Coder 0.5B, unhurried, one seed), a window whose first lines
#: were the end of the function above accepted 64 characters; one that started inside the
#: function being typed, 88.
OUTER_SHARE = 0.4


@dataclass(frozen=True, slots=True)
class ContextBudget:
    max_prefix_chars: int
    max_suffix_chars: int
    prefix_lines: int
    suffix_lines: int
    #: The prefix start moves in steps of this many characters (0: a quarter of the budget).
    anchor_chars: int = 0

    @property
    def anchor(self) -> int:
        return self.anchor_chars or max(64, self.max_prefix_chars // 4)


def budget_for(
    context_tokens: int,
    max_tokens: int,
    prefix_lines: int,
    suffix_lines: int,
    *,
    chars_per_token: float = 3.0,
    reserve_tokens: int = 64,
) -> ContextBudget:
    """Character budgets for a model's context window minus the tokens it will generate.

    Code averages 3–4 characters per token; 3 errs on the short side so the prompt is not
    truncated from the front by Ollama (which it would do silently). A quarter of the
    budget goes to the suffix, the rest to the prefix.
    """
    tokens = max(128, context_tokens - max_tokens - reserve_tokens)
    chars = int(tokens * chars_per_token)
    suffix = chars // 4
    return ContextBudget(chars - suffix, suffix, prefix_lines, suffix_lines)


@dataclass(frozen=True, slots=True)
class Windows:
    prefix: str
    suffix: str
    #: Offset in the document where ``prefix`` starts.
    prefix_start: int
    line_before_cursor: str
    line_after_cursor: str
    prefix_truncated: bool
    suffix_truncated: bool


def build_windows(
    text: str, offset: int, *, budget: ContextBudget, start: int | None = None
) -> Windows:
    """The prompt windows around ``offset`` (a code-point offset into ``text``); the prefix
    from ``start`` when given (a line start at or before the cursor line's: a window the
    model already holds, kept while it grows with what is typed)."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end < 0:
        line_end = len(text)
    line_after = text[offset:line_end].removesuffix("\r")

    if start is None or not 0 <= start <= line_start:
        start = _prefix_start(text, offset, line_start, budget)
    suffix_end = _suffix_end(text, offset, line_end, budget)
    return Windows(
        prefix=text[start:offset],
        suffix=text[offset:suffix_end],
        prefix_start=start,
        line_before_cursor=text[line_start:offset],
        line_after_cursor=line_after,
        prefix_truncated=start > 0,
        suffix_truncated=suffix_end < len(text),
    )


def _prefix_start(text: str, offset: int, line_start: int, budget: ContextBudget) -> int:
    earliest = max(0, offset - budget.max_prefix_chars)
    by_lines = _nth_line_start_before(text, offset, budget.prefix_lines, earliest)
    earliest = max(earliest, by_lines)
    if earliest == 0:
        return 0
    anchor = budget.anchor
    # rounding up never drops the cursor line's start when the budget can hold it
    latest = line_start if earliest <= line_start else offset
    start = min(latest, -(-earliest // anchor) * anchor)
    if start != 0 and text[start - 1] != "\n":
        newline = text.find("\n", start, offset)
        if newline < 0:
            return start  # one very long line: cut inside it
        start = newline + 1
    return _outer_start(text, start, line_start)


def _outer_start(text: str, start: int, line_start: int) -> int:
    """``start`` moved down to ``outer_line`` when that drops at most ``OUTER_SHARE`` of the
    window (else ``start``): the window then begins at a line that opens a block, not inside
    one."""
    limit = start + int(OUTER_SHARE * (line_start - start))
    best = outer_line(text, start, line_start)
    return best if best <= limit else start


def outer_line(text: str, start: int, line_start: int) -> int:
    """The first line at or after ``start`` (a line start) at the least indentation of the
    lines before ``line_start`` (the cursor line's start); ``start`` when none has text.
    Lines that start with a closing bracket end a block, so they are not candidates (``}``
    then ``function next() {``: the window starts at the function)."""
    best, least = start, None
    pos = start
    while pos < line_start:
        end = text.find("\n", pos, line_start)
        end = line_start if end < 0 else end
        line = text[pos:end]
        body = line.lstrip(" \t")
        if body.strip() and body[0] not in ")]}":
            indent = len(line) - len(body)
            if least is None or indent < least:
                best, least = pos, indent
        pos = end + 1
    return best


def _nth_line_start_before(text: str, offset: int, lines: int, floor: int) -> int:
    """Start of the line ``lines`` lines above the cursor line (not scanning below ``floor``)."""
    pos = offset
    for _ in range(lines + 1):
        found = text.rfind("\n", floor, pos)
        if found < 0:
            return floor
        pos = found
    return pos + 1


def _suffix_end(text: str, offset: int, line_end: int, budget: ContextBudget) -> int:
    """End of the suffix window: whole lines after the cursor line, within both budgets."""
    limit = min(len(text), offset + budget.max_suffix_chars)
    if line_end >= limit:
        return limit  # the cursor line alone fills the budget: cut inside it
    end = line_end
    for _ in range(budget.suffix_lines):
        nxt = text.find("\n", end + 1)
        if nxt < 0:
            return len(text) if len(text) <= limit else end + 1
        if nxt >= limit:
            break
        end = nxt
    return end + 1  # keep the last whole line's line break
