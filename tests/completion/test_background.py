"""Prefill steps: where a step's prompt is cut, and how big the next step is made."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.background import READING_S, likely_to_last, next_step, step_end
from ollama_lsp.completion.budget import BACKGROUND_STEP_S, MIN_STEP_CHARS

PROMPT = "<|fim_prefix|>def area(r):\n    return 3.14 * r * r\n\ndef perimeter(r):\n<|fim_suffix|>"


def test_a_step_ends_at_the_last_line_end_in_its_second_half() -> None:
    end = step_end(PROMPT, 0, 50)
    assert PROMPT[end - 1] == "\n" and 25 <= end <= 50


def test_without_a_line_end_a_step_ends_after_a_space() -> None:
    text = "x = alpha + beta + gamma + delta + epsilon + zeta + eta"
    end = step_end(text, 0, 30)
    assert text[end - 1] == " " and 15 <= end <= 30


def test_a_step_cuts_inside_a_word_only_when_there_is_nothing_else() -> None:
    text = "a" * 100
    assert step_end(text, 10, 30) == 40


def test_the_last_step_is_the_whole_prompt() -> None:
    assert step_end(PROMPT, len(PROMPT) - 10, 50) == len(PROMPT)


@pytest.mark.parametrize(("chars", "seconds"), [(60, 0.6), (60, 0.4), (200, 1.0)])
def test_a_slow_step_makes_the_next_one_smaller_in_proportion(chars: int, seconds: float) -> None:
    expected = max(MIN_STEP_CHARS, int(chars * BACKGROUND_STEP_S / seconds))
    assert next_step(chars, seconds) == expected < chars


def test_a_fast_step_grows_the_next_at_most_four_times() -> None:
    assert next_step(40, 0.001) == 160


def test_never_below_the_smallest_step() -> None:
    assert next_step(30, 5.0) == MIN_STEP_CHARS


def test_no_measure_no_change() -> None:
    assert next_step(30, 0.0) is None


def test_a_pause_is_judged_by_the_recent_ones_that_lasted_as_long() -> None:
    pauses = [1.0, 1.2, 1.5, 2.0, 2.5, 9.0]
    assert likely_to_last(pauses, 0.8, 0.5)  # 4 of the 6 that reached 0.8 s reached 1.3 s
    assert not likely_to_last(pauses, 0.8, 3.0)  # 1 of 6 lasted 3.8 s
    assert not likely_to_last(pauses, 1.4, 3.0)  # 1 of the 4 that reached 1.4 s
    assert not likely_to_last(pauses, 2.2, 3.0)  # longer than all but 2, but a typing pause
    assert likely_to_last(pauses, READING_S, 3.0)  # longer than most, and long: reading


def test_early_on_only_a_reading_pause_is_taken_to_last() -> None:
    """Before three pauses are known, a pause is as likely a typing pause as not: only one
    of ``READING_S`` is taken to last."""
    assert not likely_to_last([], 0.8, 1.0)
    assert not likely_to_last([1.0, 1.0], 0.8, 1.0)
    assert likely_to_last([], READING_S, 60.0)
