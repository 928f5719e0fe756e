"""One open file as the workspace context holds it, and the paths prompts show for it.

The text is kept as the editor last sent it; what is derived from it (lines, imported names,
definitions, similar-window index) is computed when first asked and dropped on each change,
so a keystroke costs only the store. Paths are workspace-relative: prompts show them, and an
absolute path would say where the user keeps their files for no gain to the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from .definitions import Definition
from .identifiers import nearest_first
from .records import Snippet
from .similar import WindowIndex

#: How lines that take names from other files start (Python, JS/TS, Rust).
IMPORT_LINES = ("import ", "from ", "use ", "pub use ")


@dataclass(slots=True)
class OpenFile:
    """An open document: its text and the indexes built from it (None: not built yet)."""

    uri: str
    #: workspace-relative path
    path: str
    language: str | None
    #: the syntax group its definitions are found with (None: not a language we read)
    group: str | None
    text: str
    _lines: list[str] | None = None
    _imports: list[str] | None = None
    definitions: list[Definition] | None = None
    windows: WindowIndex | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    @property
    def imports(self) -> list[str]:
        """Names on the file's import lines (``import``/``from``/``use``), in file order:
        what it takes from other files, even when those lines are far above the cursor."""
        if self._imports is None:
            seen: dict[str, None] = {}
            open_paren = False
            for line in self.lines:
                if line.startswith(IMPORT_LINES) or open_paren:
                    seen.update(dict.fromkeys(nearest_first(line)[::-1]))
                    # ``from x import (`` continues until its ``)``
                    open_paren = (open_paren or "(" in line) and ")" not in line
            self._imports = list(seen)
        return self._imports

    def replace(self, text: str) -> None:
        """The file now reads ``text``: everything derived from the old text is stale."""
        self.text = text
        self._lines = None
        self._imports = None
        self.definitions = None
        self.windows = None

    def snippet(self, start: int, stop: int, kind: str) -> Snippet | None:
        """Lines ``[start, stop)`` as a snippet, blank lines at either end left out."""
        lines = self.lines
        start, stop = max(0, start), min(len(lines), stop)
        while start < stop and not lines[start].strip():
            start += 1
        while stop > start and not lines[stop - 1].strip():
            stop -= 1
        if start >= stop:
            return None
        text = "\n".join(line.rstrip("\r") for line in lines[start:stop])
        return Snippet(self.path, text, kind, start)


def as_path(location: str) -> str:
    """A filesystem path from a path or a ``file:`` URI."""
    if "://" in location or location.startswith("file:"):
        return unquote(urlparse(location).path)
    return location


def relative_to(root: str | None, path: str) -> str:
    """``path`` (with ``/`` separators) relative to ``root`` when it lies under it, else as is."""
    path = path.replace("\\", "/")
    if root:
        prefix = root.replace("\\", "/").rstrip("/") + "/"
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path
