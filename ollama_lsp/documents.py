"""Open documents kept as lists of lines, so a keystroke costs the same in a 2 MB file as in
a small one.

Editors send one ``didChange`` per keystroke. pygls keeps a document as one string and applies
an incremental change by splitting it into lines and writing every line back in a Python loop:
about 20 ms per keystroke in a 2 MB file, on the event loop that also answers completions.
Here a change replaces only the lines it touches (the rest of the list is moved, not copied
character by character), and a position is found by indexing the list.

``LineDocument`` is a pygls ``TextDocument``, so the rest of pygls (``source``, ``lines``,
``offset_at_position``...) keeps working, at pygls's own cost; ``LineWorkspace`` makes the
workspace create them. pygls builds its ``Workspace`` inside its own ``initialize`` handler and
offers no factory for documents, so ``install`` swaps the workspace right after, before any
document is opened; this is the one place that relies on a pygls internal.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument, Workspace

from .positions import content, index_in_line


class LineDocument(TextDocument):
    """A text document stored as its lines (split at ``\\n``; CRLF lines keep their ``\\r``)."""

    def __init__(self, uri: str, source: str | None = None, **kwargs: object) -> None:
        super().__init__(uri, None, **kwargs)  # type: ignore[arg-type]
        self._lines: list[str] | None = None if source is None else source.split("\n")

    @property
    def line_list(self) -> Sequence[str]:
        """The document's lines, without their ``\\n``; not a copy, do not modify."""
        if self._lines is None:  # an unopened document: pygls reads it from disk
            self._lines = super().source.split("\n")
        return self._lines

    @property
    def source(self) -> str:
        return "\n".join(self.line_list)

    def _apply_full_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        self._lines = change.text.split("\n")

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = self.line_list
        assert isinstance(lines, list)
        encoding = str(self.position_codec.encoding)
        start = _place(lines, change.range.start, encoding)
        end = _place(lines, change.range.end, encoding)
        if end < start:
            start, end = end, start
        (first, column), (last, end_column) = start, end
        joined = lines[first][:column] + change.text + lines[last][end_column:]
        lines[first : last + 1] = joined.split("\n")


def _place(lines: list[str], position: types.Position, encoding: str) -> tuple[int, int]:
    """(line, code-point index) of ``position``; past the end means the end, as in pygls."""
    if position.line >= len(lines):
        return len(lines) - 1, len(lines[-1])
    line = lines[position.line]
    return position.line, index_in_line(content(line), position.character, encoding)


class LineWorkspace(Workspace):
    """A pygls workspace whose text documents are ``LineDocument``s."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LineDocument(
            doc_uri,
            source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )


def install(ls: LanguageServer) -> None:
    """Replace the workspace pygls just created (in ``initialize``) with a ``LineWorkspace``."""
    current = ls.workspace
    ls.protocol._workspace = LineWorkspace(
        current.root_uri,
        current._sync_kind,
        list(current.folders.values()),
        current.position_encoding,
    )
