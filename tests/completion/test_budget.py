"""The prompt budget: speed learned from Ollama's timings, slot memory, the window ladder."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.budget import (
    DEFAULT_TOKENS_PER_S,
    MIN_PREFIX_CHARS,
    PromptSpeed,
    SlotMemory,
    common_prefix_len,
    prefix_ladder,
)


def test_the_first_big_sample_replaces_the_assumption() -> None:
    speed = PromptSpeed()
    speed.observe(500, 2_000_000_000, chars=2000)  # 250 tokens/s, 4 chars a token
    assert speed.tokens_per_s == pytest.approx(250)
    assert speed.chars_per_token == pytest.approx(4)
    assert speed.affordable_chars(1.0) == 1000


def test_later_samples_move_the_estimate_smoothly() -> None:
    speed = PromptSpeed()
    speed.observe(500, 1_000_000_000, chars=0)  # 500/s
    speed.observe(100, 1_000_000_000, chars=0)  # 100/s
    assert 100 < speed.tokens_per_s < 500


@pytest.mark.parametrize(("tokens", "ns"), [(None, 10), (5, 10_000_000), (100, 0), (0, 0)])
def test_samples_too_small_to_measure_evaluation_are_ignored(tokens, ns) -> None:
    speed = PromptSpeed()
    speed.observe(tokens, ns, chars=100)
    assert speed.tokens_per_s == DEFAULT_TOKENS_PER_S
    assert speed.samples == 0


def test_chars_per_token_is_kept_plausible() -> None:
    speed = PromptSpeed()
    speed.observe(100, 1_000_000_000, chars=100_000)
    assert speed.chars_per_token <= 6.0


@pytest.mark.parametrize(
    ("a", "b", "n"),
    [
        ("", "", 0),
        ("abc", "abc", 3),
        ("abc", "abd", 2),
        ("abc", "abcdef", 3),
        ("x" * 5000 + "a", "x" * 5000 + "b", 5000),
        ("y" + "x" * 5000, "x" * 5000, 0),
    ],
)
def test_common_prefix_length(a: str, b: str, n: int) -> None:
    assert common_prefix_len(a, b) == n
    assert common_prefix_len(b, a) == n


def test_slot_memory_costs_only_what_follows_the_shared_start() -> None:
    slot = SlotMemory()
    assert slot.cost("def f():\n") == 9
    slot.evaluated("def f():\n", "    return 1")
    assert slot.cost("def f():\n    return 1\n") == 1
    assert slot.cost("def g():\n") == 5


def test_an_interrupted_evaluation_keeps_only_the_certain_part() -> None:
    slot = SlotMemory()
    slot.evaluated("import os\nimport sys\n")
    slot.interrupted("import os\nimport re\n")
    assert slot.text == "import os\nimport "


def test_the_ladder_halves_down_to_the_affordable_rung() -> None:
    assert prefix_ladder(8000, 1500) == [8000, 4000, 2000, 1000]
    assert prefix_ladder(8000, 100_000) == [8000]


def test_the_ladder_never_goes_below_the_smallest_useful_window() -> None:
    ladder = prefix_ladder(8000, 1)
    assert ladder[-1] >= MIN_PREFIX_CHARS
    assert ladder[-1] // 2 < MIN_PREFIX_CHARS


def test_rungs_do_not_move_with_the_learned_speed() -> None:
    """Any cold budget between two rungs gives the same windows (anchored starts hold)."""
    assert prefix_ladder(8000, 1100) == prefix_ladder(8000, 1900)
