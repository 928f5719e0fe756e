"""Prompt windows around the cursor: budgets, line boundaries, and an anchored start."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.context import (
    OUTER_SHARE,
    ContextBudget,
    Windows,
    budget_for,
    build_windows,
    outer_line,
)

SOURCE = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"
LARGE = ContextBudget(10_000, 10_000, prefix_lines=1000, suffix_lines=1000)


def code(lines: int) -> str:
    return "".join(f"    value_{i:05} = compute(value_{i:05}, y)  # step\n" for i in range(lines))


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def at_line_start(text: str, offset: int) -> bool:
    return offset == 0 or text[offset - 1] == "\n"


def at_line_end(text: str, offset: int) -> bool:
    return offset == len(text) or text[offset - 1] == "\n"


def windows_at(text: str, offset: int, budget: ContextBudget = LARGE) -> Windows:
    return build_windows(text, offset, budget=budget)


def test_small_document_fits_whole() -> None:
    cursor = SOURCE.index("a + b")
    windows = windows_at(SOURCE, cursor)
    assert windows == Windows(
        prefix=SOURCE[:cursor],
        suffix=SOURCE[cursor:],
        prefix_start=0,
        line_before_cursor="    return ",
        line_after_cursor="a + b",
        prefix_truncated=False,
        suffix_truncated=False,
    )


@pytest.mark.parametrize("offset", [0, len(SOURCE)])
def test_cursor_at_either_end(offset: int) -> None:
    windows = windows_at(SOURCE, offset)
    assert windows.prefix + windows.suffix == SOURCE
    assert not windows.prefix_truncated and not windows.suffix_truncated


@pytest.mark.parametrize(("offset", "clamped"), [(-5, 0), (10**6, len(SOURCE))])
def test_offset_outside_the_text_is_clamped(offset: int, clamped: int) -> None:
    assert windows_at(SOURCE, offset) == windows_at(SOURCE, clamped)


def test_empty_text() -> None:
    windows = windows_at("", 0)
    assert (windows.prefix, windows.suffix, windows.line_before_cursor) == ("", "", "")


def test_crlf_line_after_cursor_has_no_carriage_return() -> None:
    text = "x = 1\r\ny = 2\r\n"
    windows = windows_at(text, text.index("= 2"))
    assert (windows.line_before_cursor, windows.line_after_cursor) == ("y ", "= 2")
    assert windows.suffix == "= 2\r\n"


BUDGETS = [
    ContextBudget(2000, 600, prefix_lines=1000, suffix_lines=1000),
    ContextBudget(2000, 600, prefix_lines=10, suffix_lines=4),
    ContextBudget(8784, 2928, prefix_lines=200, suffix_lines=60),
    ContextBudget(8784, 2928, prefix_lines=20, suffix_lines=60),
    ContextBudget(8784, 2928, prefix_lines=0, suffix_lines=0),
]
TEXT = code(600)


def budget_id(budget: ContextBudget) -> str:
    return f"{budget.max_prefix_chars}c-{budget.prefix_lines}l"


OFFSETS = [TEXT.index(f"value_{i:05} =") + 8 for i in (0, 3, 40, 101, 257, 599)]


@pytest.mark.parametrize("budget", BUDGETS, ids=budget_id)
@pytest.mark.parametrize("offset", OFFSETS)
def test_windows_respect_the_budget_and_cut_at_line_boundaries(
    budget: ContextBudget, offset: int
) -> None:
    windows = windows_at(TEXT, offset, budget)
    assert windows.prefix == TEXT[windows.prefix_start : offset]
    assert TEXT[offset:].startswith(windows.suffix)
    assert len(windows.prefix) <= budget.max_prefix_chars
    assert len(windows.suffix) <= budget.max_suffix_chars
    assert at_line_start(TEXT, windows.prefix_start)
    assert at_line_end(TEXT, offset + len(windows.suffix))
    assert windows.prefix.count("\n") <= budget.prefix_lines
    assert windows.suffix.count("\n") <= budget.suffix_lines + 1
    assert windows.prefix_truncated == (windows.prefix_start > 0)
    assert windows.suffix_truncated == (offset + len(windows.suffix) < len(TEXT))


@pytest.mark.parametrize("budget", BUDGETS, ids=budget_id)
@pytest.mark.parametrize("offset", OFFSETS)
def test_prefix_always_holds_the_cursor_line_before_the_cursor(
    budget: ContextBudget, offset: int
) -> None:
    """Whatever the anchor does, the model must see the start of the line being written."""
    windows = windows_at(TEXT, offset, budget)
    assert windows.prefix.endswith(windows.line_before_cursor)
    assert windows.line_before_cursor == TEXT[line_start(TEXT, offset) : offset]


def test_prefix_cut_by_characters_stays_between_three_quarters_and_all_of_the_budget() -> None:
    budget = ContextBudget(2000, 600, prefix_lines=10_000, suffix_lines=10_000)
    longest = max(len(line) + 1 for line in TEXT.split("\n"))
    for offset in range(3000, 6000, 37):
        windows = windows_at(TEXT, offset, budget)
        assert 0.75 * budget.max_prefix_chars - longest <= len(windows.prefix)
        assert len(windows.prefix) <= budget.max_prefix_chars


ABOVE = "def first(n):\n    if n:\n        x = n * 2\n    else:\n        x = 0\n    return x\n\n\n"
BODY = 'def second(n):\n    """Twice n."""\n    # plan: double it\n    total = n\n    '


def test_a_window_starting_inside_the_block_above_starts_at_the_outer_line_instead() -> None:
    text = ABOVE + BODY + "\n"
    cursor = len(ABOVE + BODY)
    budget = ContextBudget(len(BODY) + 40, 100, prefix_lines=100, suffix_lines=4, anchor_chars=1)
    windows = windows_at(text, cursor, budget)
    assert windows.prefix == BODY  # not "        x = 0\n    return x\n\n\n" first


def test_a_closing_bracket_is_not_where_a_window_starts() -> None:
    above = "function first(n) {\n  if (n) {\n    return n * 2;\n  }\n}\n\n"
    body = "function second(n) {\n  // twice n\n  const total = n;\n  "
    text = above + body + "\n}\n"
    cursor = len(above + body)
    budget = ContextBudget(len(body) + 20, 100, prefix_lines=100, suffix_lines=4, anchor_chars=1)
    assert windows_at(text, cursor, budget).prefix == body  # not "  }\n}\n\n" first


def test_the_start_stays_when_the_outer_line_is_too_far_down() -> None:
    inner = "    x = 1\n" * 20
    text = inner + "def g():\n    "
    budget = ContextBudget(len(text), 100, prefix_lines=100, suffix_lines=4, anchor_chars=1)
    windows = windows_at(text, len(text), budget)
    assert len("def g():\n") < (1 - OUTER_SHARE) * len(text)  # dropping the rest: too much
    assert windows.prefix_start == 0


def test_the_outer_line_is_found_however_far_down_it_is() -> None:
    """What a wider background window starts at: never inside the block above."""
    inner = "    x = 1\n" * 20
    text = inner + "def g():\n    "
    assert outer_line(text, 0, len(text) - 4) == len(inner)
    assert outer_line(text, len(inner), len(text) - 4) == len(inner)  # one already
    assert outer_line("\n\n", 0, 2) == 0  # no line with text: where it was


def test_prefix_cut_by_lines_keeps_that_many_lines_above() -> None:
    budget = ContextBudget(10**6, 600, prefix_lines=10, suffix_lines=4, anchor_chars=1)
    windows = windows_at(TEXT, OFFSETS[3], budget)
    assert windows.prefix.count("\n") == 10
    assert windows.prefix_truncated


def test_suffix_takes_at_most_suffix_lines_whole_lines_after_the_cursor_line() -> None:
    budget = ContextBudget(10**6, 10**6, prefix_lines=10, suffix_lines=3)
    offset = OFFSETS[2]
    windows = windows_at(TEXT, offset, budget)
    rest = TEXT[offset:].split("\n")
    assert windows.suffix == "\n".join(rest[:4]) + "\n"


def test_suffix_lines_zero_keeps_the_rest_of_the_cursor_line() -> None:
    budget = ContextBudget(10**6, 10**6, prefix_lines=10, suffix_lines=0)
    offset = OFFSETS[2]
    assert windows_at(TEXT, offset, budget).suffix == TEXT[offset:].split("\n")[0] + "\n"


def test_suffix_without_final_newline_reaches_the_end() -> None:
    text = "a = 1\nb = 2"
    assert windows_at(text, 4).suffix == "1\nb = 2"


def test_one_long_line_is_cut_inside_it_within_the_budget() -> None:
    text = "x = [" + ", ".join(str(i) for i in range(20_000)) + "]"
    budget = ContextBudget(3000, 1000, prefix_lines=10, suffix_lines=10)
    offset = len(text) // 2
    windows = windows_at(text, offset, budget)
    assert 0.75 * 3000 <= len(windows.prefix) <= 3000
    assert len(windows.suffix) == 1000
    assert windows.prefix_truncated and windows.suffix_truncated


def test_typing_keeps_the_prefix_start_so_the_prompt_only_grows() -> None:
    """Ollama reuses the prompt's common start: typed text must only append to the prefix."""
    budget = ContextBudget(2000, 600, prefix_lines=10_000, suffix_lines=10_000)
    offset = OFFSETS[4]
    before = windows_at(TEXT, offset, budget)
    starts = set()
    for typed in ("r", "re", "ret", "retu", "return", "return a"):
        text = TEXT[:offset] + typed + TEXT[offset:]
        windows = windows_at(text, offset + len(typed), budget)
        starts.add(windows.prefix_start)
        if windows.prefix_start == before.prefix_start:
            assert windows.prefix == before.prefix + typed
            assert windows.suffix == before.suffix
    assert starts == {before.prefix_start}


