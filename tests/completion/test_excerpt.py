"""The excerpt around the cursor: whole lines, a start that rarely moves, bounded work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import pytest

from ollama_lsp.completion.context import ContextBudget, build_windows
from ollama_lsp.completion.excerpt import STEP, Excerpt, excerpt

LINE = "    total = total + values[index]  # add"  # 40 characters
BY_LINES = ContextBudget(10**9, 10**9, prefix_lines=100, suffix_lines=30)
BY_CHARS = ContextBudget(4000, 1000, prefix_lines=10_000, suffix_lines=10_000)


def document(count: int) -> list[str]:
    return [f"{LINE}{i:06}" for i in range(count)]


def offset_of(lines: Sequence[str], line: int, column: int) -> int:
    return sum(len(text) + 1 for text in lines[:line]) + column


class CountingLines(Sequence[str]):
    """A line list that counts how many lines were read through it."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self.read = 0

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        item = self._lines[index]
        self.read += len(item) if isinstance(index, slice) else 1
        return item


@pytest.mark.parametrize("budget", [BY_LINES, BY_CHARS], ids=["by-lines", "by-chars"])
@pytest.mark.parametrize(("line", "column"), [(0, 0), (3, 7), (500, 0), (777, 20), (1999, 46)])
def test_excerpt_is_whole_document_lines_with_the_cursor_at_offset(
    budget: ContextBudget, line: int, column: int
) -> None:
    lines = document(2000)
    cut = excerpt(lines, line, column, budget)
    count = cut.text.count("\n") + 1
    assert cut.text == "\n".join(lines[cut.first_line : cut.first_line + count])
    assert offset_of(lines, cut.first_line, 0) + cut.offset == offset_of(lines, line, column)
    assert cut.text[: cut.offset].endswith(lines[line][:column])
    assert cut.text[cut.offset :].startswith(lines[line][column:])


@pytest.mark.parametrize("line", [0, 63, 64, 130, 999, 1999])
def test_start_is_a_multiple_of_step(line: int) -> None:
    assert excerpt(document(2000), line, 5, BY_CHARS).first_line % STEP == 0


def test_covers_the_line_budget_on_both_sides() -> None:
    lines = document(2000)
    cut = excerpt(lines, 1000, 10, BY_LINES)
    above = lines[1000 - BY_LINES.prefix_lines : 1000]
    below = lines[1001 : 1001 + BY_LINES.suffix_lines]
    assert "\n".join([*above, lines[1000]]) in cut.text
    assert "\n".join([lines[1000], *below]) in cut.text


def test_covers_the_character_budget_on_both_sides() -> None:
    cut = excerpt(document(2000), 1000, 10, BY_CHARS)
    assert cut.offset >= BY_CHARS.max_prefix_chars
    assert len(cut.text) - cut.offset >= BY_CHARS.max_suffix_chars


def test_windows_from_the_excerpt_equal_windows_from_the_document_when_anchor_aligned() -> None:
    """The excerpt loses nothing the windows need: same text either way (anchor = one line)."""
    lines = document(3000)
    budget = ContextBudget(4100, 1000, 10_000, 10_000, anchor_chars=len(lines[0]) + 1)
    cut = excerpt(lines, 1500, 12, budget)
    whole = build_windows("\n".join(lines), offset_of(lines, 1500, 12), budget=budget)
    part = build_windows(cut.text, cut.offset, budget=budget)
    assert (part.prefix, part.suffix) == (whole.prefix, whole.suffix)


@pytest.mark.parametrize("budget", [BY_LINES, BY_CHARS], ids=["by-lines", "by-chars"])
def test_excerpt_is_bounded_by_the_budget_plus_one_step_of_lines(budget: ContextBudget) -> None:
    lines = document(5000)
    cut = excerpt(lines, 2500, 10, budget)
    line_chars = len(lines[0]) + 1
    prefix_need = min(budget.max_prefix_chars, budget.prefix_lines * line_chars)
    suffix_need = min(budget.max_suffix_chars, budget.suffix_lines * line_chars)
    assert len(cut.text) <= prefix_need + suffix_need + (STEP + 3) * line_chars


def test_typing_on_the_cursor_line_keeps_the_start() -> None:
    lines = document(2000)
    starts = set()
    for typed in range(40):
        edited = [*lines]
        edited[1030] = lines[1030][:10] + "x" * typed + lines[1030][10:]
        starts.add(excerpt(edited, 1030, 10 + typed, BY_CHARS).first_line)
    assert len(starts) == 1


def test_adding_lines_within_a_step_keeps_the_start() -> None:
    lines = document(2000)
    starts = set()
    for added in range(STEP - 8):
        edited = [*lines[:1000], *(["    pass"] * added), *lines[1000:]]
        starts.add(excerpt(edited, 1000 + added, 4, BY_LINES).first_line)
    assert len(starts) == 1


def test_walking_down_the_file_moves_the_start_only_once_per_step() -> None:
    lines = document(2000)
    starts = {excerpt(lines, line, 0, BY_LINES).first_line for line in range(500, 500 + 10 * STEP)}
    assert len(starts) <= 11


def test_cursor_at_file_start() -> None:
    lines = document(2000)
    cut = excerpt(lines, 0, 0, BY_CHARS)
    assert (cut.first_line, cut.offset) == (0, 0)
    assert cut.text.startswith(lines[0])
    assert len(cut.text) >= BY_CHARS.max_suffix_chars


def test_cursor_at_file_end() -> None:
    lines = document(2000)
    cut = excerpt(lines, 1999, len(lines[1999]), BY_CHARS)
    assert cut.offset == len(cut.text)
    assert cut.text.endswith(lines[1999])


def test_empty_document() -> None:
    assert excerpt([""], 0, 0, BY_CHARS) == Excerpt("", 0, 0)


def test_short_document_is_taken_whole() -> None:
    lines = ["def add(a, b):", "    return a + b", ""]
    cut = excerpt(lines, 1, 4, BY_CHARS)
    assert cut == Excerpt("\n".join(lines), len(lines[0]) + 1 + 4, 0)


def test_crlf_lines_keep_their_carriage_returns() -> None:
    lines = ["a = 1\r", "b = 2\r", "c = 3\r", ""]
    cut = excerpt(lines, 1, 3, BY_CHARS)
    assert cut.text == "a = 1\r\nb = 2\r\nc = 3\r\n"
    assert cut.text[cut.offset :] == " 2\r\nc = 3\r\n"
    windows = build_windows(cut.text, cut.offset, budget=BY_CHARS)
    assert (windows.line_before_cursor, windows.line_after_cursor) == ("b =", " 2")


def test_a_2mb_document_reads_as_many_lines_as_a_small_one() -> None:
    big = CountingLines(document(50_000))  # about 2.3 MB
    small = CountingLines(document(3_000))
    assert sum(len(line) + 1 for line in big._lines) > 2_000_000
    big_cut = excerpt(big, 390 * STEP + 37, 10, BY_CHARS)
    small_cut = excerpt(small, 23 * STEP + 37, 10, BY_CHARS)
    assert len(big_cut.text) == len(small_cut.text)
    assert big.read == small.read
    assert big.read < 400
