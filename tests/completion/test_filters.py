"""``finalize`` and its filters: from a model's answer to the suggestion shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ollama_lsp.completion.filters import FILTERS, finalize
from ollama_lsp.completion.templates import CODELLAMA, PREFIX_ONLY, QWEN

from .cursor import spot


def final(text: str, marked: str, **kwargs: object) -> str:
    return finalize(text, spot(marked, **kwargs))  # type: ignore[arg-type]


def test_every_filter_is_small_and_documented() -> None:
    for step in FILTERS:
        assert step.__doc__, step.__name__


def test_filters_pass_nothing_through_as_nothing() -> None:
    where = spot("x = ║")
    assert all(step("", where) == "" for step in FILTERS)


# -- nothing useful ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \t\n ", "<EOT>", "  <EOT>"])
def test_nothing_useful_is_empty(text: str) -> None:
    assert final(text, "x = ║", stop=CODELLAMA.stop) == ""
    assert final(text, "║", stop=CODELLAMA.stop) == ""


# -- one line, and the end of a complete line (fault 2) ----------------------------------


def test_single_line_keeps_the_first_line_only() -> None:
    assert final("a + b\nprint(x)\n", "return ║") == "a + b"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\n    print(total)\n    return total\n", "\n    print(total)"),
        ("\n\n    print(total)\n", "\n\n    print(total)"),
        ("  \n    print(total)", "\n    print(total)"),
        ("\n  \n    print(total)", "\n\n    print(total)"),
    ],
)
def test_at_the_end_of_a_complete_line_the_next_line_is_suggested(text: str, shown: str) -> None:
    """The model's answer starts with a newline there; it used to be cut to nothing."""
    assert final(text, "    total = a + b║\n", multiline=False) == shown


def test_more_than_one_blank_line_before_the_line_is_nothing() -> None:
    assert final("\n\n\n    print(total)", "    total = a + b║\n", multiline=False) == ""


def test_a_newline_before_text_after_the_cursor_is_nothing() -> None:
    """Single-line mode with text after the cursor: a newline would split the line."""
    assert final("\n    print(x)", "    call(║x)\n", multiline=False) == ""


# -- multi-line -------------------------------------------------------------------------------


def test_multi_line_keeps_the_lines_and_drops_trailing_space() -> None:
    text = "\n    return a + b  \n\n"
    assert final(text, "def add(a, b):║\n") == "\n    return a + b"


def test_the_block_rules_apply_to_the_whole_answer_too() -> None:
    """Without a stream cutter (a cached or non-streamed answer), the block still ends."""
    text = "\n    return a + b\ndef sub(a, b):\n    return a - b\n"
    assert final(text, "def add(a, b):║\n") == "\n    return a + b"


def test_leading_whitespace_at_the_cursor_is_kept() -> None:
    """The model knows whether a space belongs after ``=``; we do not second-guess it."""
    assert final(" 1", "x =║") == " 1"
    assert final("    return 1", "║", multiline=True) == "    return 1"


# -- the leading-space error (fault 5) --------------------------------------------------------


@pytest.mark.parametrize(
    ("marked", "text", "shown"),
    [
        ("     ║\n", ' """fill a paragraph."""', '"""fill a paragraph."""'),
        ("x = ║", "  1", "1"),
        ("call(a, ║)", " b", "b"),
    ],
)
def test_extra_whitespace_after_whitespace_is_moved_to_the_cursor(
    marked: str, text: str, shown: str
) -> None:
    assert final(text, marked, multiline=False) == shown


def test_a_block_whose_first_token_took_one_space_too_many_keeps_its_later_lines() -> None:
    """Seen with SmolLM2 after 8 spaces: `` for …`` then its next line at a correct 12."""
    text = " for chunk in chunks:\n            total += len(chunk)"
    shown = final(text, "        ║\n", multiline=True)
    assert shown == "for chunk in chunks:\n            total += len(chunk)"


def test_a_block_after_extra_indentation_keeps_its_shape() -> None:
    text = "  if ready:\n          go()\n      done()"
    assert final(text, "    ║\n", multiline=True) == "if ready:\n        go()\n    done()"


# -- what the rest of the line already has ------------------------------------------------


@pytest.mark.parametrize(
    ("marked", "text", "shown"),
    [
        ("print(║)", "a, b)", "a, b"),
        ("print(║)", "foo(a))", "foo(a)"),
        ("f(x[║])", "a])", "a"),
        ("f(x[║])", "a]", "a"),
        ("items = {║}", "'a': 1}", "'a': 1"),
        ('print("║")', 'hi")', "hi"),
        ("print(║)", '"a)")', '"a)"'),
        ("print(║)", '"(")', '"("'),
        ("run(║);", "a, b);", "a, b"),
    ],
)
def test_closing_brackets_the_suffix_already_has_are_dropped(
    marked: str, text: str, shown: str
) -> None:
    assert final(text, marked + "\n") == shown


