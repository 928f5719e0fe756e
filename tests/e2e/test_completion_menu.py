"""The ``textDocument/completion`` item — the suggestion as a menu entry, for editors without
ghost text (Eglot, Neovim 0.11, VS Code with inline suggestions off) — replaces the word being
typed (issue 19).

Menu clients filter an item with the text from its range's start to the cursor and replace
that range with it. Asked at ``    r``, an item for ``eturn …`` at an empty range left Eglot with
``    eeturn …`` and was filtered out by every prefix match once ``e`` was typed; the item is
``return …`` over the ``r``, its range counted in the client's position units.
"""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import StartLsp, open_document

URI = "file:///work/project/circle.py"


def document(word: str) -> str:
    return (
        f"import math\n\n\ndef circumference(radius):\n    {word}\n\n\nprint(circumference(1.0))\n"
    )


async def complete(client: LanguageClient, line: int, character: int) -> types.CompletionItem:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line, character),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    assert isinstance(result, types.CompletionList)
    (item,) = result.items
    return item


@pytest.mark.parametrize("editor", ["neovim@v0.11", "visual-studio-code"])
async def test_the_item_replaces_the_word_before_the_cursor(
    start_lsp: StartLsp, ollama_double, editor: str
) -> None:
    client = await start_lsp(editor)
    open_document(client, URI, document("r"))
    ollama_double.script("return 2 * math.pi * radius")
    item = await complete(client, 4, 5)
    assert item.label == item.filter_text == "return 2 * math.pi * radius"
    assert item.text_edit == types.TextEdit(
        range=types.Range(types.Position(4, 4), types.Position(4, 5)),
        new_text="return 2 * math.pi * radius",
    )


@pytest.mark.parametrize(("editor", "width"), [("neovim@v0.11", 3), ("visual-studio-code", 2)])
async def test_the_word_is_counted_in_the_clients_units(
    start_lsp: StartLsp, ollama_double, editor: str, width: int
) -> None:
    """``πr``: ``π`` is 2 UTF-8 bytes (Neovim), 1 UTF-16 unit (VS Code)."""
    client = await start_lsp(editor)
    open_document(client, URI, document("πr"))
    ollama_double.script("πr**2")
    item = await complete(client, 4, 4 + width)
    assert item.filter_text == "πr**2"
    assert item.text_edit == types.TextEdit(
        range=types.Range(types.Position(4, 4), types.Position(4, 4 + width)), new_text="πr**2"
    )


async def test_after_punctuation_the_item_inserts_at_the_cursor(
    start_lsp: StartLsp, ollama_double
) -> None:
    client = await start_lsp("neovim@v0.11")
    open_document(client, URI, document("return ("))
    ollama_double.script("2 * math.pi * radius)")
    item = await complete(client, 4, len("    return ("))
    assert item.text_edit == types.TextEdit(
        range=types.Range(types.Position(4, 12), types.Position(4, 12)),
        new_text="2 * math.pi * radius)",
    )
