"""The editor's side of the remote tests: one document of empty stubs, and a typist.

Each completion is asked at a fresh stub (a cache miss, so every one reaches a host), after a
keystroke typed into the comment line above them, as a user types and the editor asks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.conftest import inline, insert_text

URI = "file:///work/project/calc.py"
STUBS = 40
#: Stubs to complete at fresh places (each a cache miss), below a comment line typed into.
DOC = "# notes\n" + "".join(f"def probe_{i}(a, b):\n    \n\n" for i in range(STUBS))
WAIT_S = 15


def stub(i: int) -> tuple[int, int]:
    """The cursor inside stub ``i``'s empty body."""
    return 1 + 3 * i + 1, 4


async def complete(client: Any, i: int) -> list[str]:
    items = await asyncio.wait_for(inline(client, URI, *stub(i)), WAIT_S)
    return [item.insert_text for item in items]


class Typist:
    """Types into the comment line of ``DOC``: each keystroke is an incremental didChange."""

    def __init__(self, client: Any) -> None:
        self.client, self.version, self.column = client, 1, len("# notes")

    def type(self, text: str = "x") -> None:
        self.version += 1
        insert_text(self.client, URI, self.version, 0, self.column, text)
        self.column += len(text)