@pytest.mark.parametrize(
    ("marked", "text"),
    [
        ("print(║)", "foo(a)"),
        ("x = ║", "[1, 2]"),
        ("call(║)", "f(g(x))"),
        ("call(║])", "f(g[x])"),
    ],
)
def test_brackets_the_suggestion_opens_itself_are_kept(marked: str, text: str) -> None:
    assert final(text, marked + "\n") == text


def test_unclosed_brackets_are_left_for_the_user() -> None:
    assert final("foo(a, b", "x = ║") == "foo(a, b"


@pytest.mark.parametrize(
    ("marked", "text", "shown"),
    [
        # prefix-only mode: the model never saw the suffix (issue 9, fault 3)
        ("    text = text.expandtabs(║self.tabsize)", "self.tabsize) + 1", ""),
        ("    if (║) {", "x > 0) {", "x > 0"),
        ("x = max(║, 0)", "a, b)", "a, b"),
        ("x = foo([║)", "a])", "a]"),
        ('log("║", level)', 'done", level)', "done"),
        ('    """Summ║"""', 'ary of it."""', "ary of it."),
        ("    total += ║)", "value)", "value"),  # closes a bracket from an earlier line
    ],
)
def test_a_closer_the_rest_of_the_line_has_is_never_carried(
    marked: str, text: str, shown: str
) -> None:
    assert final(text, marked + "\n", multiline=False) == shown


def test_the_expandtabs_case_never_carries_the_bracket() -> None:
    """``self.expand_tabs`` would also glue to ``self``: nothing is better than that."""
    assert final("self.expand_tabs)", "text.expandtabs(║self.tabsize)\n") == ""


def test_a_closer_for_a_bracket_the_rest_does_not_close_is_kept() -> None:
    assert final("a])", "x = foo([║\n") == "a])"
    assert final('"b")', 'f(a, "║\n') == '"b")'


@pytest.mark.parametrize(
    ("marked", "text", "shown"),
    [
        ("paragra║ps = 1", "phs", ""),
        ("x = ║value", "new_", ""),
        ("x = ║value", "2 * ", "2 *"),
        ("x = foo(║bar)", "a, ", "a,"),
        ("x = foo(║ bar)", "a", "a"),
    ],
)
def test_a_suggestion_glued_to_a_word_after_the_cursor_is_nothing(
    marked: str, text: str, shown: str
) -> None:
    assert final(text, marked) == shown


def test_text_the_rest_of_the_line_already_has_is_cut() -> None:
    line = "x = " + final("total + 1  # sum", "x = ║  # sum\n") + "  # sum"
    assert line == "x = total + 1  # sum"


def test_cutting_the_repeated_rest_of_line_keeps_the_space_before_it() -> None:
    assert "x = " + final("bar + foo()", "x = ║foo()\n") + "foo()" == "x = bar + foo()"


def test_a_suggestion_that_only_repeats_the_suffix_is_empty() -> None:
    assert final(")", "print(x║)\n") == ""
    assert final("return a + b", "    ║return a + b\n") == ""
    assert final("\n    return total", "║\n    return total\n", multiline=True) == ""


MUNGE = """    def munge(self, text):
        if self.expand_tabs:
            text = text.expandtabs(self.tabsize)║
        if self.replace_whitespace:
            text = text.translate(self.trans)
        return text
"""


def test_a_copy_of_a_line_a_little_further_down_is_empty() -> None:
    """Qwen2.5-Coder 0.5B at the end of a complete line: the function's own return."""
    assert final("\n        return text", MUNGE, multiline=False) == ""
    assert final("\n        if self.replace_whitespace:", MUNGE, multiline=False) == ""
    blank = MUNGE.replace("(self.tabsize)║", "(self.tabsize)\n        ║")
    assert final("return text", blank, multiline=True) == ""


def test_a_new_block_header_without_its_body_is_cut() -> None:
    """Qwen2.5-Coder 0.5B at a complete line's end (llama-server, tests/real): a header whose
    body is not there would leave a file that does not parse."""
    assert final("\n        if self.fix_sentence_endings is True:", MUNGE, multiline=False) == ""
    two = "\n            text = text.strip()\n        if self.fix_sentence_endings:"
    assert final(two, MUNGE, multiline=True) == "\n            text = text.strip()"
    brace = "let x = 1;║\nreturn x;\n"
    assert final("\nif (x > 0) {", brace, multiline=False) == ""