def test_the_start_moves_about_once_per_anchor_of_travel() -> None:
    budget = ContextBudget(2000, 600, prefix_lines=10_000, suffix_lines=10_000)
    travel = range(3000, 3000 + 4 * budget.anchor)
    starts = {windows_at(TEXT, offset, budget).prefix_start for offset in travel}
    assert len(starts) <= 5


def test_anchor_defaults_to_a_quarter_of_the_prefix_budget_with_a_floor() -> None:
    assert ContextBudget(8000, 100, 10, 10).anchor == 2000
    assert ContextBudget(100, 100, 10, 10).anchor == 64
    assert ContextBudget(8000, 100, 10, 10, anchor_chars=100).anchor == 100


def test_budget_gives_a_quarter_to_the_suffix() -> None:
    budget = budget_for(4096, 128, 200, 60)
    total = (4096 - 128 - 64) * 3
    assert budget.max_suffix_chars == total // 4
    assert budget.max_prefix_chars + budget.max_suffix_chars == total
    assert (budget.prefix_lines, budget.suffix_lines) == (200, 60)


def test_budget_reserves_room_for_the_generated_tokens() -> None:
    small = budget_for(4096, 1024, 200, 60)
    large = budget_for(4096, 128, 200, 60)
    assert small.max_prefix_chars < large.max_prefix_chars


def test_budget_has_a_floor_for_tiny_contexts() -> None:
    budget = budget_for(256, 4096, 10, 10)
    assert budget.max_prefix_chars + budget.max_suffix_chars == 128 * 3


def test_chars_per_token_scales_the_budget() -> None:
    budget = budget_for(4096, 128, 10, 10, chars_per_token=4.0, reserve_tokens=0)
    assert budget.max_prefix_chars + budget.max_suffix_chars == (4096 - 128) * 4
