"""Choosing snippets within a budget: turns between sources, whole snippets, stable order."""

from __future__ import annotations

from ollama_lsp.context.budget import choose
from ollama_lsp.context.records import Snippet


def snip(path: str, line: int, kind: str, size: int = 10) -> Snippet:
    return Snippet(path, "x" * size, kind, line)


def test_sources_take_turns_and_the_block_is_ordered_by_kind_path_line() -> None:
    definitions = [snip("z.py", 5, "definition"), snip("a.py", 1, "definition")]
    similar = [snip("m.py", 40, "similar"), snip("b.py", 0, "similar")]
    edits = [snip("c.py", 9, "edit")]
    chosen = choose([definitions, similar, edits], budget_chars=10_000, max_snippets=4)
    assert [(s.kind, s.path) for s in chosen] == [
        ("definition", "a.py"),
        ("definition", "z.py"),
        ("similar", "m.py"),
        ("edit", "c.py"),
    ]


def test_budget_counts_whole_snippets_and_skips_to_smaller_ones() -> None:
    big, small = snip("a.py", 0, "definition", 500), snip("b.py", 0, "definition", 20)
    budget = small.cost + 10
    assert choose([[big, small]], budget_chars=budget, max_snippets=6) == (small,)
    chosen = choose([[big, small]], budget_chars=big.cost + small.cost, max_snippets=6)
    assert sum(s.cost for s in chosen) <= big.cost + small.cost and len(chosen) == 2
    assert choose([[big]], budget_chars=big.cost - 1, max_snippets=6) == ()


def test_overlapping_snippets_are_taken_once() -> None:
    definition = Snippet("a.py", "l1\nl2\nl3", "definition", 10)
    window = Snippet("a.py", "l0\nl1", "similar", 9)
    elsewhere = Snippet("a.py", "l20", "similar", 20)
    chosen = choose([[definition], [window, elsewhere]], budget_chars=1000, max_snippets=6)
    assert chosen == (definition, elsewhere)


def test_one_more_snippet_does_not_reorder_the_others() -> None:
    base = [snip("b.py", 3, "definition"), snip("d.py", 1, "similar"), snip("e.py", 0, "edit")]
    extra = snip("c.py", 7, "similar")
    before = choose([base], budget_chars=10_000, max_snippets=6)
    after = choose([[*base, extra]], budget_chars=10_000, max_snippets=6)
    assert [s for s in after if s != extra] == list(before)
