"""Open documents kept as lists of lines, so a keystroke costs the same in a 2 MB file as in
a small one.

Editors send one ``didChange`` per keystroke. pygls keeps a document as one string and applies
an incremental change by splitting it into lines and writing every line back in a Python loop:
about 20 ms per keystroke in a 2 MB file, on the event loop that also answers completions.
Here a change replaces only the lines it touches (the rest of the list is moved, not copied
character by character), and a position is found by indexing the list.

Lines end where LSP says they do: at ``\\n``, ``\\r\\n`` and a lone ``\\r``. A line ended by
``\\r\\n`` or ``\\r`` keeps its ``\\r`` in the list (positions never point after it, see
``positions``); which of the two it was is kept aside, in a list of flags that exists only
for documents that have a lone ``\\r`` at all — almost none, so the common case pays nothing.

``LineDocument`` is a pygls ``TextDocument``, so the rest of pygls (``source``, ``lines``,
``offset_at_position``...) keeps working, at pygls's own cost; ``LineWorkspace`` makes the
workspace create them. pygls builds its ``Workspace`` inside its own ``initialize`` handler and
offers no factory for documents, so ``install`` swaps the workspace right after, before any
document is opened; this is the one place that relies on a pygls internal. A change or close
for a document that is not open is logged and ignored (pygls raises ``KeyError``, which would
reach the user as "Error in server").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument, Workspace

from .positions import content, encoding_name, index_in_line

log = logging.getLogger(__name__)


def split_lines(text: str) -> tuple[list[str], list[bool] | None]:
    """``text`` split at LSP line ends, and which lines a lone ``\\r`` ends (``None``: none).

    A line ended by ``\\r\\n`` or ``\\r`` keeps the ``\\r``. Text with no lone ``\\r`` (the
    common case, CRLF files included) is split by ``str.split`` alone.
    """
    crs = text.count("\r")
    if not crs or (crs == text.count("\r\n")):
        return text.split("\n"), None
    lines: list[str] = []
    lone: list[bool] = []
    pieces = text.split("\n")
    last = len(pieces) - 1
    for n, piece in enumerate(pieces):
        parts = piece.split("\r")
        crlf = n < last and piece.endswith("\r")  # its final \r is the \r of a \r\n
        ended = parts[:-2] if crlf else parts[:-1]
        lines.extend(part + "\r" for part in ended)
        lone.extend(True for _ in ended)
        lines.append(parts[-2] + "\r" if crlf else parts[-1])
        lone.append(False)
    return lines, lone


class LineDocument(TextDocument):
    """A text document stored as its lines (see the module docstring for line ends)."""

    def __init__(self, uri: str, source: str | None = None, **kwargs: object) -> None:
        super().__init__(uri, None, **kwargs)  # type: ignore[arg-type]
        self._lines: list[str] | None = None
        #: Per line, whether a lone ``\\r`` ends it; ``None`` while no line is.
        self._lone: list[bool] | None = None
        if source is not None:
            self._lines, self._lone = split_lines(source)

    @property
    def line_list(self) -> Sequence[str]:
        """The document's lines, without their ``\\n``; not a copy, do not modify."""
        if self._lines is None:  # an unopened document: pygls reads it from disk
            self._lines, self._lone = split_lines(super().source)
        return self._lines

    @property
    def source(self) -> str:
        lines = self.line_list
        if self._lone is None:
            return "\n".join(lines)
        ends = ["" if lone else "\n" for lone in self._lone]
        ends[-1] = ""
        return "".join(line + end for line, end in zip(lines, ends, strict=True))

    def _apply_full_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        self._lines, self._lone = split_lines(change.text)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = self.line_list
        assert isinstance(lines, list)
        encoding = encoding_name(self.position_codec.encoding)
        start = _place(lines, change.range.start, encoding)
        end = _place(lines, change.range.end, encoding)
        if end < start:
            start, end = end, start
        (first, column), (last, end_column) = start, end
        count, lone = len(lines), self._lone
        ended = last < count - 1  # the edited stretch ends with its last line's line end
        tail = lines[last][end_column:]
        if ended and not (lone and lone[last]):
            tail += "\n"
        text = lines[first][:column] + change.text + tail
        if column == 0 and first > 0 and lone and lone[first - 1] and text[:1] == "\n":
            first -= 1  # a lone \r now meets a \n: together they end one line
            text = lines[first] + text
        replaced, flags = split_lines(text)
        if ended:  # the (empty) start of the next line, which the edit did not touch
            replaced.pop()
            if flags is not None:
                flags.pop()
        lines[first : last + 1] = replaced
        if flags is not None or lone is not None:
            if lone is None:
                lone = self._lone = [False] * count
            lone[first : last + 1] = flags if flags is not None else [False] * len(replaced)


def _place(lines: list[str], position: types.Position, encoding: str) -> tuple[int, int]:
    """(line, code-point index) of ``position``; past the end means the end, as in pygls."""
    if position.line >= len(lines):
        return len(lines) - 1, len(content(lines[-1]))
    line = lines[position.line]
    return position.line, index_in_line(content(line), position.character, encoding)


class LineWorkspace(Workspace):
    """A pygls workspace whose text documents are ``LineDocument``s."""

    def update_text_document(
        self,
        text_doc: types.VersionedTextDocumentIdentifier,
        change: types.TextDocumentContentChangeEvent,
    ) -> None:
        if unquote(text_doc.uri) not in self._text_documents:  # pygls's keys
            log.warning("ignored a change to %s, which is not open", text_doc.uri)
            return
        super().update_text_document(text_doc, change)

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
