"""From a model's answer to the suggestion shown: a tuple of small filters run in order.

Each filter is ``(text, spot) -> text``, named for what it does, and gives ``""`` when
nothing is worth showing (``finalize`` then stops). The order matters in a few places: stop
strings are cut on the model's own text before special strings are restored (a restored
``</s>`` is the user's text, not a stop); healing is undone before any rule that looks at
where the text starts; the one-line and block rules run before the rules that compare the
suggestion with the rest of the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import special
from .closers import first_duplicate_closer
from .endings import block_end, limit_lines, one_line
from .healing import is_word_char, rewrite_end
from .spot import Spot, indent_width

Filter = Callable[[str, Spot], str]

_CLOSERS = {")": "(", "]": "[", "}": "{"}
_OPENERS = set(_CLOSERS.values())


def cut_at_stop(text: str, spot: Spot) -> str:
    """Up to the first of the active template's stop strings, and only those.

    Strings of other families are text for this model (``</s>`` in HTML, ``<|file_sep|>`` in
    a CodeLlama suggestion); the model's own end of generation is handled by Ollama.
    """
    end = first_stop(text, spot.stop)
    return text if end is None else text[:end]


def first_stop(text: str, stop: tuple[str, ...]) -> int | None:
    """Index of the earliest stop string in ``text``, if any."""
    found = [i for s in stop if s and (i := text.find(s)) >= 0]
    return min(found) if found else None


def restore_specials(text: str, spot: Spot) -> str:
    """Undo ``special.neutralise``: the model copies the user's neutralised text."""
    return special.restore(text)


def strip_healed(text: str, spot: Spot) -> str:
    """Keep only answers that begin with what token healing took off the prompt, minus it."""
    if not spot.healed:
        return text
    end = rewrite_end(text, spot.healed, lenient=spot.lenient_heal)
    return "" if end is None else text[end:]


def drop_extra_leading_space(text: str, spot: Spot) -> str:
    """After whitespace, a suggestion that starts with more whitespace is moved to the cursor.

    This is a token-boundary artefact (`` \"\"\"`` is one token to a BPE vocabulary, so a
    model continuing after spaces adds one more); the content after it is what the model
    meant, so it is kept rather than dropped, at the indentation the user already chose. In
    a block the artefact usually touches the first token only (SmolLM2 writes `` for`` after
    8 spaces, then its next line at a correct 12); the lines after the first lose the same
    extra indentation only when that is what puts them on the indentation grid of the
    cursor's column (a model that shifted the whole block).
    """
    if spot.line_before_cursor[-1:] not in (" ", "\t"):
        return text
    first, newline, rest = text.partition("\n")
    extra = first[: len(first) - len(first.lstrip(" \t"))]
    if not extra or not first.strip():
        return text
    if not newline:
        return first[len(extra) :]
    later = rest.split("\n")
    shifted = [line.removeprefix(extra) for line in later]
    unit = _indent_unit(indent_width(spot.line_before_cursor))
    if _on_grid(later, unit) and not _on_grid(shifted, unit):
        shifted = later
    return first[len(extra) :] + "\n" + "\n".join(shifted)


def _indent_unit(column: int) -> int:
    return 4 if column % 4 == 0 else 2 if column % 2 == 0 else 1


def _on_grid(lines: list[str], unit: int) -> bool:
    return all(indent_width(line) % unit == 0 for line in lines if line.strip())


def keep_one_line(text: str, spot: Spot) -> str:
    """Single-line mode: one line, maybe after a newline at the end of a complete line."""
    return text if spot.multiline else one_line(text, spot).keep


def limit_length_and_repetition(text: str, spot: Spot) -> str:
    """Each line within the length and repetition limits (see ``endings.limit_line``)."""
    return limit_lines(text).keep


def cut_block(text: str, spot: Spot) -> str:
    """Multi-line mode: the block's lines (see ``block_end``)."""
    if not spot.multiline:
        return text
    lines = text.split("\n")
    return "\n".join(lines[: block_end(text, spot, final=True)])


def drop_repeated_next_line(text: str, spot: Spot) -> str:
    """Drop a last line equal to the suffix's next line (``}`` when the stream ended on it)."""
    if not spot.multiline:
        return text
    head, newline, last = text.rstrip().rpartition("\n")
    if newline and last.strip() and last.rstrip() == spot.next_line:
        return head
    return text


