"""Recent edits: merged when adjacent, newest first, bounded, moving with their text."""

from __future__ import annotations

from ollama_lsp.context.edits import EditRange, RecentEdits, changed_range


def spans(edits: RecentEdits) -> list[tuple[str, int, int]]:
    return [(r.key, r.first, r.last) for r in edits.newest_first()]


def test_adjacent_edits_merge_and_move_to_the_front() -> None:
    edits = RecentEdits(8)
    edits.record("a", [10])
    edits.record("b", [3])
    edits.record("a", [11])
    edits.record("a", [12])
    assert spans(edits) == [("a", 10, 12), ("b", 3, 3)]


def test_distant_edits_stay_apart_and_the_oldest_falls_off() -> None:
    edits = RecentEdits(2)
    edits.record("a", [1])
    edits.record("a", [40])
    edits.record("a", [80])
    assert spans(edits) == [("a", 80, 80), ("a", 40, 40)]


def test_inserted_lines_move_the_ranges_below() -> None:
    edits = RecentEdits(8)
    edits.record("a", [50])
    edits.record("b", [50])
    edits.record("a", [5, 6, 7], line_delta=3)
    assert spans(edits) == [("a", 5, 7), ("b", 50, 50), ("a", 53, 53)]


def test_forget_and_resize() -> None:
    edits = RecentEdits(8)
    for n in range(0, 50, 10):
        edits.record("a", [n])
    edits.record("b", [1])
    edits.forget("b")
    edits.resize(2)
    assert spans(edits) == [("a", 40, 40), ("a", 30, 30)]
    assert edits.newest_first()[0] == EditRange("a", 40, 40)


def test_changed_range_finds_the_lines_between_common_head_and_tail() -> None:
    old = ["a", "b", "c", "d"]
    assert changed_range(old, ["a", "B", "c", "d"]) == ([1], 0)
    assert changed_range(old, ["a", "b", "x", "y", "c", "d"]) == ([2, 3], 2)
    assert changed_range(old, ["a", "d"]) == ([1], -2)
    assert changed_range(old, list(old)) == ([], 0)
