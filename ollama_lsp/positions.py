"""LSP positions (line + character in the negotiated encoding) to places in a list of lines.

Clients count ``character`` in UTF-16 code units by default, UTF-8 bytes (Neovim 0.11+) or
code points (Eglot), whichever was negotiated. Getting this wrong shifts the cursor after
any accent or emoji, and the model then completes the wrong text. Per the LSP spec, a
character past the end of its line means the end of the line; a *line* past the end of the
document is an error the client should hear about.

Documents are kept as lists of lines (see ``documents``), split where LSP ends a line: at
``\\n``, ``\\r\\n`` and a lone ``\\r`` (the pre-2001 Mac convention, which editors still
honour). A line ended by ``\\r\\n`` or ``\\r`` keeps its ``\\r``, which is not part of the
line's content (a position never points after it). Only the cursor's own line is scanned,
so a multi-megabyte document costs what a small one does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

Encoding = Literal["utf-8", "utf-16", "utf-32"]
_ENCODINGS: frozenset[str] = frozenset(("utf-8", "utf-16", "utf-32"))


def encoding_name(kind: object) -> Encoding:
    """The negotiated encoding as a plain name; UTF-16 (LSP's default) when none was.

    pygls hands over either a string or a ``PositionEncodingKind``, a ``str`` enum whose
    ``str()`` is ``'PositionEncodingKind.Utf16'``, not ``'utf-16'``: compared as a string it
    matches no encoding and positions would be counted in code points.
    """
    name = kind.value if isinstance(kind, Enum) else kind
    return name if name in _ENCODINGS else "utf-16"  # type: ignore[return-value]


class PositionError(ValueError):
    """The position does not exist in the document."""


@dataclass(frozen=True, slots=True)
class Cursor:
    line: int
    #: Code-point index into the line's content.
    column: int
    #: The position's character, clamped to the line, in the client's units.
    character: int


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the client's units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
    return len(text)


def content(line: str) -> str:
    """A stored line without the ``\\r`` of a CRLF line end."""
    return line[:-1] if line.endswith("\r") else line


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


def cursor_in(lines: Sequence[str], line: int, character: int, encoding: str = "utf-16") -> Cursor:
    """Where ``(line, character)`` falls in ``lines`` (a document split at ``\\n``)."""
    if line < 0 or character < 0:
        raise PositionError(f"position {line}:{character} is negative")
    if line >= len(lines):
        raise PositionError(
            f"line {line} is past the end of the document, which has {len(lines)} lines"
        )
    text = content(lines[line])
    column = index_in_line(text, character, encoding)
    # The units before ``column``: clamped to the line's end, and never between the units of
    # one character (the two halves of an emoji in UTF-16, the bytes of "é" in UTF-8).
    exact = encoding == "utf-32" or text.isascii()
    return Cursor(line, column, column if exact else units(text[:column], encoding))
