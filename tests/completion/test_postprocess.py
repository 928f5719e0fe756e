"""From raw model output to the suggestion shown, and stopping the stream once it is complete."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from ollama_lsp.completion.postprocess import (
    StreamCutter,
    cut_at_special,
    finalize,
    indent_width,
    wants_multiline,
)
from ollama_lsp.completion.templates import SPECIAL_TOKENS


def final(text: str, before: str, suffix: str = "\n", *, multiline: bool = False) -> str:
    return finalize(text, line_before_cursor=before, suffix=suffix, multiline=multiline)


def stream(
    pieces: Iterable[str], before: str, suffix: str = "\n", *, multiline: bool, **kwargs: int
) -> tuple[StreamCutter, int]:
    """Feed ``pieces`` until the cutter says stop; the cutter and how many pieces it took."""
    cutter = StreamCutter(line_before_cursor=before, suffix=suffix, multiline=multiline, **kwargs)
    taken = 0
    for piece in pieces:
        taken += 1
        if cutter.feed(piece):
            break
    return cutter, taken


def chars(text: str) -> list[str]:
    return list(text)


# -- the single-line / multi-line decision -------------------------------------------------


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


# -- special tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", SPECIAL_TOKENS)
def test_special_tokens_end_the_text(token: str) -> None:
    assert cut_at_special(f"return a + b{token}garbage") == ("return a + b", True)
    assert final(f"return a + b{token}\ndef other():", "    ") == "return a + b"


def test_the_earliest_special_token_wins() -> None:
    assert cut_at_special("a<EOT>b<|endoftext|>c") == ("a", True)
    assert cut_at_special("plain text") == ("plain text", False)


# -- finalize ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \t\n ", "<EOT>", "  <|endoftext|>"])
def test_nothing_useful_is_empty(text: str) -> None:
    assert final(text, "x = ") == ""
    assert final(text, "", multiline=True) == ""


def test_single_line_keeps_the_first_line_only() -> None:
    assert final("a + b\nprint(x)\n", "return ") == "a + b"


def test_multi_line_keeps_the_lines_and_drops_trailing_space() -> None:
    text = "\n    return a + b  \n\n"
    assert final(text, "def add(a, b):", "\n", multiline=True) == "\n    return a + b"


def test_leading_whitespace_at_the_cursor_is_kept() -> None:
    """The model knows whether a space belongs after ``=``; we do not second-guess it."""
    assert final(" 1", "x =") == " 1"
    assert final("    return 1", "", multiline=True) == "    return 1"


@pytest.mark.parametrize(
    ("before", "text", "after", "expected"),
    [
        ("print(", "a, b)", ")", "a, b"),
        ("print(", "foo(a))", ")", "foo(a)"),
        ("f(x[", "a])", "])", "a"),
        ("f(x[", "a]", "])", "a"),
        ("items = {", "'a': 1}", "}", "'a': 1"),
        ('print("', 'hi")', '")', "hi"),
        ("print(", '"a)")', ")", '"a)"'),
        ("print(", '"(")', ")", '"("'),
        ("run(", "a, b);", ");", "a, b"),
    ],
)
def test_closing_brackets_the_suffix_already_has_are_dropped(
    before: str, text: str, after: str, expected: str
) -> None:
    assert final(text, before, after + "\n") == expected


@pytest.mark.parametrize(
    ("before", "text", "after"),
    [
        ("print(", "foo(a)", ")"),
        ("x = ", "[1, 2]", ""),
        ("call(", "f(g(x))", ")"),
        ("call(", "f(g[x])", "])"),
    ],
)
def test_brackets_the_suggestion_opens_itself_are_kept(before: str, text: str, after: str) -> None:
    assert final(text, before, after + "\n") == text


def test_unclosed_brackets_are_left_for_the_user() -> None:
    assert final("foo(a, b", "x = ") == "foo(a, b"


def test_text_the_rest_of_the_line_already_has_is_cut() -> None:
    line = "x = " + final("total + 1  # sum", "x = ", "  # sum\n") + "  # sum"
    assert line == "x = total + 1  # sum"


def test_cutting_the_repeated_rest_of_line_keeps_the_space_before_it() -> None:
    before, after = "x = ", "foo()"
    line = before + final("bar + foo()", before, after + "\n") + after
    assert line == "x = bar + foo()"


def test_a_suggestion_that_only_repeats_the_suffix_is_empty() -> None:
    assert final(")", "print(x", ")\n") == ""
    assert final("return a + b", "    ", "return a + b\n") == ""
    assert final("\n    return total", "", "\n    return total\n", multiline=True) == ""


def test_a_closing_line_the_suffix_already_has_is_dropped_at_the_end_of_the_stream() -> None:
    """The stream ended right after ``}``: the cutter never saw that line complete."""
    for text in ("\n    'a': 1,\n}", "\n    'a': 1,\n}\n"):
        assert final(text, "config = {", "\n}\n", multiline=True) == "\n    'a': 1,"


def test_an_inner_closing_line_at_another_indentation_is_kept() -> None:
    text = "if (ready) {\n        go();\n    }"
    assert final(text, "    ", "\n}\n", multiline=True) == text


# -- StreamCutter: single-line ------------------------------------------------------------


def test_single_line_stops_at_the_first_line_break_after_content() -> None:
    cutter, taken = stream(["a + ", "b", "\n", "print(", "x)"], "return ", multiline=False)
    assert (cutter.done, cutter.text, taken) == (True, "a + b", 3)


def test_single_line_without_a_line_break_runs_to_the_end() -> None:
    cutter, _ = stream(["a + ", "b"], "return ", multiline=False)
    assert (cutter.done, cutter.text) == (False, "a + b")


def test_a_special_token_split_across_pieces_stops_the_stream() -> None:
    cutter, taken = stream(["a + b", "<EO", "T>", "junk"], "return ", multiline=False)
    assert (cutter.done, cutter.text, taken) == (True, "a + b", 3)


def test_custom_stop_tokens_stop_the_stream() -> None:
    cutter = StreamCutter(line_before_cursor="", suffix="", multiline=True, stop_tokens=("###",))
    assert cutter.feed("x = 1###more")
    assert cutter.text == "x = 1"


def test_feeding_after_done_changes_nothing() -> None:
    cutter, _ = stream(["a + b\n"], "return ", multiline=False)
    assert cutter.feed("more text")
    assert cutter.text == "a + b"


# -- StreamCutter: multi-line ---------------------------------------------------------------


def test_blank_line_after_content_ends_the_block() -> None:
    output = "total = 0\n    for v in values:\n        total += v\n\n    return total\n"
    cutter, _ = stream(chars(output), "    ", "\n", multiline=True)
    assert cutter.done
    assert cutter.text == "total = 0\n    for v in values:\n        total += v"


def test_leading_blank_lines_do_not_end_the_block() -> None:
    cutter, _ = stream(chars("\n\n    return 1\n\n"), "def f():", multiline=True)
    assert cutter.text == "\n\n    return 1"


def test_a_line_indented_below_the_cursor_block_ends_it() -> None:
    output = "x = 1\n    y = 2\nprint(x)\n"
    cutter, _ = stream(chars(output), "    ", "\n", multiline=True)
    assert (cutter.done, cutter.text) == (True, "x = 1\n    y = 2")


def test_after_a_block_opener_a_line_back_at_its_level_ends_it() -> None:
    output = "\n    return a + b\ndef sub(a, b):\n    return a - b\n"
    cutter, _ = stream(chars(output), "def add(a, b):", "\n", multiline=True)
    assert (cutter.done, cutter.text) == (True, "\n    return a + b")


def test_after_a_block_opener_the_closing_bracket_line_is_kept_and_ends_it() -> None:
    output = "\n    1,\n    2,\n]\nprint(items)\n"
    cutter, _ = stream(chars(output), "items = [", "\n", multiline=True)
    assert (cutter.done, cutter.text) == (True, "\n    1,\n    2,\n]")


def test_the_stream_stops_as_soon_as_the_block_is_known_complete() -> None:
    """Stopping early saves the tokens that would be thrown away."""
    output = "\n    return a + b\ndef sub(a, b):\n" + "    pass\n" * 100
    pieces = chars(output)
    cutter, taken = stream(pieces, "def add(a, b):", multiline=True)
    assert cutter.done
    assert taken <= len("\n    return a + b\nd")


def test_repeating_the_next_line_of_the_suffix_ends_the_block() -> None:
    suffix = "\n    return total\n"
    output = "for v in values:\n        total += v\n    return total\n"
    cutter, _ = stream(chars(output), "    ", suffix, multiline=True)
    assert (cutter.done, cutter.text) == (True, "for v in values:\n        total += v")


def test_a_line_that_may_still_become_the_suffix_line_is_waited_for() -> None:
    cutter = StreamCutter(line_before_cursor="    ", suffix="\n    return total\n", multiline=True)
    assert not cutter.feed("x = 1\n    return total")
    assert not cutter.feed("s + 1")
    assert cutter.text == "x = 1\n    return totals + 1"


@pytest.mark.parametrize("max_lines", [1, 3, 5])
def test_at_most_max_lines_lines(max_lines: int) -> None:
    output = "".join(f"    x{i} = {i}\n" for i in range(50))
    cutter, _ = stream(chars(output), "", multiline=True, max_lines=max_lines)
    assert cutter.done
    assert cutter.text.count("\n") + 1 == max_lines


def test_multi_line_stops_at_a_special_token_mid_block() -> None:
    cutter, _ = stream(["x = 1\n    y = 2", "<|endoftext|>", "z"], "    ", multiline=True)
    assert (cutter.done, cutter.text) == (True, "x = 1\n    y = 2")


def test_cutter_output_then_finalize_gives_what_the_user_sees() -> None:
    output = "\n    return a + b\n\n\ndef sub(a, b):<EOT>"
    cutter, _ = stream(chars(output), "def add(a, b):", multiline=True)
    shown = final(cutter.text, "def add(a, b):", "\n\nprint(add(1, 2))\n", multiline=True)
    assert shown == "\n    return a + b"


def test_cut_at_special_with_no_tokens_keeps_everything() -> None:
    assert cut_at_special("return x", ()) == ("return x", False)
    assert cut_at_special("return x", ("",)) == ("return x", False)
