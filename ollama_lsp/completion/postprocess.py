"""From raw model output to a suggestion worth showing — and knowing when to stop early.

``StreamCutter`` watches the stream so the engine can close it as soon as the suggestion is
complete instead of waiting for ``num_predict`` tokens (the rest would be generated, paid
for in time and battery, then thrown away). Its rules:

* single-line mode (cursor mid-line, or after a statement): stop at the first line break
  after some content;
* multi-line mode (cursor on an empty line or right after a block opener): stop at a blank
  line after content, at a line indented less than the block being written (for a block
  opener, at a line back at the opener's level — a closing bracket line is kept and ends
  the block), when the model starts repeating the text after the cursor, or after
  ``max_lines``;
* any FIM or end-of-text token ends it.

``finalize`` then strips special tokens and trailing space, removes the part of the
suggestion that the text after the cursor already contains (``foo(a))`` before ``)``), drops
closing brackets the suffix already closes, and answers ``""`` for nothing useful.
"""

from __future__ import annotations

import functools
import re

from .templates import SPECIAL_TOKENS

_OPENER = re.compile(r"(?::|\{|\(|\[|=>|->|\bdo|\bthen|\belse)\s*$")
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_OPENERS = set(_CLOSERS.values())


def wants_multiline(line_before_cursor: str, line_after_cursor: str) -> bool:
    """Multi-line on an empty line or right after a block opener; single-line otherwise."""
    if line_after_cursor.strip():
        return False
    if not line_before_cursor.strip():
        return True
    return bool(_OPENER.search(line_before_cursor))


def indent_width(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def cut_at_special(text: str, tokens: tuple[str, ...] = SPECIAL_TOKENS) -> tuple[str, bool]:
    """``text`` up to the first special token, and whether one was found."""
    found = _special_pattern(tokens).search(text)
    return (text, False) if found is None else (text[: found.start()], True)


@functools.lru_cache(maxsize=32)
def _special_pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """One scan for all tokens (this runs on every streamed chunk); longest first on ties."""
    alternatives = [re.escape(t) for t in sorted(tokens, key=len, reverse=True) if t]
    return re.compile("|".join(alternatives) if alternatives else r"(?!)")


class StreamCutter:
    """Accumulates streamed text; ``feed`` returns True once the suggestion is complete."""

    def __init__(
        self,
        *,
        line_before_cursor: str,
        suffix: str,
        multiline: bool,
        stop_tokens: tuple[str, ...] = (),
        max_lines: int = 16,
    ) -> None:
        self.multiline = multiline
        self.max_lines = max_lines
        self._tokens = tuple(dict.fromkeys((*stop_tokens, *SPECIAL_TOKENS)))
        self._raw = ""
        self.text = ""
        self.done = False
        base = indent_width(line_before_cursor)
        self._opener = bool(_OPENER.search(line_before_cursor)) and bool(line_before_cursor.strip())
        # the indentation a line needs to still belong to what is being written
        self._floor = base + 1 if self._opener else base
        self._opener_indent = base
        after = [line for line in suffix.split("\n")[1:] if line.strip()]
        self._next_line = after[0].strip() if after else None

    def feed(self, piece: str) -> bool:
        if self.done:
            return True
        self._raw += piece
        text, special = cut_at_special(self._raw, self._tokens)
        self.text = text
        if special:
            self.done = True
        if self.multiline:
            self._cut_block()
        else:
            self._cut_line()
        return self.done

    def _cut_line(self) -> None:
        head, newline, _ = self.text.partition("\n")
        if newline:
            self.text, self.done = head, True

    def _cut_block(self) -> None:
        lines = self.text.split("\n")
        finished = len(lines) if self.done else len(lines) - 1  # lines[i] complete if i < this
        has_content = bool(lines[0].strip())
        for i in range(1, len(lines)):
            stripped = lines[i].strip()
            complete = i < finished
            if not stripped:
                if complete and has_content:
                    return self._keep(lines[:i])
                continue
            if stripped == self._next_line:
                if complete:
                    return self._keep(lines[:i])  # repeating the text after the cursor
                return None  # wait: it may still turn into something else
            width = indent_width(lines[i])
            if self._opener and width <= self._opener_indent:
                if stripped[0] in _CLOSERS:  # the block's closing bracket ends it
                    return self._keep(lines[: i + 1]) if complete else None
                return self._keep(lines[:i])
            if width < self._floor:
                return self._keep(lines[:i])
            has_content = True
            if i >= self.max_lines:
                return self._keep(lines[:i])
        return None

    def _keep(self, lines: list[str]) -> None:
        self.text = "\n".join(lines)
        self.done = True
        return None


def finalize(text: str, *, line_before_cursor: str, suffix: str, multiline: bool) -> str:
    """The suggestion to show, or ``""``."""
    text, _ = cut_at_special(text)
    text = _drop_repeated_next_line(text, suffix) if multiline else text.split("\n", 1)[0]
    text = text.rstrip()
    if not text.strip():
        return ""
    text = _drop_suffix_overlap(text, suffix.split("\n", 1)[0])
    if not text.strip():
        return ""
    if suffix.lstrip().startswith(text.strip()):
        return ""  # the model only repeated what is already after the cursor
    return text


def _drop_repeated_next_line(text: str, suffix: str) -> str:
    """Drop a last line equal to the suffix's next line (``}`` when the stream ended on it)."""
    head, newline, last = text.rstrip().rpartition("\n")
    after = next((line for line in suffix.split("\n")[1:] if line.strip()), None)
    if newline and last.strip() and after is not None and last.rstrip() == after.rstrip():
        return head
    return text


def _drop_suffix_overlap(text: str, line_after: str) -> str:
    """Remove the end of ``text`` that the rest of the cursor line already provides.

    Our whitespace before the cut goes only when the suffix brings its own.
    """
    rest_of_line = line_after.strip()
    if not rest_of_line:
        return text
    unmatched = _unmatched_closers(text)
    for size in range(len(rest_of_line), 0, -1):
        tail = rest_of_line[:size]
        if not text.endswith(tail):
            continue
        brackets_only = all(c in _CLOSERS or c in ",;: " for c in tail)
        if (brackets_only and unmatched >= sum(c in _CLOSERS for c in tail)) or (
            not brackets_only and len(tail.strip()) >= 2
        ):
            kept = text[: -len(tail)]
            return kept.rstrip() if not brackets_only and line_after[:1].isspace() else kept
    return text


def _unmatched_closers(text: str) -> int:
    """Closing brackets in ``text`` that close something opened before the suggestion."""
    depth = unmatched = 0
    quote = ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            if depth:
                depth -= 1
            else:
                unmatched += 1
    return unmatched
