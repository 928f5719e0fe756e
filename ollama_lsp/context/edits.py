"""The line ranges the user edited recently, across files, newest first.

An edit a minute ago says more about the next line than most of the file does (Copilot
keeps the last 8). Consecutive keystrokes on neighbouring lines are one edit, so a range
grows instead of the list filling with single lines; ranges below an edit that inserted or
deleted lines move with their text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Edits this close (in lines) to an existing range of the same file join it.
MERGE_GAP = 2
#: A range never grows longer than this: the next edit starts a new one.
MAX_SPAN = 24


@dataclass(slots=True)
class EditRange:
    key: str
    first: int
    last: int


class RecentEdits:
    """A bounded most-recent-first list of edited ranges."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._ranges: list[EditRange] = []

    def record(self, key: str, lines: Sequence[int], line_delta: int = 0) -> None:
        """Lines ``lines`` of ``key`` were just edited (numbers in the new text), and the
        file grew by ``line_delta`` lines."""
        if not lines:
            return
        first, last = min(lines), max(lines)
        if line_delta:
            self._shift(key, first, line_delta)
        for number, existing in enumerate(self._ranges):
            if existing.key != key:
                continue
            near = first <= existing.last + MERGE_GAP and existing.first - MERGE_GAP <= last
            merged_first, merged_last = min(first, existing.first), max(last, existing.last)
            if near and merged_last - merged_first < MAX_SPAN:
                first, last = merged_first, merged_last
                del self._ranges[number]
                break
        self._ranges.insert(0, EditRange(key, first, last))
        del self._ranges[self.limit :]

    def _shift(self, key: str, at: int, delta: int) -> None:
        for existing in self._ranges:
            if existing.key == key and existing.first > at:
                existing.first = max(at, existing.first + delta)
                existing.last = max(existing.first, existing.last + delta)

    def forget(self, key: str) -> None:
        self._ranges = [r for r in self._ranges if r.key != key]

    def resize(self, limit: int) -> None:
        self.limit = limit
        del self._ranges[limit:]

    def newest_first(self) -> list[EditRange]:
        return [EditRange(r.key, r.first, r.last) for r in self._ranges]


def changed_range(old: Sequence[str], new: Sequence[str]) -> tuple[list[int], int]:
    """The lines of ``new`` that differ from ``old`` and the change in line count, for
    editors that send whole documents: the lines between the common head and tail."""
    limit = min(len(old), len(new))
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    delta = len(new) - len(old)
    if head == len(new) - tail and delta == 0:
        return [], 0
    last = max(head, len(new) - tail - 1)
    return list(range(head, min(last, len(new) - 1) + 1)), delta
