"""The context block of each document, as the completion engine asks for it.

Two rules make workspace context cheap for Ollama, whose prompt cache reuses only an exact
prompt start: the block changes only when the user pauses (``refresh=True``; between
pauses a document keeps the block it had, byte for byte), and document text is read only
then, never per keystroke (a keystroke only marks its document dirty and notes the edited
lines; ``text_of`` is called for dirty documents at the next refresh).

Pure: no LSP, no HTTP. The server feeds the events; the engine asks for blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .layout import placement, render_block
from .records import ContextSettings
from .workspace import WorkspaceContext

__all__ = ["ContextBlocks", "placement"]


class ContextBlocks:
    """Per-document context blocks over a ``WorkspaceContext``, refreshed at pauses only."""

    def __init__(
        self,
        text_of: Callable[[str], str | None],
        settings: ContextSettings | None = None,
        root: str | None = None,
    ) -> None:
        self.workspace = WorkspaceContext(settings or ContextSettings(), root)
        self._text_of = text_of
        self._dirty: dict[str, set[int]] = {}
        self._blocks: dict[str, tuple[str, str]] = {}  # uri -> (family, block)

    @property
    def settings(self) -> ContextSettings:
        return self.workspace.settings

    def configure(self, settings: ContextSettings) -> None:
        self.workspace.configure(settings)
        self._blocks.clear()

    def set_root(self, root: str | None) -> None:
        """The workspace folder (known after ``initialize``); paths become relative to it."""
        self.workspace = WorkspaceContext(self.workspace.settings, root)
        self._blocks.clear()
        self._dirty.clear()

    # -- events (the server) ----------------------------------------------------------------

    def opened(self, uri: str, path: str, language: str | None) -> None:
        text = self._text_of(uri)
        if text is not None:
            self.workspace.opened(uri, path, language, text)
        self._dirty.pop(uri, None)

    def changed(self, uri: str, lines: Iterable[int] = ()) -> None:
        self._dirty.setdefault(uri, set()).update(lines)

    def saved(self, uri: str) -> None:
        self._flush(uri)
        self.workspace.saved(uri)

    def closed(self, uri: str) -> None:
        self._dirty.pop(uri, None)
        self._blocks.pop(uri, None)
        self.workspace.closed(uri)

    # -- what the engine asks ---------------------------------------------------------------

    def block(
        self,
        uri: str,
        *,
        family: str,
        language: str | None,
        path: str | None,
        prefix_tail: str,
        window: tuple[int, int],
        budget_chars: int,
        refresh: bool,
    ) -> str:
        """The block for a prompt in ``uri``: the kept one, unless ``refresh`` (a pause) or none
        was made yet for this family."""
        kept = self._blocks.get(uri)
        if kept is not None and kept[0] == family and not refresh:
            return kept[1]
        if not self.settings.enabled or budget_chars <= 0:
            self._blocks[uri] = (family, "")
            return ""
        for dirty in list(self._dirty):
            self._flush(dirty)
        snippets = self.workspace.select(uri, prefix_tail, budget_chars=budget_chars, window=window)
        current = self.workspace.relative(path) if path else None
        block = render_block(
            snippets,
            family,
            language=language,
            current_path=current,
            repo=self.workspace.repo_name,
        )
        self._blocks[uri] = (family, block)
        return block

    def _flush(self, uri: str) -> None:
        lines = self._dirty.pop(uri, None)
        if lines is None:
            return
        text = self._text_of(uri)
        if text is not None:
            self.workspace.changed(uri, text, sorted(lines))
