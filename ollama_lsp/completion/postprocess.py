"""Compatibility wrapper: the old post-processing signatures over the new modules.

Post-processing now lives in ``spot`` (where the suggestion goes), ``filters`` (``finalize``
as a tuple of small filters), ``stream`` (``StreamCutter``), ``endings`` (the line and block
rules both share), ``closers``, ``healing`` and ``special``. This module only keeps the
engine working with the keyword signatures it calls today, until it builds a ``Spot`` itself;
the integrator deletes it then. No healing happens through it (``healed`` is empty), and it
cuts only at the stop strings the engine passes (the template's), as the new rules do.
"""

from __future__ import annotations

from . import filters, stream
from .spot import Spot, indent_width, wants_multiline

__all__ = ["StreamCutter", "finalize", "indent_width", "wants_multiline"]


def _spot(line_before_cursor: str, suffix: str, multiline: bool, stop: tuple[str, ...]) -> Spot:
    line_after = suffix.split("\n", 1)[0].removesuffix("\r")
    return Spot(line_before_cursor, line_after, suffix, multiline, stop=stop)


class StreamCutter(stream.StreamCutter):
    """``stream.StreamCutter`` built from the old keyword arguments."""

    def __init__(
        self,
        *,
        line_before_cursor: str,
        suffix: str,
        multiline: bool,
        stop_tokens: tuple[str, ...] = (),
        max_lines: int = 16,
    ) -> None:
        spot = _spot(line_before_cursor, suffix, multiline, tuple(stop_tokens))
        super().__init__(spot, max_lines=max_lines)


def finalize(text: str, *, line_before_cursor: str, suffix: str, multiline: bool) -> str:
    """``filters.finalize`` for text the cutter already cut at the stop strings."""
    return filters.finalize(text, _spot(line_before_cursor, suffix, multiline, ()))
