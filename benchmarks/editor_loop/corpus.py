"""What the typist types, and when: real code not written by us, read from the installed Python.

The code is the body of ``statistics._decimal_sqrt_of_frac`` from the running interpreter's
standard library (read at run time, like the tests read ``textwrap.__file__``, so nothing
third-party is committed; ``textwrap`` itself is what the tests use), after its opening
comment: code, not prose. The document is the whole ``statistics.py`` with that code replaced
by one empty line, the cursor on it; the typist types the code back. The cursor therefore always sits at the end of its line with the
rest of the file below, where a fill-in-the-middle model sees both sides.

A key is one character, or Enter together with the next line's indentation (what an editor's
auto-indent gives; the driver sends it as one input, so the editor sees one change).
The gaps are seeded lognormal (median ~150 ms), longer after punctuation, longer at line
ends, and now and then a pause to think (1-2.5 s), so that pauses >= 1 s occur.
"""

from __future__ import annotations

import random
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

FUNCTION = "def _decimal_sqrt_of_frac"
KEY = re.compile(r"\n[ \t]*|.", re.S)


@dataclass(frozen=True)
class Corpus:
    head: str
    """The document before the cursor (ends with a newline)."""
    tail: str
    """The document after the cursor line (starts with a newline: the cursor line is empty)."""
    target: str
    """What the typist types."""
    name: str

    @property
    def document(self) -> str:
        return self.head + self.tail

    @property
    def start_row(self) -> int:
        """The cursor's line, 1-based."""
        return self.head.count("\n") + 1

    @property
    def tail_lines(self) -> int:
        """Lines after the cursor line (never touched by the typist)."""
        return self.tail.count("\n") - 1  # the first ends the cursor line, the last the file

    def keys(self, limit: int | None = None) -> list[tuple[int, str]]:
        """``(offset, text)`` of each key in order, at most ``limit``."""
        found = [(m.start(), m.group(0)) for m in KEY.finditer(self.target)]
        return found[:limit] if limit else found


def load() -> Corpus:
    """The corpus from this interpreter's ``statistics.py`` (fails loudly if it changed shape)."""
    path = Path(statistics.__file__)
    text = path.read_text()
    start = text.index(FUNCTION)
    doc_end = text.index('"""', text.index('"""', start) + 3)
    body_start = text.index("\n", doc_end) + 1
    while text[body_start:].lstrip(" ").startswith("#"):  # its opening comment stays as context
        body_start = text.index("\n", body_start) + 1
    body_end = text.index("\n\n\n", body_start)
    target = text[body_start:body_end]
    if not target.isascii():
        raise RuntimeError(f"{path}: the corpus must be ASCII (columns are bytes)")
    head = text[:body_start]
    tail = text[body_end:]
    return Corpus(head, tail, target, f"{path.name}:{FUNCTION[4:]}")


def delays(corpus: Corpus, seed: int, limit: int | None = None) -> list[float]:
    """Seconds to wait before each key: the typist's rhythm, the same for every client."""
    rng = random.Random(seed)
    keys = corpus.keys(limit)
    out: list[float] = []
    previous = "\n"
    for _, text in keys:
        gap = rng.lognormvariate(-1.9, 0.35)  # median ~150 ms
        if not previous[-1].isalnum():
            gap += 0.08
        if previous.startswith("\n"):
            gap += rng.uniform(0.4, 1.0)
        if rng.random() < 0.03:
            gap += rng.uniform(1.0, 2.5)  # thinking
        out.append(gap)
        previous = text
    return out
