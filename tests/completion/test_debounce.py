"""The adaptive debounce: typing rhythm and cursor place decide how long to wait."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.debounce import (
    DEFAULT_GAP_S,
    FASTEST_RATE,
    MAX_GAP_S,
    SLOWEST_RATE,
    Debouncer,
    readiness,
)

URI = "file:///a.py"
LIMITS = {"floor_s": 0.1, "ceiling_s": 5.0}


def typed(gaps: list[float], uri: str = URI) -> Debouncer:
    debouncer, now = Debouncer(), 100.0
    debouncer.keystroke(uri, now)
    for gap in gaps:
        now += gap
        debouncer.keystroke(uri, now)
    return debouncer


@pytest.mark.parametrize(
    ("prefix", "suffix", "expected"),
    [
        ("    retu", "rn x\nmore", 0.0),  # mid-word, mid-line, more file below
        ("    retu", "\nmore", 0.4),  # mid-word at the end of a line
        ("    retu", "", 0.5),  # mid-word at the end of the file
        ("foo(", ")\nmore", 0.5),  # after punctuation, text follows on the line
        ("foo(", "\nmore", 0.9),
        ("x = ", "", 1.0),
        ("", "", 1.0),  # empty document
    ],
)
def test_readiness_scores_the_cursor_place(prefix: str, suffix: str, expected: float) -> None:
    assert readiness(prefix, suffix) == pytest.approx(expected)


def test_wait_is_a_multiple_of_the_mean_gap() -> None:
    debouncer = typed([0.1, 0.2, 0.1, 0.2])
    mid_word = debouncer.delay(URI, "retu", "rn\nx", **LIMITS)
    ready = debouncer.delay(URI, "x = ", "", **LIMITS)
    assert mid_word == pytest.approx(0.15 * SLOWEST_RATE)
    assert ready == pytest.approx(0.15 * FASTEST_RATE)


def test_pauses_do_not_count_as_rhythm() -> None:
    debouncer = typed([0.1, MAX_GAP_S + 5, 0.1])
    assert debouncer.delay(URI, "x = ", "", **LIMITS) == pytest.approx(0.1 * FASTEST_RATE)


def test_unknown_rhythm_assumes_a_brisk_typist() -> None:
    delay = Debouncer().delay(URI, "x = ", "", **LIMITS)
    assert delay == pytest.approx(DEFAULT_GAP_S * FASTEST_RATE)


def test_wait_is_clamped_between_floor_and_ceiling() -> None:
    fast = typed([0.01] * 10)
    slow = typed([1.0] * 10)
    assert fast.delay(URI, "x = ", "", floor_s=0.15, ceiling_s=0.6) == 0.15
    assert slow.delay(URI, "retu", "rn\nx", floor_s=0.15, ceiling_s=0.6) == 0.6
    # a ceiling below the floor never cuts the floor the user asked for
    assert slow.delay(URI, "retu", "rn\nx", floor_s=0.3, ceiling_s=0.1) == 0.3


def test_fixed_mode_waits_exactly_the_floor() -> None:
    debouncer = typed([1.0] * 10)
    assert debouncer.delay(URI, "retu", "rn", floor_s=0.15, ceiling_s=0.6, adaptive=False) == 0.15
    assert debouncer.delay(URI, "retu", "rn", floor_s=0.0, ceiling_s=0.6) == 0.0


def test_documents_keep_their_own_rhythm_and_forget_it_on_close() -> None:
    debouncer = typed([1.0] * 5, uri="file:///slow.py")
    for n in range(5):
        debouncer.keystroke(URI, 200.0 + n * 0.1)
    assert debouncer.delay(URI, "x = ", "", **LIMITS) == pytest.approx(0.1 * FASTEST_RATE)
    assert debouncer.delay("file:///slow.py", "x = ", "", **LIMITS) == pytest.approx(FASTEST_RATE)
    debouncer.forget("file:///slow.py")
    expected = DEFAULT_GAP_S * FASTEST_RATE
    assert debouncer.delay("file:///slow.py", "x = ", "", **LIMITS) == pytest.approx(expected)
