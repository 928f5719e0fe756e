"""Choosing snippets for a block: several sources, one budget, whole snippets only.

Sources take turns (the best definition, the best similar window, the newest edit, then
the second of each...), so one prolific source cannot crowd out the others; a snippet that
does not fit is skipped for a smaller one after it, never cut. The chosen snippets are then
put in a fixed presentation order — by kind, path and line, not by score — so that adding
or dropping one snippet leaves the bytes before it unchanged (Ollama reuses only an exact
prompt prefix).
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import Snippet, presentation_key


def choose(
    sources: Sequence[Sequence[Snippet]], *, budget_chars: int, max_snippets: int
) -> tuple[Snippet, ...]:
    """Snippets from ``sources`` (each best first) within ``budget_chars`` in total."""
    chosen: list[Snippet] = []
    left = budget_chars
    queues = [list(source) for source in sources]
    turn = 0
    while len(chosen) < max_snippets and any(queues):
        queue = queues[turn % len(queues)]
        turn += 1
        while queue:
            candidate = queue.pop(0)
            if candidate.cost > left or any(candidate.overlaps(c) for c in chosen):
                continue
            chosen.append(candidate)
            left -= candidate.cost
            break
    return tuple(sorted(chosen, key=presentation_key))
