"""The records the context package hands out and takes in: snippets and their settings.

Kept apart from the sources so that the engine, the layout and the server can import them
without pulling in any index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["definition", "similar", "edit", "open"]

#: Presentation order in the block: fixed, so that one more snippet of one kind never moves
#: the snippets of another kind, and from the least to the most volatile source (edits change
#: with every pause), so a change tends to come late and the shared prompt prefix stays long.
KIND_ORDER: dict[str, int] = {"definition": 0, "open": 1, "similar": 2, "edit": 3}

#: Characters per token, roughly, for code: the budget is given in tokens but spent in chars.
CHARS_PER_TOKEN = 3

#: What a snippet costs beyond its text once rendered: a header with its path and the
#: separators around it. Over-estimated on purpose, so a block never exceeds its budget.
HEADER_OVERHEAD = 24


@dataclass(frozen=True, slots=True)
class Snippet:
    """Whole lines of another place in the workspace, and where they come from."""

    #: workspace-relative path (or the URI's path when there is no workspace root)
    path: str
    #: whole lines joined with ``\\n``, without a final newline
    text: str
    kind: str
    #: where the text starts in its file (0-based line)
    first_line: int

    @property
    def last_line(self) -> int:
        return self.first_line + self.text.count("\n")

    @property
    def cost(self) -> int:
        """Characters this snippet takes in a rendered block (an upper bound)."""
        return len(self.text) + len(self.path) + HEADER_OVERHEAD

    def overlaps(self, other: Snippet) -> bool:
        return (
            self.path == other.path
            and self.first_line <= other.last_line
            and other.first_line <= self.last_line
        )


def presentation_key(snippet: Snippet) -> tuple[int, str, int]:
    """Stable order for a block: by kind, then path, then line — never by score."""
    return (KIND_ORDER.get(snippet.kind, len(KIND_ORDER)), snippet.path, snippet.first_line)


@dataclass(frozen=True, slots=True)
class ContextSettings:
    """What the workspace context may use; each key carries its doc and check for settings.py.

    The metadata is plain data (``settings.py`` reads it): ``check`` is a ``(lo, hi)`` range,
    and a ``bool`` key needs none. That way this module imports nothing from the settings.
    """

    enabled: bool = field(default=True, metadata={"doc": "Put workspace context in prompts."})
    #: the whole block, in tokens (chars ≈ 3 × tokens)
    max_tokens: int = field(
        default=512, metadata={"doc": "Tokens the context block may take.", "check": (0, 32_768)}
    )
    definitions: bool = field(
        default=True, metadata={"doc": "Include definitions of names used near the cursor."}
    )
    similar: bool = field(
        default=True, metadata={"doc": "Include similar windows from other open files."}
    )
    recent_edits: bool = field(default=True, metadata={"doc": "Include your recent edits."})
    max_snippets: int = field(
        default=6, metadata={"doc": "Most snippets in the block.", "check": (0, 64)}
    )
    similar_window_lines: int = field(
        default=24, metadata={"doc": "Lines in one similar window.", "check": (4, 400)}
    )
    max_edits: int = field(
        default=8, metadata={"doc": "Most recent edits remembered.", "check": (0, 256)}
    )

    @property
    def max_chars(self) -> int:
        return self.max_tokens * CHARS_PER_TOKEN
