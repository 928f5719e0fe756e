"""Similar windows: Jaccard over identifier sets of fixed, half-overlapping windows."""

from __future__ import annotations

from ollama_lsp.context.identifiers import line_identifiers, nearest_first, partial_at_end
from ollama_lsp.context.similar import Match, WindowIndex, best_windows


def test_identifiers_leave_out_keywords_and_single_letters() -> None:
    assert line_identifiers("    return self.total(x, tax_rate)") == {"total", "tax_rate"}


def test_nearest_first_and_partial_identifier() -> None:
    assert nearest_first("alpha(beta)\ngamma = alpha") == ["alpha", "gamma", "beta"]
    assert partial_at_end("total = order_to") == "order_to"
    assert partial_at_end("total = f(") is None


def test_windows_cover_the_file_every_half_window() -> None:
    lines = [f"line_{n} = {n}" for n in range(50)]
    index = WindowIndex(lines, 20)
    assert index.spans == [(0, 20), (10, 30), (20, 40), (30, 50)]
    assert index.sizes[0] == 20
    assert WindowIndex(lines[:45], 20).spans[-1] == (30, 45)
    assert WindowIndex(lines[:5], 20).spans == [(0, 5)]


def test_jaccard_score_and_threshold() -> None:
    lines = ["alpha beta gamma delta"] + ["unrelated_a unrelated_b"] * 3 + ["x"] * 4
    index = WindowIndex(lines, 4)  # windows of 4 lines, step 2
    (best,) = [m for m in index.matches(frozenset({"alpha", "beta"})) if m.start == 0]
    # window 0 holds alpha beta gamma delta unrelated_a unrelated_b: 2 shared of 6
    assert best.score == 2 / 6
    assert index.matches(frozenset({"alpha", "beta"}), threshold=0.5) == []
    assert index.matches(frozenset()) == []


def test_best_windows_do_not_overlap_and_ties_go_to_the_earlier() -> None:
    matches = [Match(0.5, 10, 30), Match(0.5, 0, 20), Match(0.9, 20, 40), Match(0.2, 40, 60)]
    assert best_windows(matches, 3) == [Match(0.9, 20, 40), Match(0.5, 0, 20), Match(0.2, 40, 60)]
    assert best_windows(matches, 1) == [Match(0.9, 20, 40)]
