"""End-to-end fixtures: the real ``ollama-lsp`` process over stdio, driven by pytest-lsp.

``pytest_lsp.fixture`` starts the server before other fixtures resolve, but the server
needs the double's random port in ``OLLAMA_HOST``; so ``start_lsp`` builds the pytest-lsp
``ClientServerConfig`` at run time instead, and shuts every session down cleanly.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER_COMMAND = [sys.executable, "-m", "ollama_lsp", "--log-level", "INFO"]

StartLsp = Callable[..., Awaitable[LanguageClient]]


def inline_client_capabilities() -> types.ClientCapabilities:
    """A modern client: inline completion, work-done progress, configuration, utf-16."""
    caps = client_capabilities("visual-studio-code")
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(
        dynamic_registration=False
    )
    return caps


@pytest.fixture
async def start_lsp(ollama_double) -> AsyncIterator[StartLsp]:
    """Start ``ollama-lsp`` against the double; returns an initialized pytest-lsp client."""
    clients: list[LanguageClient] = []

    async def start(
        capabilities: types.ClientCapabilities | str = "visual-studio-code",
        *,
        initialization_options: Any = None,
        env: dict[str, str] | None = None,
    ) -> LanguageClient:
        if isinstance(capabilities, str):
            capabilities = client_capabilities(capabilities)
        server_env = {**os.environ, "OLLAMA_HOST": ollama_double.host, **(env or {})}
        config = ClientServerConfig(server_command=SERVER_COMMAND, server_env=server_env)
        client = await config.start()
        clients.append(client)
        client.initialize_result = await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities,
                initialization_options=quiet_background(initialization_options),
            )
        )
        return client

    yield start
    for client in clients:
        if not client.stopped:  # a test may have shut its session down itself
            await client.shutdown_session()
            await client.stop()


#: Background generations (prefill during pauses, speculation after a shown suggestion)
#: are off in these tests unless a test sets them: they add calls at times a test does not
#: control. tests/completion and tests/real test them.
BACKGROUND_OFF = {"prefill": False, "speculate": False}


def quiet_background(options: Any) -> Any:
    """``options`` with the background generations off, unless they are set there."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return options  # a test of malformed options: leave them as they are
    nested = "ollama" in options and isinstance(options["ollama"], dict)
    section = dict(options["ollama"] if nested else options)
    completion = section.get("completion", {})
    if isinstance(completion, dict):
        section["completion"] = {**BACKGROUND_OFF, **completion}
    return {**options, "ollama": section} if nested else section


async def notified_until(
    client: LanguageClient, method: str, condition: Callable[[], object], within: float = 10.0
) -> None:
    """Wait until ``condition()`` holds, checked again as each ``method`` notification arrives.

    The waiter is registered before each check, so a notification arriving between the check
    and the wait is not missed (``client.wait_for_notification`` registers only when awaited).
    """
    async with asyncio.timeout(within):
        while True:
            arrived = client.protocol.wait_for_notification_async(method)
            # pytest-lsp fails waiters left pending at exit: nobody needs to hear about it
            arrived.add_done_callback(lambda f: f.cancelled() or f.exception())
            if condition():
                return
            await asyncio.shield(arrived)  # a timeout must not cancel pytest-lsp's future


def progress_ended(client: LanguageClient, title: str) -> bool:
    """Whether a work-done progress titled ``title`` has begun and ended."""
    return any(
        isinstance(reports[0], types.WorkDoneProgressBegin)
        and reports[0].title == title
        and isinstance(reports[-1], types.WorkDoneProgressEnd)
        for reports in client.progress_reports.values()
        if reports
    )


def generate_calls(double) -> list:
    """Generate requests that asked for text (not warm-up loads, whose prompt is empty)."""
    return [r for r in double.requests_to("/api/generate") if r.body and r.body.get("prompt")]


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


def insert_text(
    client: LanguageClient, uri: str, version: int, line: int, character: int, text: str
) -> None:
    """An incremental didChange inserting ``text`` at (line, character)."""
    at = types.Position(line, character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(at, at), text=text)
            ],
        )
    )


async def inline(
    client: LanguageClient, uri: str, line: int, character: int, *, invoked: bool = True
) -> list[types.InlineCompletionItem]:
    kind = types.InlineCompletionTriggerKind
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line, character),
            context=types.InlineCompletionContext(
                trigger_kind=kind.Invoked if invoked else kind.Automatic
            ),
        )
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)