def strip_trailing_space(text: str, spot: Spot) -> str:
    """Trailing whitespace is never worth inserting."""
    return text.rstrip()


def drop_suffix_overlap(text: str, spot: Spot) -> str:
    """Remove the end of ``text`` that the rest of the cursor line already provides.

    Our whitespace before the cut goes only when the suffix brings its own.
    """
    line_after = spot.line_after_cursor
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


def drop_closed_closers(text: str, spot: Spot) -> str:
    """Cut at the first closer or closing quote the rest of the line already has."""
    end = first_duplicate_closer(text, spot.line_before_cursor, spot.line_after_cursor)
    return text if end is None else text[:end]


def drop_broken_word(text: str, spot: Spot) -> str:
    """``""`` when the suggestion would glue its last word to a word right after the cursor."""
    after = spot.line_after_cursor[:1]
    if text and after and is_word_char(text[-1]) and is_word_char(after):
        return ""
    return text


def drop_suffix_echo(text: str, spot: Spot) -> str:
    """``""`` when the model only repeated what is already after the cursor."""
    return "" if spot.suffix.lstrip().startswith(text.strip()) else text


#: How many non-blank lines below the cursor line count as "the code that follows".
FOLLOWING_LINES = 8


def drop_copy_of_lines_below(text: str, spot: Spot) -> str:
    """``""`` when every line the suggestion adds is already one of the next lines below.

    Where the code is already complete, a fill-in-the-middle model with nothing to add often
    copies a line it sees a little further down (Qwen2.5-Coder 0.5B writes the function's
    own ``return text`` after its first statement): the code would run twice, or what
    follows would become dead. The lines below are the document's, not the suffix window's
    (a slow model's can be one line). Lines are compared with their indentation; a
    suggestion with one line of its own is kept whole, and one that goes on the cursor line
    is not a copy of a line.
    """
    first, _, _ = text.partition("\n")
    if first.strip() and spot.line_before_cursor.strip():
        return text
    added = (spot.line_before_cursor + text).split("\n")[0 if first.strip() else 1 :]
    following = set(spot.lines_below(FOLLOWING_LINES))
    kept = [line.rstrip() for line in added if line.strip()]
    return "" if kept and all(line in following for line in kept) else text


_PY_OPENER = re.compile(
    r"^\s*(if|elif|else|for|while|def|class|with|try|except|finally|async|match|case)\b.*:$"
)


def _opens_block(line: str) -> bool:
    stripped = line.rstrip()
    return stripped.endswith("{") or bool(_PY_OPENER.match(stripped))


def drop_empty_block(text: str, spot: Spot) -> str:
    """Cut a new last line that opens a block whose body is not there.

    At a complete line's end a FIM model sometimes starts a new statement and stops at its
    header (Qwen2.5-Coder 0.5B: ``\n        if self.fix_sentence_endings is True:``): with
    the code below no deeper than the header, the file no longer parses. A header on the
    cursor's own line stays: the user is writing there and the body comes next.
    """
    lines = text.split("\n")
    while len(lines) > 1 and _opens_block(lines[-1]):
        below = spot.lines_below(1)
        if below and indent_width(below[0]) > indent_width(lines[-1]):
            break
        lines.pop()
    return "\n".join(lines)


def drop_blank(text: str, spot: Spot) -> str:
    """Whitespace alone is nothing to show."""
    return text if text.strip() else ""


FILTERS: tuple[Filter, ...] = (
    cut_at_stop,
    restore_specials,
    strip_healed,
    drop_extra_leading_space,
    keep_one_line,
    limit_length_and_repetition,
    cut_block,
    drop_repeated_next_line,
    strip_trailing_space,
    drop_suffix_overlap,
    drop_closed_closers,
    drop_broken_word,
    drop_suffix_echo,
    drop_copy_of_lines_below,
    drop_empty_block,
    drop_blank,
)


def finalize(text: str, spot: Spot) -> str:
    """The suggestion to show for the model's answer ``text`` at ``spot``; ``""``: nothing."""
    for step in FILTERS:
        text = step(text, spot)
        if not text:
            return ""
    return text
