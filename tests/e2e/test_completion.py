"""Inline completion end to end: the real server process, a real HTTP double, real editors'
capabilities. Every assertion about what Ollama saw is made on what the double received.

Tests taking ``client`` share the module's server, once per recorded editor (conftest)."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

from ollama_lsp.settings import DEFAULT_MODEL
from tests.ollama_double import OllamaDouble

from .conftest import (
    StartLsp,
    generate_calls,
    inline,
    inline_client_capabilities,
    insert_text,
    open_document,
)

URI = "file:///work/project/calc.py"
DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
LINE, CHAR = 1, 4
PREFIX, SUFFIX = DOC[: DOC.index("    \n") + 4], DOC[DOC.index("    \n") + 4 :]


async def test_codellama_fim_request_carries_prefix_and_suffix_exactly(
    client: LanguageClient, double: OllamaDouble
) -> None:
    open_document(client, URI, DOC)
    double.script("return a + b")
    items = await inline(client, URI, LINE, CHAR)
    assert [i.insert_text for i in items] == ["return a + b"]
    assert items[0].range == types.Range(types.Position(1, 4), types.Position(1, 4))
    assert items[0].command is not None and items[0].command.command == "ollama.accepted"
    (call,) = generate_calls(double)
    assert call.body["model"] == DEFAULT_MODEL
    assert call.body["raw"] is True
    assert call.body["prompt"] == f"<PRE> {PREFIX} <SUF>{SUFFIX} <MID>"
    assert call.rendered_prompt == call.body["prompt"]
    assert "<EOT>" in call.body["options"]["stop"]


async def test_repeat_and_typing_through_make_no_new_calls(
    client: LanguageClient, double: OllamaDouble
) -> None:
    before = await _status(client)  # the module's server: counts from earlier tests
    open_document(client, URI, DOC)
    double.script("return a + b")
    first = await inline(client, URI, LINE, CHAR)
    again = await inline(client, URI, LINE, CHAR)
    assert [i.insert_text for i in again] == [i.insert_text for i in first]
    for n, ch in enumerate("ret", start=1):
        insert_text(client, URI, 1 + n, LINE, CHAR + n - 1, ch)
        items = await inline(client, URI, LINE, CHAR + n, invoked=False)
        assert [i.insert_text for i in items] == ["return a + b"[n:]]
    assert len(generate_calls(double)) == 1
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ollama.accepted", arguments=[URI])
    )
    status = await _status(client)
    assert status["cache"]["typedThrough"] - before["cache"]["typedThrough"] == 3
    assert status["completions"]["accepted"] - before["completions"]["accepted"] == 1


async def test_closing_a_document_drops_its_cached_suggestions(
    client: LanguageClient, double: OllamaDouble
) -> None:
    open_document(client, URI, DOC)
    double.script("return a + b")
    assert await inline(client, URI, LINE, CHAR)
    entries = (await _status(client))["cache"]["entries"]
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    assert (await _status(client))["cache"]["entries"] == entries - 1
    open_document(client, URI, DOC)
    assert await inline(client, URI, LINE, CHAR)
    assert len(generate_calls(double)) == 2  # asked again: nothing of the old one was kept


async def test_cancel_request_closes_the_ollama_stream(
    client: LanguageClient, double: OllamaDouble
) -> None:
    open_document(client, URI, DOC)
    double.script(" ".join(["x"] * 400))
    double.latency.per_token_s = 0.05
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        position=types.Position(LINE, CHAR),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )
    future = asyncio.create_task(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me"
        )
    )
    await double.wait_for_async(
        lambda r: r.path == "/api/generate" and r.chunks_sent >= 1, timeout=5
    )
    client.cancel_request(types.CancelParams(id="cancel-me"))
    record = await double.wait_for_async(lambda r: r.disconnected, timeout=1.0)
    assert record.chunks_sent < 400
    try:
        await asyncio.wait_for(future, 2)
    except Exception as exc:  # the cancelled request is answered with RequestCancelled
        assert "cancel" in str(exc).lower()


async def test_neovim_011_gets_the_suggestion_as_a_completion_item(
    start_lsp: StartLsp, ollama_double
) -> None:
    client = await start_lsp("neovim@v0.11")
    assert client.initialize_result.capabilities.completion_provider is not None
    open_document(client, URI, DOC)
    ollama_double.script("return a + b\n    # done")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(LINE, CHAR),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    assert isinstance(result, types.CompletionList)
    (item,) = result.items
    assert item.label == "return a + b"
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.new_text.startswith("return a + b")
    assert item.text_edit.range.start == types.Position(LINE, CHAR)


async def test_accents_and_emoji_prefix_ends_at_the_cursor(
    start_lsp: StartLsp, ollama_double
) -> None:
    line = "message = 'héllo 😀 wörld' + "
    text = f"def greet():\n    {line}\n"
    for caps, character in (
        (inline_client_capabilities(), len(f"    {line}") + 1),  # utf-16: emoji = 2 units
        ("neovim@v0.11", len(f"    {line}".encode())),  # utf-8 bytes
    ):
        ollama_double.reset_records()
        client = await start_lsp(caps)
        open_document(client, URI, text)
        ollama_double.script("name")
        params = types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(1, character),
        )
        await client.text_document_completion_async(params)
        _steps, (call,) = _split_steps(generate_calls(ollama_double))
        prefix = call.body["prompt"].removeprefix("<PRE> ").split(" <SUF>")[0]
        # token healing takes the space after `+` off the prompt (the model writes " name")
        assert prefix.endswith(line.removesuffix(" ")), (caps, prefix[-40:])


async def test_huge_document_prompt_stays_within_budget(
    client: LanguageClient, double: OllamaDouble
) -> None:
    body = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(70_000))
    assert len(body) > 2_000_000
    text = body + "def target(a, b):\n    \n" + body
    line = body.count("\n") + 1
    open_document(client, URI, text)
    double.script("return a * b")
    items = await inline(client, URI, line, 4)
    assert [i.insert_text for i in items] == ["return a * b"]
    (call,) = generate_calls(double)
    num_ctx = call.body["options"]["num_ctx"]
    assert len(call.body["prompt"]) < num_ctx * 4  # far below the document, within the window
    assert "def target(a, b):\n    " in call.body["prompt"]


async def test_slow_completion_shows_progress_fast_one_does_not(
    client: LanguageClient, double: OllamaDouble
) -> None:
    open_document(client, URI, DOC)
    double.script("return a + b")
    await inline(client, URI, LINE, CHAR)
    assert not client.progress_reports
    double.script("return a - b")
    double.latency.first_token_s = 0.6
    await inline(client, URI, 2, 0)
    (reports,) = client.progress_reports.values()
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert DEFAULT_MODEL in reports[0].title
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)


async def test_invalid_settings_are_named_once(start_lsp: StartLsp, ollama_double) -> None:
    client = await start_lsp(
        inline_client_capabilities(),
        initialization_options={"ollama": {"completion": {"maxTokens": "many", "debounceMs": -1}}},
    )
    open_document(client, URI, DOC)
    ollama_double.script("return a + b")
    assert await inline(client, URI, LINE, CHAR)
    warnings = [m.message for m in client.messages if "invalid settings" in m.message]
    assert len(warnings) == 1
    assert "ollama.completion.maxTokens" in warnings[0]
    assert "ollama.completion.debounceMs" in warnings[0]
    assert generate_calls(ollama_double)[0].body["options"]["num_predict"] == 128


async def test_unknown_document_and_bad_position_get_clear_errors(
    client: LanguageClient, double: OllamaDouble
) -> None:
    try:
        await inline(client, "file:///nope.py", 0, 0)
    except Exception as exc:
        assert "not open" in str(exc)
    else:
        raise AssertionError("an unknown document must be an error")
    open_document(client, URI, DOC)
    try:
        await inline(client, URI, 99, 0)
    except Exception as exc:
        assert "line 99 is past the end" in str(exc)
    else:
        raise AssertionError("a line past the end must be an error")
    assert await inline(client, URI, 0, 999) is not None  # past end of line: clamped per spec


async def _status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ollama.status")
    )


def _split_steps(calls: list) -> tuple[list, list]:
    """One-token guided-healing steps, and the generations of suggestions."""
    steps = [c for c in calls if (c.body.get("options") or {}).get("num_predict") == 1]
    return steps, [c for c in calls if c not in steps]
