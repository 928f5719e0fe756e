"""Token healing: the prompt ends at a token boundary, answers must start with what was cut."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.filters import finalize
from ollama_lsp.completion.healing import MAX_SPACE, MAX_WORD, heal, next_healing_token

from .cursor import spot


@pytest.mark.parametrize(
    ("prefix", "prompt", "removed"),
    [
        ("def f(x):\n    retur", "def f(x):\n    ", "retur"),
        ("text = ", "text =", " "),
        ("x = foo.ba", "x = foo.", "ba"),
        ("call(a, b", "call(a,", " b"),
        ("\tif", "\t", "if"),
        ("x = 12", "x =", " 12"),
        ("naïve_wört", "", "naïve_wört"),
        ("print(", "print(", ""),
        ("x = 1\n", "x = 1\n", ""),
        ("", "", ""),
    ],
)
def test_the_prompt_backs_up_to_the_start_of_the_word_and_its_spaces(
    prefix: str, prompt: str, removed: str
) -> None:
    assert heal(prefix) == (prompt, removed)
    assert prompt + removed == prefix


def test_newlines_and_a_line_s_own_indentation_are_never_removed() -> None:
    assert heal("x = 1\n\n   ") == ("x = 1\n\n   ", "")
    assert heal("   ") == ("   ", "")
    assert heal("if x:\n\t\t") == ("if x:\n\t\t", "")


def test_a_word_longer_than_the_bound_is_left_alone() -> None:
    blob = "a" * (MAX_WORD + 1)
    assert heal(f"key = {blob}") == (f"key = {blob}", "")
    assert heal(f"key = {'a' * MAX_WORD}") == ("key =", " " + "a" * MAX_WORD)


def test_a_run_of_spaces_longer_than_the_bound_stays_in_the_prompt() -> None:
    prefix = "x" + " " * (MAX_SPACE + 1) + "ab"
    assert heal(prefix) == (prefix[:-2], "ab")


@pytest.mark.parametrize(
    ("marked", "answer", "shown"),
    [
        ("def f(x):\n    retur║\n", "    return x", "n x"),
        ("def f(x):\n    retur║\n", "    return_value = x", "n_value = x"),
        ("text = ║\n", "\n", ""),
        ("text = ║\n", " wrap(text)", "wrap(text)"),
        ("x = foo.ba║\n", "bar()", "r()"),
        ("x = foo.ba║\n", "qux()", ""),
        ("def f(x):\n    retur║\n", "    retur", ""),
    ],
)
def test_answers_must_begin_with_the_removed_text_which_is_stripped(
    marked: str, answer: str, shown: str
) -> None:
    assert finalize(answer, spot(marked, heal=True)) == shown


def test_a_leading_space_error_after_indentation_is_fixed() -> None:
    """SmolLM2 on a 5-space line: `` \"\"\"fill…`` one space too far; the indentation stays
    in the prompt (nothing is healed) and the extra space is moved to the cursor."""
    where = spot("def fill(text):\n     ║\n", heal=True, multiline=False)
    assert where.healed == ""
    assert finalize(' """fill text."""', where) == '"""fill text."""'


def test_after_indentation_extra_spaces_before_the_healed_word_are_tolerated() -> None:
    where = spot("def f(x):\n    retur║\n", heal=True, multiline=False)
    assert where.healed == "retur"
    assert finalize(" return x", where) == "n x"
    assert finalize("return x", where) == "n x"
    assert finalize(" x = 1", where) == ""


def test_the_most_probable_token_that_agrees_with_the_healed_text_is_chosen() -> None:
    top = ["_name", " width", "width", "wi", "w"]
    assert next_healing_token("wi", top) == "width"
    assert next_healing_token("    retur", ["\n", "    ", "   return"]) == "    "
    assert next_healing_token(" ", ["\n", " ", " x"]) == " "


def test_no_agreeing_token_means_no_answer_worth_generating() -> None:
    assert next_healing_token("wi", ["_name", "\n", ""]) is None


def test_guided_healing_then_finalize_gives_the_word_completed() -> None:
    """Steps as the engine would take them, with Ollama's top alternatives at each step."""
    where = spot("    self.wi║\n", heal=True)
    assert where.healed == "wi"
    left, answer = where.healed, ""
    for top in (["_name", "width", "wi"],):
        token = next_healing_token(left, top)
        assert token is not None
        answer, left = answer + token, left[len(token) :]
    assert left == ""
    assert finalize(answer + " = width\n", where) == "dth = width"
