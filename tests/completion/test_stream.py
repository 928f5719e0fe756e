"""``StreamCutter``: stop the stream once the suggestion is known, agreeing with ``finalize``."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.filters import finalize
from ollama_lsp.completion.stream import StreamCutter
from ollama_lsp.completion.templates import CODELLAMA, PREFIX_ONLY, QWEN

from .cursor import chars, spot, stream

# -- single-line ------------------------------------------------------------------------------


def test_single_line_stops_at_the_first_line_break_after_content() -> None:
    cutter, taken = stream(["a + ", "b", "\n", "print(", "x)"], spot("return ║"))
    assert (cutter.done, cutter.text, taken) == (True, "a + b", 3)


def test_single_line_without_a_line_break_runs_to_the_end() -> None:
    cutter, _ = stream(["a + ", "b"], spot("return ║"))
    assert (cutter.done, cutter.text) == (False, "a + b")


def test_a_leading_newline_at_a_line_end_does_not_stop_the_stream() -> None:
    """Fault 2: the answer to a complete line starts with a newline, then the next line."""
    where = spot("    total = a + b║\n", multiline=False)
    cutter, taken = stream(["\n", "    ", "print(total)", "\n", "    return"], where)
    assert (cutter.done, taken) == (True, 4)
    assert finalize(cutter.text, where) == "\n    print(total)"


def test_a_third_newline_before_any_content_is_hopeless() -> None:
    where = spot("    total = a + b║\n", multiline=False)
    cutter, taken = stream(["\n", "\n", "\n", "    x = 1"], where)
    assert (cutter.done, taken) == (True, 3)
    assert finalize(cutter.text, where) == ""


def test_a_newline_first_with_text_after_the_cursor_is_hopeless() -> None:
    where = spot("call(║x)\n")
    cutter, taken = stream(["\n", "y"], where)
    assert (cutter.done, taken) == (True, 1)


def test_a_stop_string_split_across_pieces_stops_the_stream() -> None:
    where = spot("return ║", stop=CODELLAMA.stop)
    cutter, taken = stream(["a + b", "<EO", "T>", "junk"], where)
    assert (cutter.done, cutter.text, taken) == (True, "a + b", 3)


@pytest.mark.parametrize("template", [CODELLAMA, PREFIX_ONLY], ids=lambda t: t.family)
def test_another_familys_special_string_does_not_stop_the_stream(template: object) -> None:
    where = spot("x = ║", stop=template.stop)  # type: ignore[attr-defined]
    cutter, _ = stream(chars('"<|file_sep|>" + "</s>"'), where)
    assert not cutter.done
    assert finalize(cutter.text, where) == '"<|file_sep|>" + "</s>"'


def test_the_templates_own_special_string_stops_it() -> None:
    cutter, _ = stream(["x", "<|file_sep|>", "b.py"], spot("y = ║", stop=QWEN.stop))
    assert (cutter.done, cutter.text) == (True, "x")


def test_custom_stop_strings_stop_the_stream() -> None:
    cutter = StreamCutter(spot("║", multiline=True, stop=("###",)))
    assert cutter.feed("x = 1###more")
    assert cutter.text == "x = 1"


def test_feeding_after_done_changes_nothing() -> None:
    cutter, _ = stream(["a + b\n"], spot("return ║"))
    assert cutter.feed("more text")
    assert cutter.text == "a + b"


def test_a_looping_line_stops_the_stream_as_soon_as_it_loops() -> None:
    """Fault 7: a timestamp repeated until ``num_predict`` is not waited for."""
    where = spot("stamps = [║]", multiline=False)
    copy = '"2024-05-01T12:00:00Z", '
    cutter, taken = stream(chars(copy * 40), where)
    assert cutter.done
    assert taken <= len(copy) * 4
    assert finalize(cutter.text, where) == copy.rstrip()


def test_an_over_long_line_stops_the_stream_at_the_limit() -> None:
    cutter, taken = stream(chars("word " * 100), spot("text = ║"))
    assert cutter.done and taken <= 162


def test_real_repetition_in_code_does_not_stop_the_stream() -> None:
    cutter, _ = stream(chars("[0, 0, 0, 0]"), spot("x = ║"))
    assert not cutter.done


# -- token healing ------------------------------------------------------------------------


def test_healed_text_is_waited_for_then_stripped() -> None:
    where = spot("    retur║\n", heal=True)
    cutter, _ = stream(["  ", "  ret", "urn x", "\n", "y"], where)
    assert cutter.done
    assert finalize(cutter.text, where) == "n x"


def test_an_answer_that_leaves_the_healed_text_is_hopeless_at_once() -> None:
    """Engine time is saved: the answer can no longer start with ``    retur``."""
    where = spot("    retur║\n", heal=True)
    cutter, taken = stream(["    ", "if", " x:", "\n"], where)
    assert (cutter.done, taken) == (True, 2)
    assert finalize(cutter.text, where) == ""


def test_a_bare_newline_after_a_healed_space_is_hopeless() -> None:
    where = spot("text = ║\n", heal=True)
    assert where.healed == " "
    cutter, taken = stream(["\n", "x"], where)
    assert (cutter.done, taken) == (True, 1)
    assert finalize(cutter.text, where) == ""


def test_a_block_after_indentation_keeps_its_rules() -> None:
    where = spot("def f():\n    ║\n", heal=True)
    assert where.healed == "" and where.multiline  # the line's indentation is never healed
    output = "x = 1\n    return x\n\ndef g():\n"
    cutter, _ = stream(chars(output), where)
    assert cutter.done
    assert finalize(cutter.text, where) == "x = 1\n    return x"


def test_special_strings_restored_while_streaming_keep_the_line_rules() -> None:
    where = spot("html = '║", multiline=False)
    cutter, _ = stream(["<\u200b", "/s>'", "\n", "x"], where)
    assert cutter.done
    assert finalize(cutter.text, where) == "</s>'"


# -- multi-line -------------------------------------------------------------------------------


def test_blank_line_after_content_ends_the_block() -> None:
    output = "total = 0\n    for v in values:\n        total += v\n\n    return total\n"
    cutter, _ = stream(chars(output), spot("    ║\n", multiline=True))
    assert cutter.done
    assert cutter.text == "total = 0\n    for v in values:\n        total += v"


def test_leading_blank_lines_do_not_end_the_block() -> None:
    cutter, _ = stream(chars("\n\n    return 1\n\n"), spot("def f():║"))
    assert cutter.text == "\n\n    return 1"


def test_a_line_indented_below_the_cursor_block_ends_it() -> None:
    cutter, _ = stream(chars("x = 1\n    y = 2\nprint(x)\n"), spot("    ║\n", multiline=True))
    assert (cutter.done, cutter.text) == (True, "x = 1\n    y = 2")


def test_after_a_block_opener_a_line_back_at_its_level_ends_it() -> None:
    output = "\n    return a + b\ndef sub(a, b):\n    return a - b\n"
    cutter, _ = stream(chars(output), spot("def add(a, b):║\n"))
    assert (cutter.done, cutter.text) == (True, "\n    return a + b")


def test_after_a_block_opener_the_closing_bracket_line_is_kept_and_ends_it() -> None:
    cutter, _ = stream(chars("\n    1,\n    2,\n]\nprint(items)\n"), spot("items = [║\n"))
    assert (cutter.done, cutter.text) == (True, "\n    1,\n    2,\n]")


def test_the_stream_stops_as_soon_as_the_block_is_known_complete() -> None:
    """Stopping early saves the tokens that would be thrown away."""
    output = "\n    return a + b\ndef sub(a, b):\n" + "    pass\n" * 100
    cutter, taken = stream(chars(output), spot("def add(a, b):║"))
    assert cutter.done
    assert taken <= len("\n    return a + b\nd")


def test_repeating_the_next_line_of_the_suffix_ends_the_block() -> None:
    output = "for v in values:\n        total += v\n    return total\n"
    cutter, _ = stream(chars(output), spot("    ║\n    return total\n", multiline=True))
    assert (cutter.done, cutter.text) == (True, "for v in values:\n        total += v")


def test_a_line_that_may_still_become_the_suffix_line_is_waited_for() -> None:
    cutter = StreamCutter(spot("    ║\n    return total\n", multiline=True))
    assert not cutter.feed("x = 1\n    return total")
    assert not cutter.feed("s + 1")
    assert cutter.text == "x = 1\n    return totals + 1"


@pytest.mark.parametrize("max_lines", [1, 3, 5])
def test_at_most_max_lines_lines(max_lines: int) -> None:
    output = "".join(f"    x{i} = {i}\n" for i in range(50))
    cutter, _ = stream(chars(output), spot("║", multiline=True), max_lines=max_lines)
    assert cutter.done
    assert cutter.text.count("\n") + 1 == max_lines


def test_multi_line_stops_at_a_stop_string_mid_block() -> None:
    where = spot("    ║", multiline=True, stop=QWEN.stop)
    cutter, _ = stream(["x = 1\n    y = 2", "<|endoftext|>", "z"], where)
    assert (cutter.done, cutter.text) == (True, "x = 1\n    y = 2")


def test_a_looping_line_ends_a_block_too() -> None:
    where = spot("def f():║")
    cutter, _ = stream(chars("\n    x = 1\n    s = '" + "abcdef" * 100), where)
    assert cutter.done
    assert finalize(cutter.text, where) == "\n    x = 1\n    s = 'abcdef"


# -- the cutter and finalize agree ------------------------------------------------------------

ANSWERS = [
    ("return ║", "a + b\nprint(x)\n"),
    ("    total = a + b║\n    return total\n", "\n    print(total)\n    return total\n"),
    ("    total = a + b║\n", "\n\n\n    x = 1\n"),
    ("text.expandtabs(║self.tabsize)", "self.tabsize)\n"),
    ("def add(a, b):║\n\nprint(1)\n", "\n    return a + b\n\n\ndef sub(a, b):<EOT>"),
    ("items = [║\n", "\n    1,\n    2,\n]\nprint(items)\n"),
    ("    ║\n    return total\n", "for v in values:\n        total += v\n    return total\n"),
    ("config = {║\n}\n", "\n    'a': 1,\n}\n"),
    ("stamps = [║]", '"2024-05-01T12:00:00Z", ' * 30),
    ("    retur║\n", "    return x\n    y\n"),
    ("    retur║\n", "    if x:\n"),
    ("def f():\n    ║\n", "    x = 1\n    return x\n\ndef g():\n"),
    ("html = '║", "<\u200b/s>'\nmore"),
]


@pytest.mark.parametrize(("marked", "answer"), ANSWERS)
@pytest.mark.parametrize("heal", [False, True])
def test_stopping_early_never_changes_what_is_shown(marked: str, answer: str, heal: bool) -> None:
    """Whatever the cutter stops on, ``finalize`` shows what it shows for the whole answer."""
    where = spot(marked, heal=heal, stop=CODELLAMA.stop)
    cutter, _ = stream(chars(answer), where)
    assert finalize(cutter.text, where) == finalize(answer, where)


def test_the_partial_suggestion_is_relative_to_the_cursor() -> None:
    """Typing through an unfinished generation compares what was typed with this."""
    cutter = StreamCutter(spot("    retur║\n", heal=True))
    cutter.feed("    ret")
    assert cutter.partial == ""
    cutter.feed("urn '<\u200b/s>")
    assert cutter.partial == "n '</s>"
