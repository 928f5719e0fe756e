"""Spots written as text with a cursor marker: ``spot("    x = foo(║)")``.

The marked text is the document around the cursor; everything after ``║`` is the suffix, the
rest of its line is the line after the cursor. The mode is what the engine would choose
unless ``multiline`` says otherwise; ``heal=True`` heals the prefix as the engine would.
"""

from __future__ import annotations

from collections.abc import Iterable

from ollama_lsp.completion.healing import heal as heal_prefix
from ollama_lsp.completion.spot import Spot, wants_multiline
from ollama_lsp.completion.stream import StreamCutter

CURSOR = "║"


def spot(
    marked: str,
    *,
    multiline: bool | None = None,
    heal: bool = False,
    healed: str = "",
    stop: tuple[str, ...] = (),
) -> Spot:
    """The ``Spot`` at the ``║`` in ``marked`` (which must hold exactly one)."""
    assert marked.count(CURSOR) == 1, marked
    prefix, suffix = marked.split(CURSOR)
    before = prefix.rsplit("\n", 1)[-1]
    after = suffix.split("\n", 1)[0]
    if heal:
        healed = heal_prefix(prefix)[1]
    if multiline is None:
        multiline = wants_multiline(before, after)
    return Spot(before, after, suffix, multiline, healed=healed, stop=stop)


def stream(
    pieces: Iterable[str], where: Spot, *, max_lines: int | None = None
) -> tuple[StreamCutter, int]:
    """Feed ``pieces`` until the cutter says stop; the cutter and how many pieces it took."""
    cutter = StreamCutter(where) if max_lines is None else StreamCutter(where, max_lines=max_lines)
    taken = 0
    for piece in pieces:
        taken += 1
        if cutter.feed(piece):
            break
    return cutter, taken


def chars(text: str) -> list[str]:
    """``text`` streamed one character at a time (the hardest case for the cutter)."""
    return list(text)
