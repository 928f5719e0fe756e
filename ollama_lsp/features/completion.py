"""Completion features: ``textDocument/inlineCompletion`` (ghost text), ``textDocument/completion``
(a menu item, for editors without inline completion), and what the editor tells us back —
an accepted suggestion (our command) and Copilot's shown / partly accepted notifications.

The handlers turn LSP positions into a ``Query`` and the engine's texts into LSP items; the
progress shown while the model generates starts only when the model is really asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..completion.engine import Query
from ..positions import Cursor, content, encoding_name, units
from ..progress import WorkDone

if TYPE_CHECKING:
    from ..server import OllamaLanguageServer
else:  # pygls resolves command handlers' annotations at run time (see ``commands``)
    from pygls.lsp.server import LanguageServer as OllamaLanguageServer

#: Answers that come this soon after the model was asked show no progress at all: a warm
#: model's one-line suggestion takes about that long, and a status-bar spinner flashing on
#: every keystroke is noise. Counted from the ask, not from the request (see ``_complete``).
PROGRESS_DELAY_S = 0.3
ACCEPTED_COMMAND = "ollama.accepted"
#: Copilot's notifications about inline suggestions (not in LSP 3.18), supported as well.
DID_SHOW_COMPLETION = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT_COMPLETION = "textDocument/didPartiallyAcceptCompletion"
COMPLETION_TRIGGERS = [".", "(", "[", "{", ",", ":", "=", "\n"]


def register(server: OllamaLanguageServer) -> None:
    """Add the completion handlers to ``server``."""

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: OllamaLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        ls.inline_documents.add(params.text_document.uri)
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        wanted = ls.settings.completion.candidates if invoked else 1
        texts, cursor = await _complete(ls, params, invoked, params.work_done_token, wanted)
        position = types.Position(params.position.line, cursor.character)
        command = _accepted_command(params.text_document.uri)
        items = [
            types.InlineCompletionItem(
                insert_text=text, range=types.Range(position, position), command=command
            )
            for text in texts
        ]
        return types.InlineCompletionList(items=items)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=COMPLETION_TRIGGERS),
    )
    async def completion(
        ls: OllamaLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList:
        context = params.context
        invoked = context is None or context.trigger_kind == types.CompletionTriggerKind.Invoked
        if not invoked and params.text_document.uri in ls.inline_documents:
            # Typing a trigger character ("\n", ".") in an editor that also asks for inline
            # completions sends both requests at once, and the engine lets the newer one
            # supersede the older: they would cancel each other. The ghost text serves this
            # document; complete=False so the client does not re-ask on every keystroke.
            return types.CompletionList(is_incomplete=False, items=[])
        texts, cursor = await _complete(ls, params, invoked, params.work_done_token)
        text = texts[0] if texts else ""
        if not text:
            return types.CompletionList(is_incomplete=True, items=[])
        line = content(ls.document(params.text_document.uri).line_list[cursor.line])
        word = word_before(line, cursor.column)
        encoding = encoding_name(ls.workspace.position_encoding)
        end = types.Position(params.position.line, cursor.character)
        start = types.Position(end.line, end.character - units(word, encoding))
        item = _completion_item(ls, word + text, types.Range(start, end), params.text_document.uri)
        return types.CompletionList(is_incomplete=True, items=[item])

    @server.feature(DID_SHOW_COMPLETION)
    def did_show_completion(ls: OllamaLanguageServer, params: Any) -> None:
        """Copilot's notification that a suggestion was really displayed."""
        ls.engine.counts.displayed_in(_item_uri(params))

    @server.feature(DID_PARTIALLY_ACCEPT_COMPLETION)
    def did_partially_accept(ls: OllamaLanguageServer, params: Any) -> None:
        """Copilot's notification that the user took part of a suggestion (word by word)."""
        uri = _item_uri(params)
        length = getattr(params, "acceptedLength", None)
        if uri is not None and isinstance(length, int) and not isinstance(length, bool):
            ls.engine.counts.accept_part(uri, length)

    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: OllamaLanguageServer, *args: Any) -> None:
        uri = args[0] if args else None
        if isinstance(uri, str):
            ls.engine.accepted(uri)


async def _complete(
    ls: OllamaLanguageServer,
    params: types.TextDocumentPositionParams,
    invoked: bool,
    token: types.ProgressToken | None,
    candidates: int = 1,
) -> tuple[list[str], Cursor]:
    document = ls.document(params.text_document.uri)
    cursor = ls.cursor(document, params.position)
    query = Query(
        uri=document.uri,
        lines=document.line_list,
        line=cursor.line,
        column=cursor.column,
        invoked=invoked,
        path=document.path,
        language=document.language_id,
    )
    title = f"Generating with {ls.settings.model}…"
    async with WorkDone(ls, title, token=token, delay=PROGRESS_DELAY_S, on_start=True) as progress:

        def on_tokens(n: int) -> None:
            # The engine calls on_tokens(0) when it asks the model (starts or joins a generation),
            # so time spent waiting out the debounce or answered from the cache shows nothing.
            progress.start()
            if n:
                progress.report(f"{n} tokens")

        texts = await ls.engine.candidates(query, candidates, on_tokens=on_tokens)
    return texts, cursor


def _item_uri(params: Any) -> str | None:
    """The document of a suggestion in a Copilot notification: our command carries it."""
    item = getattr(params, "item", None)
    command = getattr(item, "command", None)
    arguments = getattr(command, "arguments", None) or []
    return arguments[0] if arguments and isinstance(arguments[0], str) else None


def _accepted_command(uri: str) -> types.Command:
    return types.Command(
        title="Accept Ollama suggestion", command=ACCEPTED_COMMAND, arguments=[uri]
    )


def word_before(line: str, column: int) -> str:
    """The identifier characters right before ``column``: the word a menu client completes.

    Menu clients filter an item by the text from its range's start to the cursor and replace
    that range with the item. An item answered at ``    r`` must therefore replace ``r`` with
    ``return …`` (label and filter text starting with ``r``): an empty range at the cursor with
    ``eturn …`` is offered by no prefix filter once more is typed (``re``), and Eglot, which
    first inserts the label over the word, turns it into ``eeturn …``.
    """
    start = column
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] in "_$"):
        start -= 1
    return line[start:column]


def _completion_item(
    ls: OllamaLanguageServer, text: str, where: types.Range, uri: str
) -> types.CompletionItem:
    """One menu item for editors without inline completion: ``text`` replaces ``where`` (the
    word before the cursor, see ``word_before``); the label is its first line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), text.strip())
    label = first if len(first) <= 60 else first[:59] + "…"
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Text,
        detail=f"Ollama · {ls.settings.model}",
        documentation=_documentation(ls, text),
        text_edit=types.TextEdit(range=where, new_text=text),
        insert_text_format=types.InsertTextFormat.PlainText,
        filter_text=first,
        sort_text="0",
        preselect=True,
        command=_accepted_command(uri),
    )


def _documentation(ls: OllamaLanguageServer, text: str) -> types.MarkupContent:
    caps = ls.client_capabilities.text_document if ls.client_capabilities else None
    item = caps.completion.completion_item if caps and caps.completion else None
    formats = (item.documentation_format if item else None) or []
    if types.MarkupKind.Markdown in formats:
        return types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```\n{text}\n```")
    return types.MarkupContent(kind=types.MarkupKind.PlainText, value=text)
