"""The spot record and the single-line / multi-line decision."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.spot import indent_width, wants_multiline

from .cursor import spot


@pytest.mark.parametrize(
    ("before", "after", "multiline"),
    [
        ("", "", True),
        ("    ", "", True),
        ("def add(a, b):", "", True),
        ("if (ready) {", "", True),
        ("items = [", "", True),
        ("call(", "", True),
        ("const f = () =>", "", True),
        ("fn main() ->", "", True),
        ("5.times do", "", True),
        ("if ready then", "", True),
        ("} else", "", True),
        ("x = 1", "", False),
        ("    return total", "", False),
        ("print(", ")", False),
        ("", "existing()", False),
        ("def add(a, b):", "  # comment", False),
    ],
)
def test_multiline_on_an_empty_line_or_after_a_block_opener(
    before: str, after: str, multiline: bool
) -> None:
    assert wants_multiline(before, after) is multiline


@pytest.mark.parametrize(("line", "width"), [("", 0), ("x", 0), ("    x", 4), ("\tx", 4)])
def test_indent_width_counts_tabs_as_four(line: str, width: int) -> None:
    assert indent_width(line) == width


def test_a_marked_spot_splits_the_text_at_the_cursor() -> None:
    where = spot("def f():\n    x = foo(║a)\n    return x\n")
    assert (where.line_before_cursor, where.line_after_cursor) == ("    x = foo(", "a)")
    assert where.suffix == "a)\n    return x\n"
    assert not where.multiline


def test_the_next_line_keeps_its_indentation() -> None:
    assert spot("    ║\n\n    }\n}").next_line == "    }"
    assert spot("x = 1║").next_line is None


def test_after_an_opener_needs_text_before_it() -> None:
    assert spot("def f():║").after_opener
    assert not spot("    ║").after_opener