def test_a_block_header_stays_on_the_cursor_line_or_above_its_body() -> None:
    """On the cursor's own line the user writes the body next; with the body below it, the
    header completes it."""
    empty = MUNGE.replace("(self.tabsize)║", "(self.tabsize)\n        ║")
    assert final("if self.fix_sentence_endings:", empty, multiline=False) == (
        "if self.fix_sentence_endings:"
    )
    body = "def f(x):\n    ║\n        return x\n"
    assert final("\n    if x:", body.replace("    ║", "    y = x║"), multiline=False) == (
        "\n    if x:"
    )


def test_the_lines_below_are_the_documents_not_the_suffix_windows() -> None:
    """A slow model's suffix window can end after one line; the document goes on."""
    where = spot(MUNGE, multiline=False)
    window = where.suffix.split("\n")[:2]
    short = replace(where, suffix="\n".join(window), document_suffix=where.suffix)
    assert finalize("\n        return text", short) == ""
    assert finalize("\n        return text", replace(short, document_suffix="")) != ""


def test_lines_of_its_own_or_at_another_indentation_are_kept() -> None:
    assert final("\n        text = text.strip()", MUNGE, multiline=False) != ""
    assert final("\n            return text", MUNGE, multiline=False) != ""  # inside the if
    both = "\n        text = text.strip()\n        return text"
    blank = MUNGE.replace("(self.tabsize)║", "(self.tabsize)\n        ║")
    assert final(both.lstrip("\n").lstrip(), blank, multiline=True) != ""
    far = MUNGE.replace(
        "        return text", "\n" * 0 + "        x = 1\n" * 8 + "        return text"
    )
    assert final("\n        return text", far, multiline=False) != ""  # 8+ lines below


def test_a_closing_line_the_suffix_already_has_is_dropped_at_the_end_of_the_stream() -> None:
    """The stream ended right after ``}``: the cutter never saw that line complete."""
    for text in ("\n    'a': 1,\n}", "\n    'a': 1,\n}\n"):
        assert final(text, "config = {║\n}\n") == "\n    'a': 1,"


def test_an_inner_closing_line_at_another_indentation_is_kept() -> None:
    text = "if (ready) {\n        go();\n    }"
    assert final(text, "    ║\n}\n", multiline=True) == text


# -- stop strings: only the active template's (fault 6) ---------------------------------------


def test_the_active_templates_stop_ends_the_suggestion() -> None:
    assert final("return a + b<EOT>\ndef other():", "    ║", stop=CODELLAMA.stop) == "return a + b"
    assert final("x<|file_sep|>b.py\n", "y = ║", stop=QWEN.stop) == "x"


@pytest.mark.parametrize("text", ['"<|file_sep|>"', "<s>old</s> new", "'<|endoftext|>' marks"])
@pytest.mark.parametrize("template", [CODELLAMA, PREFIX_ONLY], ids=lambda t: t.family)
def test_other_families_special_strings_are_text(text: str, template: object) -> None:
    assert final(text, "x = ║", stop=template.stop) == text  # type: ignore[attr-defined]


def test_the_earliest_stop_wins() -> None:
    assert final("a<MID>b<EOT>c", "x = ║", stop=CODELLAMA.stop) == "a"


def test_the_users_special_strings_come_back_byte_for_byte() -> None:
    """The prompt held them neutralised; the model copied that; the user sees the original."""
    copied = "<\u200b/s> and <\u200b|endoftext|>"
    assert final(copied, "html = '<s>x║", stop=PREFIX_ONLY.stop) == "</s> and <|endoftext|>"


def test_a_neutralised_stop_string_does_not_stop() -> None:
    assert final("'<\u200bEOT>' is the end", "x = ║", stop=CODELLAMA.stop) == "'<EOT>' is the end"


# -- length and repetition (fault 7) ------------------------------------------------------


def test_a_repeated_timestamp_is_cut_after_its_first_copy() -> None:
    answer = '"2024-05-01T12:00:00Z", ' * 40
    assert final(answer, "stamps = [║]", multiline=False) == '"2024-05-01T12:00:00Z",'


@pytest.mark.parametrize(
    "text",
    [
        "[0, 0, 0, 0]",
        "[" + ", ".join(["0"] * 40) + "]",
        "[" + ", ".join(["0.0"] * 8) + "]",
        "# " + "=" * 76,
        "'abcd-abcd'",
        "f(a, a, a, a, a, a, a, a, a, a)",
    ],
)
def test_code_that_really_repeats_survives(text: str) -> None:
    assert final(text, "x = ║") == text


def test_an_over_long_line_is_cut_at_its_last_space_before_the_limit() -> None:
    words = " ".join(f"word{i}" for i in range(60))
    shown = final(words, "text = ║")
    assert 100 < len(shown) <= 160
    assert words.startswith(shown) and not shown.endswith(" ")


def test_an_over_long_line_without_a_space_is_nothing() -> None:
    assert final("x" * 300, "blob = ║") == ""
