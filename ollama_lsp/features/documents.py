"""Document sync beyond pygls's own: the workspace context and the engine hear of opened,
changed, saved and closed documents (pygls keeps the texts, as ``LineDocument``s)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from lsprotocol import types

if TYPE_CHECKING:
    from ..server import OllamaLanguageServer


def register(server: OllamaLanguageServer) -> None:
    """Add the document handlers to ``server``."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: OllamaLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.context.opened(item.uri, unquote(urlparse(item.uri).path), item.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: OllamaLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        lines: list[int] = []
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start = change.range.start.line
                lines.extend(range(start, start + change.text.count("\n") + 1))
        ls.context.changed(params.text_document.uri, lines)
        ls.engine.edited(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: OllamaLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.context.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: OllamaLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.context.closed(params.text_document.uri)
        ls.engine.close_document(params.text_document.uri)
        ls.inline_documents.discard(params.text_document.uri)
