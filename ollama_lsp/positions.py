"""LSP positions (line + character in the negotiated encoding) to code-point offsets.

Clients count ``character`` in UTF-16 code units by default, UTF-8 bytes (Neovim 0.11+) or
code points (Eglot), whichever was negotiated. Getting this wrong shifts the cursor after
any accent or emoji, and the model then completes the wrong text. Per the LSP spec, a
character past the end of its line means the end of the line; a *line* past the end of the
document is an error the client should hear about.

Cost is O(text before the cursor) with C-speed string scans and no per-line Python loop, so
a multi-megabyte document stays cheap. Lines end at ``\\n`` or ``\\r\\n`` (a lone ``\\r``, the
pre-2001 Mac convention, is not treated as a line end).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["utf-8", "utf-16", "utf-32"]


class PositionError(ValueError):
    """The position does not exist in the document."""


@dataclass(frozen=True, slots=True)
class Cursor:
    offset: int
    #: The position's character, clamped to the line, in the client's units.
    character: int
    line_start: int
    line_end: int


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the client's units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
    return len(text)


def index_in_line(line: str, character: int, encoding: str) -> int:
    """Code-point index in ``line`` for a ``character`` in client units (clamped)."""
    if encoding == "utf-32":
        return min(character, len(line))
    if encoding == "utf-16" and line.isascii():
        return min(character, len(line))
    seen = 0
    for index, ch in enumerate(line):
        if seen >= character:
            return index
        code = ord(ch)
        if encoding == "utf-8":
            seen += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:
            seen += 2 if code > 0xFFFF else 1
    return len(line)


def cursor_at(text: str, line: int, character: int, encoding: str = "utf-16") -> Cursor:
    """Where ``(line, character)`` falls in ``text``."""
    if line < 0 or character < 0:
        raise PositionError(f"position {line}:{character} is negative")
    start = 0
    if line > 0:
        rest = text.split("\n", line)
        if len(rest) <= line:
            raise PositionError(
                f"line {line} is past the end of the document, which has {len(rest)} lines"
            )
        start = len(text) - len(rest[-1])
    end = text.find("\n", start)
    if end < 0:
        end = len(text)
    elif end > start and text[end - 1] == "\r":
        end -= 1
    line_text = text[start:end]
    index = index_in_line(line_text, character, encoding)
    clamped = character if index < len(line_text) else min(character, units(line_text, encoding))
    return Cursor(offset=start + index, character=clamped, line_start=start, line_end=end)
