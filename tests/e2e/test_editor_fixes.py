"""What a real VS Code showed (issue 12), checked at the protocol with the real server process:
log lines reach the editor's log with their level, "Generating…" progress starts only once the
model is asked, and automatic completion requests do not compete with inline completion."""

from __future__ import annotations

import time
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import (
    StartLsp,
    generate_calls,
    inline,
    inline_client_capabilities,
    notified_until,
    open_document,
)

URI = "file:///work/project/calc.py"
DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
LINE, CHAR = 1, 4


def timed_progress(client: LanguageClient) -> list[tuple[float, dict[str, Any]]]:
    """Record when each ``$/progress`` arrives (pytest-lsp keeps only the values)."""
    seen: list[tuple[float, dict[str, Any]]] = []
    features = client.protocol.fm.features
    original = features[types.PROGRESS]

    def record(params: types.ProgressParams) -> Any:
        seen.append((time.monotonic(), dict(params.value or {})))
        return original(params)

    features[types.PROGRESS] = record
    return seen


def begins(seen: list[tuple[float, dict[str, Any]]]) -> list[tuple[float, dict[str, Any]]]:
    return [(t, v) for t, v in seen if v.get("kind") == "begin" and "Generating" in v["title"]]


async def test_info_log_lines_reach_the_editor_as_info_not_stderr(
    start_lsp: StartLsp, closed_port_host: str, capfd: Any
) -> None:
    client = await start_lsp(
        inline_client_capabilities(),
        initialization_options={"ollama": {"host": closed_port_host}},
    )
    open_document(client, URI, DOC)
    await inline(client, URI, LINE, CHAR)  # Ollama down: the server logs it at INFO

    def logged_info() -> list[types.LogMessageParams]:
        return [
            m
            for m in client.log_messages
            if m.message.startswith("INFO ollama_lsp.features.listener:")
            and "ollama serve" in m.message
        ]

    await notified_until(client, types.WINDOW_LOG_MESSAGE, lambda: bool(logged_info()))
    assert logged_info()[0].type == types.MessageType.Info
    await client.shutdown_session()
    assert "INFO ollama_lsp" not in capfd.readouterr().err  # stderr reads as [error] in VS Code


async def test_progress_does_not_show_while_only_the_debounce_runs(
    start_lsp: StartLsp, ollama_double, editor: str
) -> None:
    settings = {"completion": {"debounceMs": 1000, "adaptiveDebounce": False}}
    client = await start_lsp(
        inline_client_capabilities(editor), initialization_options={"ollama": settings}
    )
    seen = timed_progress(client)
    open_document(client, URI, DOC)
    ollama_double.script("return a + b")
    asked = time.monotonic()
    items = await inline(client, URI, LINE, CHAR, invoked=False)
    assert [i.insert_text for i in items] == ["return a + b"]
    assert time.monotonic() - asked >= 1.0  # the debounce did run
    assert begins(seen) == []  # a fast model: no progress at all, however long the debounce


async def test_progress_begins_soon_after_the_model_is_asked(
    start_lsp: StartLsp, ollama_double, editor: str
) -> None:
    settings = {"completion": {"debounceMs": 600, "adaptiveDebounce": False}}
    client = await start_lsp(
        inline_client_capabilities(editor), initialization_options={"ollama": settings}
    )
    seen = timed_progress(client)
    open_document(client, URI, DOC)
    ollama_double.script("return a + b")
    ollama_double.latency.first_token_s = 1.5
    await inline(client, URI, LINE, CHAR, invoked=False)
    (call,) = generate_calls(ollama_double)
    (begin,) = begins(seen)
    # The request waited 0.6 s before asking; progress is counted from the ask, and shows
    # while the model is still silent (its first token comes 1.5 s after the ask).
    assert 0.25 <= begin[0] - call.started < 1.5, begin[0] - call.started


async def test_trigger_character_completion_leaves_an_inline_document_to_ghost_text(
    start_lsp: StartLsp, ollama_double, editor: str
) -> None:
    client = await start_lsp(inline_client_capabilities(editor))
    open_document(client, URI, DOC)
    ollama_double.script("return a + b")
    assert [i.insert_text for i in await inline(client, URI, LINE, CHAR, invoked=False)]
    calls = len(generate_calls(ollama_double))

    def completion(kind: types.CompletionTriggerKind) -> Any:
        return client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                position=types.Position(LINE, CHAR),
                context=types.CompletionContext(
                    trigger_kind=kind,
                    trigger_character="\n"
                    if kind == types.CompletionTriggerKind.TriggerCharacter
                    else None,
                ),
            )
        )

    # Enter in VS Code: a completion request alongside the inline one; it must not start a
    # generation of its own (the newer request would supersede the ghost text's).
    answer = await completion(types.CompletionTriggerKind.TriggerCharacter)
    assert isinstance(answer, types.CompletionList) and list(answer.items) == []
    assert len(generate_calls(ollama_double)) == calls
    # An explicit invoke is still answered, from the menu.
    ollama_double.reset_records()
    answer = await completion(types.CompletionTriggerKind.Invoked)
    assert isinstance(answer, types.CompletionList)
    assert [i.label for i in answer.items] == ["return a + b"]


async def test_trigger_character_completion_is_served_without_inline_requests(
    start_lsp: StartLsp, ollama_double, editor: str
) -> None:
    client = await start_lsp(
        inline_client_capabilities(editor)
    )  # e.g. Neovim 0.12 with inline=false
    open_document(client, URI, DOC)
    ollama_double.script("return a + b")
    answer = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(LINE, CHAR),
            context=types.CompletionContext(
                trigger_kind=types.CompletionTriggerKind.TriggerCharacter, trigger_character="\n"
            ),
        )
    )
    assert isinstance(answer, types.CompletionList)
    assert [i.label for i in answer.items] == ["return a + b"]
